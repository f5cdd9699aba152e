/**
 * What each endpoint does with each HTTP status, as data: one table per endpoint, and one function that turns a
 * failing outcome into its BflError and says whether it is worth another attempt.
 *
 * The rules behind the tables:
 * - GETs create nothing, so their 5xx and 429 are retried. A submit is retried only on 429, which the API sends
 *   before it creates a task; after a 5xx it may have created (and billed) one, so it is never sent again.
 * - BFL refuses an unknown key with 403 and a malformed one with 422 `{"detail":"Invalid API key format"}`,
 *   checked before the body. So a 422 is an auth error only when its detail names the API key; any other 422 on
 *   a submit is the API rejecting the request's fields (BFL_VALIDATION). GET /v1/credits has no fields, so a 422
 *   there that is not about the key is the API failing to understand this client: BFL_SERVER, not retried.
 */
import {
  authError,
  creditsError,
  downloadError,
  polledWithoutKeyError,
  rateLimitedError,
  serverError,
  taskNotFoundError,
  validationError,
  type BflError,
} from '../errors';
import { text } from '../messages';
import { headerValue, type ResponseHeaders } from './exchange';
import type { Attempt } from './retry';

/** Outcomes the operation turns into its value: the body it asked for, a task still running, a link expired. */
export type Success = 'success' | 'pending' | 'expired';

/** Outcomes that end in an error, at once or (the `...Retry` ones) when the retry policy gives up. */
export type Failure =
  | 'auth'
  | 'credits'
  | 'apiKeyOrValidation'
  | 'apiKeyOrServer'
  | 'validation'
  | 'taskNotFound'
  | 'rateLimitedRetry'
  | 'rateLimitedRetryBrief'
  | 'serverRetry'
  | 'serverNoRetry';

/**
 * Which attempt budget a failure spends (see RetryPolicy): none, the one for transient failures, or the more
 * patient one for 429s, which only say "not now" (the account's task slots are full, or it polls too fast).
 */
const RETRY_BUDGET: Record<Failure, 'none' | 'transient' | 'rateLimited'> = {
  auth: 'none',
  credits: 'none',
  apiKeyOrValidation: 'none',
  apiKeyOrServer: 'none',
  validation: 'none',
  taskNotFound: 'none',
  rateLimitedRetry: 'rateLimited',
  // Reading the credits is a quick check (the config dialog's "Check key"); it should not wait out a busy account.
  rateLimitedRetryBrief: 'transient',
  serverRetry: 'transient',
  serverNoRetry: 'none',
};

/** A status's outcome: its own row, else its class (`4xx`: 400-499, `5xx`: 500 and above), else `other`. */
export interface StatusTable<O extends Success | Failure> {
  readonly [status: number]: O;
  readonly '4xx'?: O;
  readonly '5xx'?: O;
  readonly other: O;
}

/** POST /v1/flux-pro-1.0-fill. */
export const SUBMIT_STATUSES: StatusTable<'success' | Failure> = {
  200: 'success',
  401: 'auth',
  403: 'auth',
  402: 'credits',
  422: 'apiKeyOrValidation',
  429: 'rateLimitedRetry',
  '4xx': 'validation',
  '5xx': 'serverNoRetry',
  other: 'serverNoRetry',
};

/** GET polling_url. Terminal task states arrive as 200 bodies; only an unknown task has its own status. */
export const POLL_STATUSES: StatusTable<'success' | 'pending' | Failure> = {
  200: 'success',
  // Still queued, as older clients of this API expect; the current API has not been seen to send it.
  202: 'pending',
  401: 'auth',
  403: 'auth',
  404: 'taskNotFound',
  429: 'rateLimitedRetry',
  '5xx': 'serverRetry',
  other: 'serverNoRetry',
};

/**
 * GET result.sample, a signed delivery URL. A refused, missing or gone link has expired (they last 10 minutes):
 * the job polls again for a fresh one. Every failure here is BFL_DOWNLOAD.
 */
export const DOWNLOAD_STATUSES: StatusTable<'success' | 'expired' | Failure> = {
  200: 'success',
  401: 'expired',
  403: 'expired',
  404: 'expired',
  410: 'expired',
  429: 'rateLimitedRetry',
  '5xx': 'serverRetry',
  other: 'serverNoRetry',
};

/** GET /v1/credits. */
export const CREDITS_STATUSES: StatusTable<'success' | Failure> = {
  200: 'success',
  401: 'auth',
  403: 'auth',
  422: 'apiKeyOrServer',
  429: 'rateLimitedRetryBrief',
  '5xx': 'serverRetry',
  other: 'serverNoRetry',
};

export function outcomeOf<O extends Success | Failure>(table: StatusTable<O>, status: number): O {
  const exact: O | undefined = table[status];
  const band = status >= 500 ? table['5xx'] : status >= 400 ? table['4xx'] : undefined;
  return exact ?? band ?? table.other;
}

/**
 * Who asked, so the error can say what failed and name the task. A poll says whether the key went along: when
 * the polling URL's host may not see it, a 401/403 means "polled without the key", not "wrong key".
 */
export type Context =
  | { action: 'submitting' | 'credits' }
  | { action: 'polling'; taskId: string; keySent: boolean }
  | { action: 'downloading'; taskId: string };

/** The part of an answer a failure needs: the body for the API's `detail`, the headers for Retry-After. */
export interface StatusAnswer {
  status: number;
  headers: ResponseHeaders;
  body: unknown;
}

function detailOf(body: unknown): unknown {
  if (body && typeof body === 'object' && 'detail' in body) return (body as { detail: unknown }).detail;
  return body;
}

function aboutTheKey(detail: unknown): boolean {
  return typeof detail === 'string' && /api key/i.test(detail);
}

function errorFor(outcome: Failure, status: number, detail: unknown, context: Context): BflError {
  if (context.action === 'downloading') return downloadError(context.taskId, text('http.status', { status }), status);
  const taskId = context.action === 'polling' ? context.taskId : undefined;
  switch (outcome) {
    case 'auth':
      return context.action === 'polling' && !context.keySent
        ? polledWithoutKeyError(status, detail, context.taskId)
        : authError(status, detail, taskId);
    case 'credits':
      return creditsError(detail);
    case 'apiKeyOrValidation':
      return aboutTheKey(detail) ? authError(status, detail, taskId) : validationError(status, detail);
    case 'apiKeyOrServer':
      return aboutTheKey(detail)
        ? authError(status, detail, taskId)
        : serverError(status, detail, context.action, taskId);
    case 'validation':
      return validationError(status, detail);
    case 'taskNotFound':
      // Only polls have this row; with no task to name, a 404 would be the API failing.
      return taskId === undefined ? serverError(status, detail, context.action) : taskNotFoundError(taskId);
    case 'rateLimitedRetry':
    case 'rateLimitedRetryBrief':
      return rateLimitedError(detail, taskId);
    case 'serverRetry':
    case 'serverNoRetry':
      return serverError(status, detail, context.action, taskId);
  }
}

/** Throws the failure's error, or hands it to the retry policy (with the answer's Retry-After) to try again. */
export function failure(outcome: Failure, answer: StatusAnswer, context: Context): Attempt<never> {
  const error = errorFor(outcome, answer.status, detailOf(answer.body), context);
  const budget = RETRY_BUDGET[outcome];
  if (budget === 'none') throw error;
  return {
    retry: error,
    retryAfter: headerValue(answer.headers, 'retry-after'),
    rateLimited: budget === 'rateLimited',
  };
}
