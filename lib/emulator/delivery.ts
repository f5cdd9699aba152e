/**
 * Signed result URLs, and the delivery origin serving them, shaped like BFL's Azure blob SAS URLs:
 * `/results/YYYY/MM/DD/<32hex>_sample.<ext>?se=<expiry>&sp=r&sv=2024-11-04&sr=b&rsct=image/<fmt>&sig=<hmac>`.
 * The signature is an HMAC over path and expiry with a secret that lives and dies with the emulator instance.
 */
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Exchange } from './http';
import type { OutputFormat } from './validation';

const SAS_VERSION = '2024-11-04';

export type Verdict = 'ok' | 'expired' | 'bad-signature' | 'malformed';

export interface Blob {
  data: Buffer;
  contentType: string;
  etag: string;
  md5: string;
  lastModified: Date;
}

export function blobPath(completedAt: number, format: OutputFormat): string {
  const date = new Date(completedAt);
  const pad = (n: number) => String(n).padStart(2, '0');
  const day = `${date.getUTCFullYear()}/${pad(date.getUTCMonth() + 1)}/${pad(date.getUTCDate())}`;
  return `/results/${day}/${randomBytes(16).toString('hex')}_sample.${format}`;
}

export function makeBlob(data: Buffer, format: OutputFormat, lastModified: number): Blob {
  return {
    data,
    contentType: `image/${format}`,
    // Azure ETags look like "0x8DE3D5C0F1A2B3C"; derive one from the content so it is stable per blob.
    etag: `"0x8DE${createHash('sha1').update(data).digest('hex').slice(0, 13).toUpperCase()}"`,
    md5: createHash('md5').update(data).digest('base64'),
    lastModified: new Date(lastModified),
  };
}

/** Azure writes `se` to the second; keep that unless a test asked for a sub-second lifetime. */
function formatExpiry(ms: number): string {
  const iso = new Date(ms).toISOString();
  return ms % 1000 === 0 ? iso.replace(/\.000Z$/, 'Z') : iso;
}

export class DeliverySigner {
  private readonly secret = randomBytes(32);
  /** Every URL with an expiry at or before this instant counts as expired (see expireAll). */
  private revokedThrough = -Infinity;
  private latestIssued = -Infinity;
  /** Single links an `expired` fault made expire early: `path\nse`. */
  private readonly revoked = new Set<string>();

  constructor(private readonly ttlMs: number) {}

  private signature(path: string, se: string): string {
    return createHmac('sha256', this.secret).update(`${path}\n${se}`).digest('base64');
  }

  /** Signs `path` valid for the configured lifetime from `from`. */
  sign(path: string, format: OutputFormat, from: number, baseUrl: string): string {
    const wholeSeconds = this.ttlMs % 1000 === 0;
    let expiry = wholeSeconds ? Math.ceil((from + this.ttlMs) / 1000) * 1000 : from + this.ttlMs;
    // A URL signed after expireAll() must not land in the revoked range, or re-polling could never help.
    if (expiry <= this.revokedThrough) expiry = this.revokedThrough + (wholeSeconds ? 1000 : 1);
    // A link signed again within the same second would be the revoked one: move the expiry on.
    while (this.revoked.has(`${path}\n${formatExpiry(expiry)}`)) expiry += wholeSeconds ? 1000 : 1;
    this.latestIssued = Math.max(this.latestIssued, expiry);
    const se = formatExpiry(expiry);
    const sig = this.signature(path, se);
    return (
      `${baseUrl}${path}?se=${encodeURIComponent(se)}&sp=r&sv=${SAS_VERSION}&sr=b` +
      `&rsct=image/${format}&sig=${encodeURIComponent(sig)}`
    );
  }

  verify(path: string, query: URLSearchParams, now = Date.now()): Verdict {
    const se = query.get('se');
    const sig = query.get('sig');
    if (!se || !sig || query.get('sp') !== 'r' || query.get('sr') !== 'b' || !query.get('sv')) return 'malformed';
    const expiry = Date.parse(se);
    if (Number.isNaN(expiry)) return 'malformed';
    const expected = Buffer.from(this.signature(path, se));
    const given = Buffer.from(sig);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'bad-signature';
    if (now > expiry || expiry <= this.revokedThrough || this.revoked.has(`${path}\n${se}`)) return 'expired';
    return 'ok';
  }

  /** This one link is expired from now on, as if its time had run out; a new poll signs a different one. */
  revoke(path: string, query: URLSearchParams): void {
    const se = query.get('se');
    if (se) this.revoked.add(`${path}\n${se}`);
  }

  /** Every URL issued so far is expired from now on. */
  expireAll(): void {
    this.revokedThrough = Math.max(this.revokedThrough, this.latestIssued);
  }
}

function xmlEscape(text: string): string {
  return text.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!,
  );
}

/** Azure Storage's error body; the request id and time lines are part of the real message text. */
function azureErrorXml(code: string, message: string, detail?: string): string {
  const full = `${message}\nRequestId:${randomUUID()}\nTime:${new Date().toISOString().replace('Z', '0000Z')}`;
  return (
    '\uFEFF<?xml version="1.0" encoding="utf-8"?>' +
    `<Error><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(full)}</Message>` +
    (detail ? `<AuthenticationErrorDetail>${xmlEscape(detail)}</AuthenticationErrorDetail>` : '') +
    '</Error>'
  );
}

const AUTH_FAILED_MESSAGE =
  'Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.';

function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

const AZURE_SERVER = 'Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0';

export function azureError(
  ex: Exchange,
  status: number,
  code: string,
  message: string,
  detail?: string,
  extraHeaders: Record<string, string> = {},
): void {
  ex.send(
    status,
    {
      ...extraHeaders,
      'content-type': 'application/xml',
      server: AZURE_SERVER,
      'x-ms-error-code': code,
      'x-ms-request-id': randomUUID(),
      'x-ms-version': SAS_VERSION,
    },
    azureErrorXml(code, message, detail),
  );
}

/**
 * The delivery origin, like an Azure blob behind a SAS: no key needed, any request headers ignored, no CORS
 * headers ever (browsers must not hot-link results), 403 AuthenticationFailed once the signature expired.
 */
export function serveBlob(ex: Exchange, signer: DeliverySigner, blobs: ReadonlyMap<string, Blob>): void {
  const method = ex.req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') {
    azureError(ex, 405, 'UnsupportedHttpVerb', "The resource doesn't support specified Http Verb.");
    return;
  }
  const path = ex.record.path;
  const query = ex.url.searchParams;
  const verdict = signer.verify(path, query);
  if (verdict !== 'ok') {
    let detail: string;
    if (verdict === 'malformed') detail = 'Signature fields not well formed.';
    else if (verdict === 'bad-signature') detail = 'Signature did not match. String to sign used was r';
    else return answerExpired(ex, 403, Date.parse(query.get('se') ?? ''));
    azureError(ex, 403, 'AuthenticationFailed', AUTH_FAILED_MESSAGE, detail);
    return;
  }
  const blob = blobs.get(path);
  if (!blob) return answerExpired(ex, 404);
  ex.send(200, blobHeaders(blob), blob.data);
}

/**
 * What Azure answers for a signed URL that no longer works: 403 AuthenticationFailed once its expiry has passed
 * (`expiredAt`, by default a second ago), or 404 BlobNotFound once the blob was cleaned up.
 */
export function answerExpired(ex: Exchange, status: 403 | 404, expiredAt = Date.now() - 1000): void {
  if (status === 404) return azureError(ex, 404, 'BlobNotFound', 'The specified blob does not exist.');
  const now = httpDate(Date.now());
  const detail = `Signed expiry time [${httpDate(expiredAt)}] must be after signed start time [${now}]`;
  azureError(ex, 403, 'AuthenticationFailed', AUTH_FAILED_MESSAGE, detail);
}

/** The headers Azure sends with a blob; Content-MD5 is the stored blob's, which a client may check. */
function blobHeaders(blob: Blob): Record<string, string | number> {
  return {
    'content-type': blob.contentType,
    'content-length': blob.data.length,
    'content-md5': blob.md5,
    etag: blob.etag,
    'last-modified': httpDate(blob.lastModified.getTime()),
    'accept-ranges': 'bytes',
    server: AZURE_SERVER,
    'x-ms-request-id': randomUUID(),
    'x-ms-version': SAS_VERSION,
    'x-ms-blob-type': 'BlockBlob',
    'x-ms-lease-status': 'unlocked',
    'x-ms-server-encrypted': 'true',
  };
}
