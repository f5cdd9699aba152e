/**
 * The BFL HTTP client: submit a fill, poll a task, download its result, read the credits. One client per
 * account (config node) owns one undici Agent, i.e. one keep-alive pool per origin. Every answer is turned
 * into a value or a BflError here; retry timing lives in ./retry.
 */
import { Agent, request, type Dispatcher } from 'undici';
import {
  authError,
  creditsError,
  downloadError,
  networkError,
  polledWithoutKeyError,
  rateLimitedError,
  requestModeratedError,
  contentModeratedError,
  serverError,
  submitOutcomeUnknownError,
  taskFailedError,
  taskNotFoundError,
  validationError,
} from '../errors';
import { BodyTooLargeError, discard, headerValue, readBody, readJson } from './http';
import { mayReceiveKey, type ApiEndpoint } from './regions';
import { fillRequestBody, type FillImages } from './request-body';
import { DEFAULT_RETRY_POLICY, withRetries, type Attempt, type RetryPolicy } from './retry';
import type { FillParameters, PollOutcome, SubmittedTask } from './types';
import { text } from '../messages';
import { USER_AGENT } from '../package-info';

const FILL_PATH = '/v1/flux-pro-1.0-fill';
const CREDITS_PATH = '/v1/credits';
const MAX_JSON_BYTES = 1024 * 1024;
const DEFAULT_MAX_RESULT_BYTES = 100 * 1024 * 1024;

/** Failures where the request provably never reached the server, so even a submit may be sent again. */
const NEVER_CONNECTED_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Statuses a polling or download GET may retry. */
function isTransientStatus(status: number): boolean {
  return status === 429 || status >= 500;
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

function errorCode(error: unknown): string | undefined {
  return errorCodes(error)[0];
}

function neverConnected(error: unknown): boolean {
  return errorCodes(error).some((code) => NEVER_CONNECTED_CODES.has(code));
}

function detailOf(body: unknown): unknown {
  if (body && typeof body === 'object' && 'detail' in body) return (body as { detail: unknown }).detail;
  return body;
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function numberOrUndefined(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function moderationReasons(details: unknown): string[] | undefined {
  if (!details || typeof details !== 'object') return undefined;
  const reasons = (details as Record<string, unknown>)['Moderation Reasons'];
  return Array.isArray(reasons) ? reasons.map(String) : undefined;
}

/** Rethrows aborts untouched so the job can say "timeout" or "cancelled" itself. */
function rethrowAbort(error: unknown, signal: AbortSignal): void {
  if (signal.aborted) throw error;
}

export interface BflClientOptions {
  endpoint: ApiEndpoint;
  apiKey: string;
  retry?: Partial<RetryPolicy>;
  /** Largest result image accepted. */
  maxResultBytes?: number;
  /** Tests and benchmarks may pass their own; by default the client owns one Agent. */
  dispatcher?: Dispatcher;
}

export class BflClient {
  private readonly endpoint: ApiEndpoint;
  private readonly apiKey: string;
  private readonly retry: RetryPolicy;
  private readonly maxResultBytes: number;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;

  constructor(options: BflClientOptions) {
    this.endpoint = options.endpoint;
    this.apiKey = options.apiKey;
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.maxResultBytes = options.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES;
    this.ownsDispatcher = options.dispatcher === undefined;
    this.dispatcher =
      options.dispatcher ??
      new Agent({
        keepAliveTimeout: 4_000,
        keepAliveMaxTimeout: 30_000,
        connect: { timeout: 15_000 },
        headersTimeout: 120_000,
        bodyTimeout: 120_000,
      });
  }

  /** True when this client talks to the built-in emulator (nothing is billed). */
  get emulated(): boolean {
    return this.endpoint.emulated;
  }

  private headersFor(target: string, json: boolean): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': USER_AGENT };
    if (json) headers['content-type'] = 'application/json';
    if (mayReceiveKey(this.endpoint, target)) headers['x-key'] = this.apiKey;
    return headers;
  }

  /**
   * Submits one fill. Sent again only when it provably created no task: a 429, or a connection that never
   * opened. A 5xx, a dropped connection or a timeout after the body left may have been billed: never resent.
   */
  async submitFill(parameters: FillParameters, images: FillImages, signal: AbortSignal): Promise<SubmittedTask> {
    const url = `${this.endpoint.baseUrl}${FILL_PATH}`;
    const body = fillRequestBody(parameters, images);
    return withRetries(this.retry, signal, async (): Promise<Attempt<SubmittedTask>> => {
      let response: Dispatcher.ResponseData;
      try {
        response = await request(url, {
          method: 'POST',
          dispatcher: this.dispatcher,
          headers: { ...this.headersFor(url, true), 'content-length': String(body.contentLength) },
          body: body.chunks(),
          signal,
        });
      } catch (error) {
        rethrowAbort(error, signal);
        if (neverConnected(error)) return { retry: networkError('submitting', error) };
        throw submitOutcomeUnknownError(error);
      }
      const { statusCode, headers } = response;
      let payload: unknown;
      try {
        payload = await readJson(response.body, headers, MAX_JSON_BYTES);
      } catch (error) {
        rethrowAbort(error, signal);
        if (statusCode === 200) throw submitOutcomeUnknownError(error);
        payload = undefined;
      }
      if (statusCode === 200) return { done: this.parseSubmitted(payload) };
      const detail = detailOf(payload);
      if (statusCode === 429) {
        return { retry: rateLimitedError(detail), retryAfter: headerValue(headers, 'retry-after'), rateLimited: true };
      }
      if (statusCode === 401 || statusCode === 403) throw authError(statusCode, detail);
      // BFL checks the key's format before the body and answers 422 for a malformed key.
      if (statusCode === 422 && typeof detail === 'string' && /api key/i.test(detail)) {
        throw authError(statusCode, detail);
      }
      if (statusCode === 402) throw creditsError(detail);
      if (statusCode >= 400 && statusCode < 500) throw validationError(statusCode, detail);
      throw serverError(statusCode, detail, 'submitting');
    });
  }

  private parseSubmitted(payload: unknown): SubmittedTask {
    const body = (payload ?? {}) as Record<string, unknown>;
    const id = body.id;
    if (typeof id !== 'string' || id === '') {
      throw submitOutcomeUnknownError(undefined, text('network.problem.noTaskId'));
    }
    // The webhook-style answer has no polling_url; the documented generic form is the fallback.
    const pollingUrl =
      typeof body.polling_url === 'string' && body.polling_url !== ''
        ? body.polling_url
        : `${this.endpoint.baseUrl}/v1/get_result?id=${encodeURIComponent(id)}`;
    return {
      id,
      pollingUrl,
      cost: numberOrNull(body.cost),
      inputMp: numberOrNull(body.input_mp),
      outputMp: numberOrNull(body.output_mp),
    };
  }

  /**
   * Polls a task once (retrying transient failures) at its polling_url, exactly as given. Returns progress or
   * the Ready result; every other terminal status becomes its BflError.
   */
  async poll(taskId: string, pollingUrl: string, signal: AbortSignal): Promise<PollOutcome> {
    const headers = this.headersFor(pollingUrl, false);
    const keySent = 'x-key' in headers;
    return withRetries(this.retry, signal, async (): Promise<Attempt<PollOutcome>> => {
      let response: Dispatcher.ResponseData;
      try {
        response = await request(pollingUrl, { method: 'GET', dispatcher: this.dispatcher, headers, signal });
      } catch (error) {
        rethrowAbort(error, signal);
        return { retry: networkError('polling', error, taskId) };
      }
      const { statusCode } = response;
      let payload: unknown;
      try {
        payload = await readJson(response.body, response.headers, MAX_JSON_BYTES);
      } catch (error) {
        rethrowAbort(error, signal);
        return { retry: networkError('polling', error, taskId) };
      }
      const retryAfter = headerValue(response.headers, 'retry-after');
      if (statusCode === 404) throw taskNotFoundError(taskId);
      if (statusCode === 401 || statusCode === 403) {
        if (keySent) throw authError(statusCode, detailOf(payload), taskId);
        throw polledWithoutKeyError(statusCode, detailOf(payload), taskId);
      }
      if (isTransientStatus(statusCode)) {
        const error =
          statusCode === 429
            ? rateLimitedError(detailOf(payload), taskId)
            : serverError(statusCode, detailOf(payload), 'polling', taskId);
        return { retry: error, retryAfter, rateLimited: statusCode === 429 };
      }
      if (statusCode === 202)
        return { done: { kind: 'in-progress', state: { status: 'Pending', progress: undefined } } };
      if (statusCode !== 200) throw serverError(statusCode, detailOf(payload), 'polling', taskId);
      return { done: this.interpretPoll(taskId, payload) };
    });
  }

  private interpretPoll(taskId: string, payload: unknown): PollOutcome {
    const body = (payload && typeof payload === 'object' ? payload : {}) as Record<string, unknown>;
    const status = typeof body.status === 'string' ? body.status : '';
    switch (status) {
      case 'Ready': {
        const result = (body.result && typeof body.result === 'object' ? body.result : {}) as Record<string, unknown>;
        const sample = result.sample;
        if (typeof sample !== 'string' || sample === '') {
          throw downloadError(taskId, text('download.reason.noSample'));
        }
        const start = numberOrUndefined(result.start_time);
        const end = numberOrUndefined(result.end_time);
        return {
          kind: 'ready',
          result: {
            sampleUrl: sample,
            prompt: typeof result.prompt === 'string' ? result.prompt : undefined,
            seed: numberOrUndefined(result.seed),
            duration:
              numberOrUndefined(result.duration) ??
              (start !== undefined && end !== undefined ? end - start : undefined),
            cost: numberOrUndefined(body.cost),
          },
        };
      }
      case 'Request Moderated':
        throw requestModeratedError(taskId, moderationReasons(body.details));
      case 'Content Moderated':
        throw contentModeratedError(taskId, moderationReasons(body.details));
      case 'Error':
      case 'Failed':
        throw taskFailedError(taskId, status, body.details ?? body.result);
      case 'Task not found':
        throw taskNotFoundError(taskId);
      default: {
        // Pending, and in-progress words of newer models (Reasoning, Generating): keep polling; the deadline ends it.
        const progress = numberOrUndefined(body.progress);
        return {
          kind: 'in-progress',
          state: {
            status: status || 'Pending',
            progress: progress === undefined ? undefined : progress > 1 ? progress / 100 : progress,
          },
        };
      }
    }
  }

  /**
   * Downloads a signed result URL, never with the key. Answers 'expired' when the URL no longer works
   * (BFL's links last 10 minutes) so the job can poll again for a fresh one.
   */
  async download(taskId: string, sampleUrl: string, signal: AbortSignal): Promise<Buffer | 'expired'> {
    let url: URL;
    try {
      url = new URL(sampleUrl);
    } catch {
      throw downloadError(taskId, text('download.reason.notUrl'));
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw downloadError(taskId, text('download.reason.notHttp'));
    return withRetries(this.retry, signal, async (): Promise<Attempt<Buffer | 'expired'>> => {
      let response: Dispatcher.ResponseData;
      try {
        response = await request(url, {
          method: 'GET',
          dispatcher: this.dispatcher,
          headers: { 'user-agent': USER_AGENT },
          signal,
        });
      } catch (error) {
        rethrowAbort(error, signal);
        return {
          retry: downloadError(
            taskId,
            text('download.reason.network', { code: errorCode(error) ?? String(error) }),
            undefined,
            error,
          ),
        };
      }
      const { statusCode, headers } = response;
      if (statusCode === 200) {
        try {
          const image = await readBody(response.body, headers, this.maxResultBytes);
          if (image.length === 0) return { retry: downloadError(taskId, text('download.reason.empty'), statusCode) };
          return { done: image };
        } catch (error) {
          rethrowAbort(error, signal);
          if (error instanceof BodyTooLargeError) {
            throw downloadError(taskId, text('download.reason.tooLarge', { bytes: error.limit }), statusCode);
          }
          return {
            retry: downloadError(taskId, text('download.reason.brokeOff', { code: errorCode(error) ?? String(error) })),
          };
        }
      }
      await discard(response.body);
      if (statusCode === 401 || statusCode === 403 || statusCode === 404 || statusCode === 410) {
        return { done: 'expired' };
      }
      const error = downloadError(taskId, text('http.status', { status: statusCode }), statusCode);
      if (isTransientStatus(statusCode)) {
        return { retry: error, retryAfter: headerValue(headers, 'retry-after'), rateLimited: statusCode === 429 };
      }
      throw error;
    });
  }

  /** The account's credits (GET /v1/credits). */
  async credits(signal: AbortSignal): Promise<number> {
    const url = `${this.endpoint.baseUrl}${CREDITS_PATH}`;
    return withRetries(this.retry, signal, async (): Promise<Attempt<number>> => {
      let response: Dispatcher.ResponseData;
      try {
        response = await request(url, {
          method: 'GET',
          dispatcher: this.dispatcher,
          headers: this.headersFor(url, false),
          signal,
        });
      } catch (error) {
        rethrowAbort(error, signal);
        return { retry: networkError('credits', error) };
      }
      const payload = await readJson(response.body, response.headers, MAX_JSON_BYTES);
      const { statusCode } = response;
      const detail = detailOf(payload);
      if (statusCode === 200) {
        const credits = (payload as { credits?: unknown } | undefined)?.credits;
        if (typeof credits === 'number') return { done: credits };
        throw serverError(statusCode, undefined, 'credits', undefined, text('server.problem.noCredits'));
      }
      if (statusCode === 401 || statusCode === 403 || statusCode === 422) throw authError(statusCode, detail);
      if (isTransientStatus(statusCode)) {
        return {
          retry: statusCode === 429 ? rateLimitedError(detail) : serverError(statusCode, detail, 'credits'),
          retryAfter: headerValue(response.headers, 'retry-after'),
        };
      }
      throw serverError(statusCode, detail, 'credits');
    });
  }

  /** Closes the connection pools; in-flight requests should have been aborted first. */
  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.destroy();
  }
}
