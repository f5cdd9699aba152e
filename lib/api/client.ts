/**
 * The BFL HTTP client: submit a fill, poll a task, download its result, read the credits. One client per
 * account (config node) owns one undici Agent, i.e. one keep-alive pool per origin. Each operation builds its
 * request, sends it through ./exchange, and looks the status up in its table in ./statuses; retry timing lives
 * in ./retry.
 */
import { modelOf, modelPath } from './models';
import { Agent, type Dispatcher } from 'undici';
import { downloadError, networkError, serverError, submitOutcomeUnknownError } from '../errors';
import { text } from '../messages';
import { creditBalance, pollOutcome, queued, submittedTask } from './answers';
import { exchange, failureCode, type Answer, type BodyKind, type ExchangeRequest, type Session } from './exchange';
import { RateGate } from './rate-gate';
import type { ApiEndpoint } from './regions';
import { fillRequestBody, type FillImages, type WebhookRequest } from './request-body';
import { imageProblem } from './result-image';
import {
  DEFAULT_RETRY_POLICY,
  RequestAborted,
  withRetries,
  type Attempt,
  type RequestKind,
  type RetryPolicy,
} from './retry';
import { CREDITS_STATUSES, DOWNLOAD_STATUSES, POLL_STATUSES, SUBMIT_STATUSES, failure, outcomeOf } from './statuses';
import type { FillParameters, PollOutcome, SubmittedTask } from './types';

const CREDITS_PATH = '/v1/credits';
/** Far more than any API answer; a body this large is not an answer from BFL. */
const MAX_JSON_BYTES = 1024 * 1024;
const DEFAULT_MAX_RESULT_BYTES = 100 * 1024 * 1024;

export interface BflClientOptions {
  endpoint: ApiEndpoint;
  apiKey: string;
  retry?: Partial<RetryPolicy>;
  /** Largest result image accepted. */
  maxResultBytes?: number;
  /** Tests and benchmarks may pass their own; by default the client owns one Agent. */
  dispatcher?: Dispatcher;
  /** The account's poll rate; by default the client keeps its own. */
  rateGate?: RateGate;
}

export class BflClient {
  private readonly session: Session;
  private readonly retry: RetryPolicy;
  private readonly maxResultBytes: number;
  private readonly ownsDispatcher: boolean;
  private readonly rateGate: RateGate;

  constructor(options: BflClientOptions) {
    this.rateGate = options.rateGate ?? new RateGate();
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.maxResultBytes = options.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES;
    this.ownsDispatcher = options.dispatcher === undefined;
    const dispatcher =
      options.dispatcher ??
      new Agent({
        keepAliveTimeout: 4_000,
        keepAliveMaxTimeout: 30_000,
        connect: { timeout: 15_000 },
        headersTimeout: 120_000,
        bodyTimeout: 120_000,
      });
    this.session = { dispatcher, endpoint: options.endpoint, apiKey: options.apiKey };
  }

  /**
   * Sends `request` until `interpret` calls an answer done, the retry policy gives up, or `signal` aborts (a
   * RequestAborted). `kind` `task`: the request is about a task that exists, retried as `taskRetries` says.
   * `gate`: every attempt passes it first and tells it what the answer said about the account's rate.
   */
  private send<T, K extends BodyKind>(
    request: ExchangeRequest<K>,
    signal: AbortSignal,
    interpret: (answer: Answer<K>) => Attempt<T> | Promise<Attempt<T>>,
    kind: RequestKind = 'request',
    gate?: RateGate,
  ): Promise<T> {
    return withRetries(
      this.retry,
      signal,
      async () => {
        await gate?.pass(signal);
        const answer = await exchange(this.session, request, signal);
        if (answer.kind !== 'noAnswer') gate?.observe(answer.status, answer.headers);
        return interpret(answer);
      },
      kind,
    );
  }

  /**
   * Submits one task to its model's endpoint (a fill, fine-tuned fill or expand). Sent again only when it provably created no task: a 429, or a connection that never
   * opened. A 5xx, a dropped connection or a timeout after the body left may have been billed: never resent.
   * When the signal ends it, the RequestAborted says whether the body had started to go out (`taskMayExist`).
   * With `webhook`, BFL is asked to announce the task's end there too.
   */
  async submitFill(
    parameters: FillParameters,
    images: FillImages,
    signal: AbortSignal,
    webhook?: WebhookRequest,
  ): Promise<SubmittedTask> {
    const { baseUrl } = this.session.endpoint;
    const body = fillRequestBody(parameters, images, webhook);
    // Set while an attempt's body is out and no answer has proved that it created no task.
    let taskMayExist = false;
    const request: ExchangeRequest<'json'> = {
      method: 'POST',
      url: `${baseUrl}${modelPath(modelOf(parameters.model))}`,
      key: 'if-trusted',
      body: { contentLength: body.contentLength, chunks: () => body.chunks(() => (taskMayExist = true)) },
      read: 'json',
      limit: MAX_JSON_BYTES,
    };
    try {
      return await this.send(request, signal, (answer) => {
        const attempt = this.submitAttempt(answer, baseUrl);
        // Only a submit that provably created no task is retried, so a retry clears the doubt.
        if ('retry' in attempt) taskMayExist = false;
        return attempt;
      });
    } catch (error) {
      if (error instanceof RequestAborted && taskMayExist) {
        throw new RequestAborted(error.cause, error.lastFailure, true);
      }
      throw error;
    }
  }

  private submitAttempt(answer: Answer<'json'>, baseUrl: string): Attempt<SubmittedTask> {
    if (answer.kind === 'noAnswer') {
      if (answer.neverConnected) return { retry: networkError('submitting', answer.cause) };
      throw submitOutcomeUnknownError(answer.cause);
    }
    // A 200 whose body broke off created a task nobody knows; any other status says enough without its body.
    if (answer.kind === 'bodyFailed' && answer.status === 200) throw submitOutcomeUnknownError(answer.cause);
    const outcome = outcomeOf(SUBMIT_STATUSES, answer.status);
    if (outcome === 'success') return { done: submittedTask(answer.body, baseUrl) };
    return failure(outcome, answer, { action: 'submitting' });
  }

  /**
   * Polls a task once (retrying failures, see `taskRetries`) at its polling_url, exactly as given. Returns
   * progress or the Ready result; every other terminal status becomes its BflError. A 200 that is not a task's
   * state is retried as the server failing.
   */
  async poll(taskId: string, pollingUrl: string, signal: AbortSignal): Promise<PollOutcome> {
    const request = this.apiGet(pollingUrl);
    return this.send(
      request,
      signal,
      (answer) => {
        // A poll changes nothing at BFL: a failed connection or a broken body is simply asked again.
        if (answer.kind !== 'answered') return { retry: networkError('polling', answer.cause, taskId) };
        const outcome = outcomeOf(POLL_STATUSES, answer.status);
        if (outcome === 'pending') return { done: queued() };
        if (outcome !== 'success')
          return failure(outcome, answer, { action: 'polling', taskId, keySent: answer.keySent });
        const polled = pollOutcome(taskId, answer.body);
        if (polled !== undefined) return { done: polled };
        const problem = text('server.problem.noStatus');
        return { retry: serverError(answer.status, answer.body, 'polling', taskId, problem), unusable: true };
      },
      'task',
      this.rateGate,
    );
  }

  /**
   * Downloads a signed result URL, never with the key, retrying failures as `taskRetries` says. Answers
   * 'expired' when the URL no longer works (BFL's links last 10 minutes) so the job can poll again for a fresh
   * one. Returns only bytes that decode as a whole image.
   */
  async download(taskId: string, sampleUrl: string, signal: AbortSignal): Promise<Buffer | 'expired'> {
    let url: URL;
    try {
      url = new URL(sampleUrl);
    } catch {
      throw downloadError(taskId, text('download.reason.notUrl'));
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw downloadError(taskId, text('download.reason.notHttp'));
    }
    const request: ExchangeRequest<'bytes'> = {
      method: 'GET',
      url,
      key: 'never',
      read: 'bytes',
      limit: this.maxResultBytes,
    };
    return this.send(request, signal, (answer) => this.downloadAttempt(taskId, answer), 'task');
  }

  private async downloadAttempt(taskId: string, answer: Answer<'bytes'>): Promise<Attempt<Buffer | 'expired'>> {
    if (answer.kind === 'noAnswer') {
      const reason = text('download.reason.network', { code: failureCode(answer.cause) });
      return { retry: downloadError(taskId, reason, undefined, answer.cause) };
    }
    if (answer.kind === 'bodyFailed') {
      // Asking again would bring the same oversized image.
      if (answer.tooLarge) {
        throw downloadError(taskId, text('download.reason.tooLarge', { bytes: this.maxResultBytes }), answer.status);
      }
      return { retry: downloadError(taskId, text('download.reason.brokeOff', { code: failureCode(answer.cause) })) };
    }
    const outcome = outcomeOf(DOWNLOAD_STATUSES, answer.status);
    if (outcome === 'expired') return { done: 'expired' };
    if (outcome !== 'success') return failure(outcome, answer, { action: 'downloading', taskId });
    const image = answer.body;
    if (!image?.length) {
      return { retry: downloadError(taskId, text('download.reason.empty'), answer.status), unusable: true };
    }
    // Only bytes that decode count as the result: a short blob can look like a whole answer.
    const problem = await imageProblem(image);
    if (problem === undefined) return { done: image };
    const reason = text('download.reason.incomplete', { reason: problem });
    return { retry: downloadError(taskId, reason, answer.status), unusable: true };
  }

  /** The account's credits (GET /v1/credits). */
  async credits(signal: AbortSignal): Promise<number> {
    const request = this.apiGet(`${this.session.endpoint.baseUrl}${CREDITS_PATH}`);
    return this.send(request, signal, (answer) => {
      // Like a poll, reading the credits changes nothing: a failed connection or broken body is asked again.
      if (answer.kind !== 'answered') return { retry: networkError('credits', answer.cause) };
      const outcome = outcomeOf(CREDITS_STATUSES, answer.status);
      if (outcome === 'success') return { done: creditBalance(answer.body) };
      return failure(outcome, answer, { action: 'credits' });
    });
  }

  private apiGet(url: string): ExchangeRequest<'json'> {
    return { method: 'GET', url, key: 'if-trusted', read: 'json', limit: MAX_JSON_BYTES };
  }

  /** Closes the connection pools; in-flight requests should have been aborted first. */
  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.session.dispatcher.destroy();
  }
}
