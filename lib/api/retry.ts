/**
 * The one place that decides how long to wait before trying a request again, and when to stop. Callers say, per
 * attempt, whether it is done or worth retrying; this module owns backoff, jitter, Retry-After, the attempt
 * limits, and which requests have none: those about a task that already exists (see `taskRetries`).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isBflError, type BflError } from '../errors';

export interface RetryPolicy {
  /** First backoff step; doubles per attempt. */
  baseDelayMs: number;
  /** Longest backoff step before jitter. */
  maxDelayMs: number;
  /** Longest wait a Retry-After header may ask for. */
  maxRetryAfterMs: number;
  /** Attempts in all for transient failures (5xx, network). */
  maxAttempts: number;
  /** Attempts in all while the API answers 429: the account is busy elsewhere, so this is more patient. */
  maxRateLimitedAttempts: number;
  /**
   * When the retries of a request about a task that exists (a poll, the download, a poll for a fresh link) end.
   * `until-aborted`: only when the signal (the job's deadline, or its node closing) ends them, however long an
   * outage, a run of 5xx or 429s lasts, because the task may be billed already and giving up early loses a
   * result that was paid for; only answers that are unusable in themselves spend `maxAttempts`. `limited`: the
   * attempt limits hold for them as for every other request (for callers whose signal never ends).
   */
  taskRetries: 'until-aborted' | 'limited';
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 60_000,
  maxAttempts: 6,
  maxRateLimitedAttempts: 30,
  taskRetries: 'until-aborted',
};

/**
 * What a request is to the retry policy. `request`: a submit or a credits read, held to the attempt limits.
 * `task`: a GET of a task that exists, which follows `taskRetries`.
 */
export type RequestKind = 'request' | 'task';

export type Attempt<T> =
  | { done: T }
  | {
      retry: BflError;
      /** The response's Retry-After header, if any. */
      retryAfter?: string | undefined;
      /** 429s count against maxRateLimitedAttempts instead of maxAttempts. */
      rateLimited?: boolean;
      /**
       * The server answered, but with something no client can use (a poll that is not JSON, an image that does
       * not decode): worth asking again a few times, not for as long as an outage, so it always spends
       * maxAttempts.
       */
      unusable?: boolean;
    };

/**
 * The signal ended a request: the job's deadline passed or its node closed. It carries what the job needs to
 * say what became of the request: the failure it was retrying, if any, and for a submit whether its body had
 * started to go out (then BFL may have created, and billed, the task). Named AbortError, as the abort it is.
 */
export class RequestAborted extends Error {
  constructor(
    cause: unknown,
    readonly lastFailure: BflError | undefined,
    readonly taskMayExist = false,
  ) {
    super('the request was aborted', { cause });
    this.name = 'AbortError';
  }
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * Full jitter on an exponential step, so many jobs that failed together do not come back together;
 * a Retry-After from the server is a floor, not a suggestion.
 */
export function retryDelay(
  policy: RetryPolicy,
  attempt: number,
  retryAfter?: string,
  random: () => number = Math.random,
): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  const jittered = step / 2 + random() * (step / 2);
  const asked = parseRetryAfter(retryAfter);
  if (asked === undefined) return Math.round(jittered);
  return Math.min(policy.maxRetryAfterMs, Math.max(asked, Math.round(jittered / 4)));
}

/**
 * Runs `attempt` until it is done, the attempt limits that apply run out (throws its last error) or `signal`
 * aborts (throws a RequestAborted with the last failure). A BflError an attempt throws ends it at once.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  signal: AbortSignal,
  attempt: (attemptNumber: number) => Promise<Attempt<T>>,
  kind: RequestKind = 'request',
): Promise<T> {
  const unlimited = kind === 'task' && policy.taskRetries === 'until-aborted';
  let transientFailures = 0;
  let rateLimited = 0;
  let lastFailure: BflError | undefined;
  for (let attemptNumber = 1; ; attemptNumber += 1) {
    let outcome: Attempt<T>;
    try {
      outcome = await attempt(attemptNumber);
    } catch (error) {
      if (signal.aborted && !isBflError(error)) throw new RequestAborted(error, lastFailure);
      throw error;
    }
    if ('done' in outcome) return outcome.done;
    lastFailure = outcome.retry;
    if (outcome.unusable || !unlimited) {
      if (outcome.rateLimited) rateLimited += 1;
      else transientFailures += 1;
    }
    if (transientFailures >= policy.maxAttempts || rateLimited >= policy.maxRateLimitedAttempts) throw outcome.retry;
    try {
      await sleep(retryDelay(policy, attemptNumber, outcome.retryAfter), undefined, { signal });
    } catch (error) {
      throw new RequestAborted(error, lastFailure);
    }
  }
}
