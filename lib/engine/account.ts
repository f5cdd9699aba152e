/**
 * An account as a bfl-config node describes it: region, base URL, key and concurrency, turned into a ready
 * FillService. The `emulator` region starts the built-in emulator in this process on a free loopback port;
 * one emulator serves every config node that uses it and stops when the last one closes.
 */
import { cancelledError, emulatorStartError, invalidInput, noKeyError } from '../errors';
import {
  bflRegionEndpoint,
  customEndpoint,
  emulatorEndpoint,
  isRegion,
  normaliseBaseUrl,
  type ApiEndpoint,
  type Region,
} from '../api/regions';
import type { RetryPolicy } from '../api/retry';
import { BflEmulator, DEFAULT_EMULATOR_KEY, type EmulatorOptions } from '../emulator';
import { text } from '../messages';
import { FillService } from './service';
import type { PollSchedule } from './schedule';

export const MAX_CONCURRENT_LIMIT = 24;

export interface AccountSettings {
  region: unknown;
  baseUrl: unknown;
  apiKey: unknown;
  maxConcurrent: unknown;
}

export interface AccountTuning {
  retry?: Partial<RetryPolicy>;
  pollSchedule?: Partial<PollSchedule>;
  maxQueued?: number;
  /** Options for the in-process emulator of the `emulator` region (first user decides). */
  emulator?: EmulatorOptions;
}

export interface ResolvedAccount {
  region: Region;
  /** Undefined for the emulator region until it has started. */
  baseUrl: string | undefined;
  apiKey: string;
  maxConcurrent: number;
}

/** Checks the config node's settings; problems are errors a user fixes in the config dialog. */
export function resolveAccount(settings: AccountSettings): ResolvedAccount {
  const region: Region =
    settings.region === undefined || settings.region === '' ? 'global' : (settings.region as Region);
  if (!isRegion(region)) {
    throw invalidInput(text('config.unknownRegion', { region: String(settings.region) }));
  }
  const apiKey = typeof settings.apiKey === 'string' ? settings.apiKey.trim() : '';
  if (apiKey === '' && region !== 'emulator') {
    throw noKeyError();
  }
  const requested =
    settings.maxConcurrent === undefined || settings.maxConcurrent === ''
      ? MAX_CONCURRENT_LIMIT
      : Number(settings.maxConcurrent);
  if (!Number.isInteger(requested) || requested < 1 || requested > MAX_CONCURRENT_LIMIT) {
    throw invalidInput(text('config.maxConcurrent', { max: MAX_CONCURRENT_LIMIT }));
  }
  let baseUrl: string | undefined;
  if (region === 'custom') {
    baseUrl = typeof settings.baseUrl === 'string' ? normaliseBaseUrl(settings.baseUrl) : undefined;
    if (!baseUrl) throw invalidInput(text('config.baseUrl'));
  } else if (region !== 'emulator') {
    baseUrl = bflRegionEndpoint(region).baseUrl;
  }
  return { region, baseUrl, apiKey: apiKey || DEFAULT_EMULATOR_KEY, maxConcurrent: requested };
}

interface SharedEmulator {
  emulator: Promise<BflEmulator>;
  users: number;
}

let sharedEmulator: SharedEmulator | undefined;

/** The in-process emulator of the `emulator` region, if one is running (tests inspect it). */
export function runningLocalEmulator(): Promise<BflEmulator> | undefined {
  return sharedEmulator?.emulator;
}

function leaseEmulator(options: EmulatorOptions | undefined): {
  emulator: Promise<BflEmulator>;
  release: () => Promise<void>;
} {
  if (!sharedEmulator) {
    const started = BflEmulator.start({ host: '127.0.0.1', port: 0, ...options });
    sharedEmulator = { emulator: started, users: 0 };
    // A failed start must not linger as the shared instance for later config nodes.
    started.catch(() => {
      if (sharedEmulator?.emulator === started) sharedEmulator = undefined;
    });
  }
  const lease = sharedEmulator;
  lease.users += 1;
  let released = false;
  return {
    emulator: lease.emulator,
    release: async () => {
      if (released) return;
      released = true;
      lease.users -= 1;
      if (lease.users > 0) return;
      if (sharedEmulator === lease) sharedEmulator = undefined;
      const emulator = await lease.emulator.catch(() => undefined);
      await emulator?.close();
    },
  };
}

/**
 * A config node's live account. `service()` waits for the emulator when there is one; close() stops the
 * connection pools and releases the emulator.
 */
export class Account {
  readonly settings: ResolvedAccount;
  private readonly servicePromise: Promise<FillService>;
  private releaseEmulator: (() => Promise<void>) | undefined;
  private closed = false;

  constructor(settings: AccountSettings, tuning: AccountTuning = {}) {
    this.settings = resolveAccount(settings);
    const { region, apiKey, maxConcurrent } = this.settings;
    const endpointPromise = this.endpointFor(region, tuning);
    this.servicePromise = endpointPromise.then(
      (endpoint) =>
        new FillService({
          endpoint,
          apiKey,
          maxConcurrent,
          maxQueued: tuning.maxQueued,
          retry: tuning.retry,
          pollSchedule: tuning.pollSchedule,
        }),
    );
    // Callers await service(); this keeps a failed emulator start from being an unhandled rejection meanwhile.
    this.servicePromise.catch(() => undefined);
  }

  get emulated(): boolean {
    return this.settings.region === 'emulator';
  }

  private async endpointFor(region: Region, tuning: AccountTuning): Promise<ApiEndpoint> {
    if (region === 'emulator') {
      const lease = leaseEmulator(tuning.emulator);
      this.releaseEmulator = lease.release;
      let emulator: BflEmulator;
      try {
        emulator = await lease.emulator;
      } catch (error) {
        throw emulatorStartError(error);
      }
      return emulatorEndpoint(emulator);
    }
    if (region === 'custom') return customEndpoint(this.settings.baseUrl!);
    return bflRegionEndpoint(region);
  }

  async service(): Promise<FillService> {
    if (this.closed) throw cancelledError();
    return this.servicePromise;
  }

  /** A description of where requests go, for logs and status (never the key). */
  async origin(): Promise<string> {
    if (this.settings.region !== 'emulator') return this.settings.baseUrl!;
    const emulator = await runningLocalEmulator();
    return emulator?.apiUrl ?? 'emulator';
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const service = await this.servicePromise.catch(() => undefined);
    await service?.close();
    await this.releaseEmulator?.();
  }
}
