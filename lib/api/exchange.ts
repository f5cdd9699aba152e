/**
 * One request and its answer: the only place a request is sent. It sets the headers (the key only where
 * mayReceiveKey allows it), reads the body within a limit, and turns every way a request can fail into a value
 * the caller can judge: no answer at all (and whether the connection ever opened), or a status whose body did
 * not arrive whole. What a status means is the status tables' business (./statuses); when to try again is the
 * retry policy's (./retry).
 */
import { request as undiciRequest, type Dispatcher } from 'undici';
import { USER_AGENT } from '../package-info';
import { mayReceiveKey, type ApiEndpoint } from './regions';
import type { StreamedBody } from './request-body';

export type ResponseHeaders = Dispatcher.ResponseData['headers'];
type ResponseBody = Dispatcher.ResponseData['body'];

/**
 * Failures where the request provably never reached the server, so even a submit may be sent again. Anything
 * else (a reset, a timeout, a socket closed mid-answer) may have happened after the server took the request.
 */
const NEVER_CONNECTED_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** What the client and its requests share: one connection pool, the endpoint that decides who sees the key. */
export interface Session {
  dispatcher: Dispatcher;
  endpoint: ApiEndpoint;
  apiKey: string;
}

/**
 * `json`: every answer's body, parsed (an API error's `detail` says what went wrong). `bytes`: the body of a 200
 * only; any other answer's body is discarded, since a delivery host's error page says nothing its status does not.
 */
export type BodyKind = 'json' | 'bytes';

export interface ExchangeRequest<K extends BodyKind = BodyKind> {
  method: 'GET' | 'POST';
  url: string | URL;
  /** `never` for delivery URLs: they are signed and need no key, and the key must not leave the API's hosts. */
  key: 'if-trusted' | 'never';
  /** A JSON request body; a fresh stream per attempt, so a retried request can send it again. */
  body?: StreamedBody;
  read: K;
  /** Most bytes of body accepted. */
  limit: number;
}

type BodyOf<K extends BodyKind> = K extends 'bytes' ? Buffer | undefined : unknown;

export type Answer<K extends BodyKind = BodyKind> =
  | {
      kind: 'answered';
      status: number;
      headers: ResponseHeaders;
      /** Parsed JSON, or the first 300 characters of a body that is not JSON, or undefined when empty. */
      body: BodyOf<K>;
      keySent: boolean;
    }
  | {
      /** A status line came, but the body broke off or was larger than the limit. */
      kind: 'bodyFailed';
      status: number;
      headers: ResponseHeaders;
      body: undefined;
      tooLarge: boolean;
      cause: unknown;
      keySent: boolean;
    }
  | {
      /** No status line. `neverConnected`: the request surely did not reach the server. */
      kind: 'noAnswer';
      neverConnected: boolean;
      cause: unknown;
      keySent: boolean;
    };

class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`response body larger than ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

export function headerValue(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** The `code`s along an error's cause chain: undici wraps socket errors, so the telling code may be inside. */
function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}

/** The outermost code of a network failure (ECONNRESET, UND_ERR_SOCKET, ...), else the error as text. */
export function failureCode(error: unknown): string {
  return errorCodes(error)[0] ?? String(error);
}

function neverConnected(error: unknown): boolean {
  return errorCodes(error).some((code) => NEVER_CONNECTED_CODES.has(code));
}

/** Reads a body into one Buffer, refusing more than `limit` bytes (checked before and while reading). */
async function readBytes(body: ResponseBody, headers: ResponseHeaders, limit: number): Promise<Buffer> {
  const declared = Number(headerValue(headers, 'content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await body.dump();
    throw new BodyTooLargeError(limit);
  }
  // With a declared length the bytes go straight into place: no second copy of a big image at the end.
  let whole = Number.isSafeInteger(declared) && declared > 0 ? Buffer.allocUnsafe(declared) : undefined;
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    if (length + buffer.length > limit) {
      body.destroy();
      throw new BodyTooLargeError(limit);
    }
    if (whole && length + buffer.length <= whole.length) buffer.copy(whole, length);
    else {
      // More than declared (undici refuses that, but a body is not trusted): kept as it came from here on.
      if (whole) chunks.push(whole.subarray(0, length));
      whole = undefined;
      chunks.push(buffer);
    }
    length += buffer.length;
  }
  if (whole) return length === whole.length ? whole : whole.subarray(0, length);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
}

/** Anything unparseable comes back as its text, so error messages can quote what the server said. */
async function readJson(body: ResponseBody, headers: ResponseHeaders, limit: number): Promise<unknown> {
  const text = (await readBytes(body, headers, limit)).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text.slice(0, 300);
  }
}

/** Releases the socket of a response whose body is not needed. */
async function discard(body: ResponseBody): Promise<void> {
  try {
    await body.dump();
  } catch {
    // The connection is going away anyway; the status already said all there is.
  }
}

function requestHeaders(session: Session, request: ExchangeRequest): Record<string, string> {
  const headers: Record<string, string> = { 'user-agent': USER_AGENT };
  if (request.read === 'json') headers.accept = 'application/json';
  if (request.body) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(request.body.contentLength);
  }
  if (request.key === 'if-trusted' && mayReceiveKey(session.endpoint, request.url)) headers['x-key'] = session.apiKey;
  return headers;
}

/**
 * Sends one request and reads its answer. An abort (timeout or cancellation of the job) is rethrown untouched,
 * so the job can say which it was; every other failure comes back as an Answer.
 */
export async function exchange<K extends BodyKind>(
  session: Session,
  request: ExchangeRequest<K>,
  signal: AbortSignal,
): Promise<Answer<K>> {
  const headers = requestHeaders(session, request);
  const keySent = 'x-key' in headers;
  let response: Dispatcher.ResponseData;
  try {
    response = await undiciRequest(request.url, {
      method: request.method,
      dispatcher: session.dispatcher,
      headers,
      ...(request.body ? { body: request.body.chunks() } : {}),
      signal,
    });
  } catch (error) {
    if (signal.aborted) throw error;
    return { kind: 'noAnswer', neverConnected: neverConnected(error), cause: error, keySent };
  }
  const { statusCode: status, headers: responseHeaders } = response;
  try {
    let body: unknown;
    if (request.read === 'json') body = await readJson(response.body, responseHeaders, request.limit);
    else if (status === 200) body = await readBytes(response.body, responseHeaders, request.limit);
    else await discard(response.body);
    return { kind: 'answered', status, headers: responseHeaders, body: body as BodyOf<K>, keySent };
  } catch (error) {
    if (signal.aborted) throw error;
    const tooLarge = error instanceof BodyTooLargeError;
    return { kind: 'bodyFailed', status, headers: responseHeaders, body: undefined, tooLarge, cause: error, keySent };
  }
}
