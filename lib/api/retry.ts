/**
 * The one place that decides how long to wait before trying a request again. Callers say, per attempt,
 * whether it is done or worth retrying; this module owns backoff, jitter, Retry-After and the attempt limit.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { BflError } from '../errors';

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
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 60_000,
  maxAttempts: 6,
  maxRateLimitedAttempts: 30,
};

export type Attempt<T> =
  | { done: T }
  | {
      retry: BflError;
      /** The response's Retry-After header, if any. */
      retryAfter?: string | undefined;
      /** 429s count against maxRateLimitedAttempts instead of maxAttempts. */
      rateLimited?: boolean;
    };

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

/** Runs `attempt` until it is done, the attempts run out (throws its last error) or `signal` aborts. */
export async function withRetries<T>(
  policy: RetryPolicy,
  signal: AbortSignal,
  attempt: (attemptNumber: number) => Promise<Attempt<T>>,
): Promise<T> {
  let transientFailures = 0;
  let rateLimited = 0;
  for (let attemptNumber = 1; ; attemptNumber += 1) {
    const outcome = await attempt(attemptNumber);
    if ('done' in outcome) return outcome.done;
    if (outcome.rateLimited) rateLimited += 1;
    else transientFailures += 1;
    if (transientFailures >= policy.maxAttempts || rateLimited >= policy.maxRateLimitedAttempts) throw outcome.retry;
    // Rejects with an AbortError when the job is cancelled or times out; the job maps it to its own error.
    await sleep(retryDelay(policy, attemptNumber, outcome.retryAfter), undefined, { signal });
  }
}
