/**
 * Where requests go, and which origins may see the API key. The key travels only to the configured API origin
 * and, for BFL's own regions, to https hosts under bfl.ai (the polling_url names a cluster host such as
 * api.eu2.bfl.ai). It never goes to a delivery URL: downloads never carry it at all.
 */

export type Region = 'global' | 'eu' | 'us' | 'custom' | 'emulator';

export const REGIONS: readonly Region[] = ['global', 'eu', 'us', 'custom', 'emulator'];

const BFL_BASE_URLS: Record<'global' | 'eu' | 'us', string> = {
  global: 'https://api.bfl.ai',
  eu: 'https://api.eu.bfl.ai',
  us: 'https://api.us.bfl.ai',
};

export interface ApiEndpoint {
  /** Origin plus optional path prefix, no trailing slash; `/v1/...` is appended. */
  baseUrl: string;
  /** Origins (scheme://host:port) that may receive the key besides the base URL's own. */
  trustedOrigins: readonly string[];
  /** Whether https hosts under bfl.ai may receive the key (true for BFL's own regions). */
  trustBflHosts: boolean;
  /** True for the built-in emulator: nothing is billed. */
  emulated: boolean;
  /** Origins whose result URLs a webhook may name besides BFL's delivery hosts (the emulator's delivery host). */
  deliveryOrigins?: readonly string[];
}

export function isRegion(value: unknown): value is Region {
  return typeof value === 'string' && (REGIONS as readonly string[]).includes(value);
}

/**
 * Normalises a user-typed custom base URL: http(s) only, no query or fragment, no trailing slash, and a
 * trailing `/v1` dropped because the client appends `/v1/...` itself. Returns undefined when unusable.
 */
export function normaliseBaseUrl(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username || url.password) return undefined;
  const path = url.pathname.replace(/\/+$/, '').replace(/\/v1$/, '');
  return `${url.origin}${path}`;
}

export function bflRegionEndpoint(region: 'global' | 'eu' | 'us'): ApiEndpoint {
  return { baseUrl: BFL_BASE_URLS[region], trustedOrigins: [], trustBflHosts: true, emulated: false };
}

/**
 * The built-in emulator: its API origin, and its cluster origin (where its polling URLs point) may see the key,
 * as BFL's cluster hosts may for the real regions.
 */
export function emulatorEndpoint(origins: { apiUrl: string; clusterUrl: string; deliveryUrl?: string }): ApiEndpoint {
  return {
    baseUrl: origins.apiUrl,
    trustedOrigins: [origins.clusterUrl],
    trustBflHosts: false,
    emulated: true,
    deliveryOrigins: origins.deliveryUrl === undefined ? [] : [new URL(origins.deliveryUrl).origin],
  };
}

export function customEndpoint(baseUrl: string): ApiEndpoint {
  return { baseUrl, trustedOrigins: [], trustBflHosts: false, emulated: false };
}

function isBflApiHost(url: URL): boolean {
  const host = url.hostname.toLowerCase();
  const underBfl = host === 'bfl.ai' || host.endsWith('.bfl.ai');
  // Delivery hosts (delivery.*.bfl.ai) serve signed URLs that need no key; keep it away from them too.
  return url.protocol === 'https:' && underBfl && !host.startsWith('delivery');
}

/** Whether a request to `target` may carry the x-key header. */
export function mayReceiveKey(endpoint: ApiEndpoint, target: string | URL): boolean {
  let url: URL;
  try {
    url = typeof target === 'string' ? new URL(target) : target;
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  const origin = url.origin;
  if (origin === new URL(endpoint.baseUrl).origin) return true;
  if (endpoint.trustedOrigins.includes(origin)) return true;
  return endpoint.trustBflHosts && isBflApiHost(url);
}

/** BFL's result hosts: delivery.*.bfl.ai as documented, and the Azure blob stores seen in real answers. */
function isBflDeliveryHost(url: URL): boolean {
  const host = url.hostname.toLowerCase();
  const bflDelivery = host.endsWith('.bfl.ai') && host.startsWith('delivery');
  const azureBlob = /^bfldelivery[a-z0-9-]*\.blob\.core\.windows\.net$/.test(host);
  return url.protocol === 'https:' && (bflDelivery || azureBlob);
}

/**
 * Whether a result URL that came in a webhook may be downloaded. A webhook is news, not an authority: the URLs a
 * poll answers come from the API itself, but a webhook's could name any host, so only BFL's delivery hosts (and
 * for custom and emulated endpoints their own origins) are fetched; anything else is asked for by a poll.
 */
export function mayDeliverFromWebhook(endpoint: ApiEndpoint, target: string): boolean {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return false;
  if (endpoint.deliveryOrigins?.includes(url.origin)) return true;
  if (!endpoint.trustBflHosts && !endpoint.emulated && url.origin === new URL(endpoint.baseUrl).origin) return true;
  return isBflDeliveryHost(url);
}
