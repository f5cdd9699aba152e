/**
 * Every failure the package reports is a BflError with a stable `code`: Catch nodes and flows branch on it,
 * so the codes are public (see README "Error codes"). Errors are created only through the factories below,
 * so each message says what happened and what to do, names the task when there is one, and never carries
 * the API key. A message is a Text (a key in lib/messages/<lang>.json with parameters): `message` holds it in
 * English, `text` keeps it for rendering in another language (`localise`).
 */

import { render, text, type Text, type Translate } from './messages';

export const ERROR_CODES = [
  'BFL_INVALID_INPUT',
  'BFL_AUTH',
  'BFL_CREDITS',
  'BFL_RATE_LIMITED',
  'BFL_VALIDATION',
  'BFL_REQUEST_MODERATED',
  'BFL_CONTENT_MODERATED',
  'BFL_TASK_FAILED',
  'BFL_TASK_NOT_FOUND',
  'BFL_TIMEOUT',
  'BFL_NETWORK',
  'BFL_SERVER',
  'BFL_DOWNLOAD',
  'BFL_QUEUE_FULL',
  'BFL_CANCELLED',
  'BFL_BUDGET',
] as const;

export type BflErrorCode = (typeof ERROR_CODES)[number];

export interface BflErrorDetails {
  /** The BFL task id, once a task exists. */
  taskId?: string;
  /** HTTP status of the response that failed, if any. */
  httpStatus?: number;
  /** Whatever the API said (its `detail`), trimmed; never request headers. */
  apiDetail?: unknown;
  /** Moderation reasons reported by the API, if any. */
  moderationReasons?: string[];
  /** The underlying error (network error, decoder error). */
  cause?: unknown;
}

export class BflError extends Error {
  readonly code: BflErrorCode;
  /** The message as a catalog key with parameters, for rendering in the user's language. */
  readonly text: Text;
  readonly taskId: string | undefined;
  readonly httpStatus: number | undefined;
  readonly apiDetail: unknown;
  readonly moderationReasons: string[] | undefined;

  /** `message` is rendered in English from the engine's catalog; see `localise` for other languages. */
  constructor(code: BflErrorCode, message: Text, details: BflErrorDetails = {}) {
    super(render(message), details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'BflError';
    this.code = code;
    this.text = message;
    this.taskId = details.taskId;
    this.httpStatus = details.httpStatus;
    this.apiDetail = details.apiDetail;
    this.moderationReasons = details.moderationReasons;
  }

  /** Node-RED puts `toString()` into msg.error.message; users should read the sentence, not a class name. */
  override toString(): string {
    return this.message;
  }
}

export function isBflError(value: unknown): value is BflError {
  return value instanceof BflError;
}

/**
 * A copy of `error` with its message rendered by `translate` (e.g. in the Node-RED runtime's language); code,
 * task id, HTTP status, API detail, moderation reasons and cause are kept.
 */
export function localise(error: BflError, translate: Translate): BflError {
  const copy = new BflError(error.code, error.text, {
    taskId: error.taskId,
    httpStatus: error.httpStatus,
    apiDetail: error.apiDetail,
    moderationReasons: error.moderationReasons,
    cause: error.cause,
  });
  const message = render(error.text, translate);
  copy.message = message;
  if (error.stack !== undefined) copy.stack = error.stack.replace(error.message, message);
  return copy;
}

/** Bad input from the flow: nothing was submitted and nothing was billed. */
export function invalidInput(problem: Text, cause?: unknown): BflError {
  return new BflError('BFL_INVALID_INPUT', nothingSubmitted(problem), { cause });
}

function nothingSubmitted(problem: Text): Text {
  return text('invalidInput.nothingSubmitted', { problem });
}

/** Turns the API's `detail` (a string or FastAPI's list of field errors) into one readable line. */
export function describeApiDetail(detail: unknown): string {
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((item) => {
        if (item && typeof item === 'object') {
          const entry = item as { loc?: unknown; msg?: unknown };
          const loc = Array.isArray(entry.loc) ? entry.loc.filter((part) => part !== 'body').join('.') : '';
          const msg = typeof entry.msg === 'string' ? entry.msg : JSON.stringify(item);
          return loc ? `${loc}: ${msg}` : msg;
        }
        return String(item);
      })
      .join('; ');
  }
  if (detail === undefined || detail === null) return '';
  return JSON.stringify(detail).slice(0, 300);
}

/** "HTTP 401" or "HTTP 401: what the API said". */
function httpText(httpStatus: number, detail: unknown, problem?: Text): Text {
  const said = problem ?? describeApiDetail(detail);
  return said === ''
    ? text('http.status', { status: httpStatus })
    : text('http.statusDetail', { status: httpStatus, detail: said });
}

/** A network error's code (ECONNRESET, UND_ERR_SOCKET, ...) or else its message. */
function reasonOf(cause: unknown): string {
  return cause instanceof Error ? ((cause as Error & { code?: string }).code ?? cause.message) : String(cause);
}

/** What the client was doing when a request failed. */
export type ApiAction = 'submitting' | 'polling' | 'credits';

export function authError(httpStatus: number, detail: unknown, taskId?: string): BflError {
  const http = httpText(httpStatus, detail);
  return new BflError(
    'BFL_AUTH',
    taskId ? text('auth.refusedTask', { taskId, http }) : text('auth.refused', { http }),
    {
      httpStatus,
      apiDetail: detail,
      taskId,
    },
  );
}

/** A 401/403 from a polling host the key may not be sent to, so it was polled without the key. */
export function polledWithoutKeyError(httpStatus: number, detail: unknown, taskId: string): BflError {
  return new BflError(
    'BFL_AUTH',
    text('auth.polledWithoutKey', { refused: authError(httpStatus, detail, taskId).text }),
    { taskId, httpStatus, apiDetail: detail },
  );
}

/** The bfl-config node has no key (and is not the emulator). */
export function noKeyError(): BflError {
  return new BflError('BFL_AUTH', nothingSubmitted(text('auth.noKey')));
}

export function creditsError(detail: unknown): BflError {
  return new BflError('BFL_CREDITS', text('credits.notEnough', { http: httpText(402, detail) }), {
    httpStatus: 402,
    apiDetail: detail,
  });
}

export function rateLimitedError(detail: unknown, taskId?: string): BflError {
  const http = httpText(429, detail);
  return new BflError(
    'BFL_RATE_LIMITED',
    taskId ? text('rateLimit.exhaustedTask', { taskId, http }) : text('rateLimit.exhausted', { http }),
    { httpStatus: 429, apiDetail: detail, taskId },
  );
}

export function validationError(httpStatus: number, detail: unknown): BflError {
  return new BflError('BFL_VALIDATION', text('validation.rejected', { http: httpText(httpStatus, detail) }), {
    httpStatus,
    apiDetail: detail,
  });
}

export function requestModeratedError(taskId: string, reasons: string[] | undefined): BflError {
  return new BflError(
    'BFL_REQUEST_MODERATED',
    reasons && reasons.length > 0
      ? text('moderation.requestReasons', { taskId, reasons: reasons.join(', ') })
      : text('moderation.request', { taskId }),
    { taskId, moderationReasons: reasons },
  );
}

export function contentModeratedError(taskId: string, reasons: string[] | undefined): BflError {
  return new BflError(
    'BFL_CONTENT_MODERATED',
    reasons && reasons.length > 0
      ? text('moderation.contentReasons', { taskId, reasons: reasons.join(', ') })
      : text('moderation.content', { taskId }),
    { taskId, moderationReasons: reasons },
  );
}

export function taskFailedError(taskId: string, status: string, detail: unknown): BflError {
  const said = describeApiDetail(detail);
  return new BflError(
    'BFL_TASK_FAILED',
    said === '' ? text('task.failed', { taskId, status }) : text('task.failedDetail', { taskId, status, detail: said }),
    { taskId, apiDetail: detail },
  );
}

export function taskNotFoundError(taskId: string): BflError {
  return new BflError('BFL_TASK_NOT_FOUND', text('task.notFound', { taskId }), { taskId, httpStatus: 404 });
}

/**
 * How far a job had got when its deadline passed or it was cancelled, which decides what may have been billed:
 * - `before-submit`: nothing reached BFL;
 * - `submit-unanswered`: the submit's body had started to go out and no answer came, so the task may exist;
 * - `task-running`: the task exists and was not Ready yet;
 * - `task-ready`: the task finished (and was billed), its image was not downloaded yet.
 */
export type JobPoint = 'before-submit' | 'submit-unanswered' | 'task-running' | 'task-ready';

/**
 * What went wrong in a few words, for a sentence that has its own advice: the HTTP status and the API's words,
 * the network error's code, or the download's reason.
 */
function briefly(error: BflError): string | number | Text {
  const params = error.text.params ?? {};
  return params.http ?? params.reason ?? error.text;
}

/**
 * The job's deadline, which starts when it leaves the queue, passed. `point` defaults to what the task id
 * says; `lastFailure` is the failure that was being retried when the deadline came, if any.
 */
export function timeoutError(seconds: number, taskId?: string, point?: JobPoint, lastFailure?: BflError): BflError {
  const where = point ?? (taskId ? 'task-running' : 'before-submit');
  let message: Text;
  if (taskId === undefined) {
    message = text(where === 'submit-unanswered' ? 'job.timeoutSubmitting' : 'job.timeout', { seconds });
  } else if (lastFailure) {
    const key = where === 'task-ready' ? 'job.timeoutReadyFailing' : 'job.timeoutSubmittedFailing';
    message = text(key, { seconds, taskId, failure: briefly(lastFailure) });
  } else {
    message = text(where === 'task-ready' ? 'job.timeoutReady' : 'job.timeoutSubmitted', { seconds, taskId });
  }
  return new BflError('BFL_TIMEOUT', message, { taskId, cause: lastFailure });
}

export function networkError(action: ApiAction, cause: unknown, taskId?: string): BflError {
  const params = { action: text(`action.${action}`), reason: reasonOf(cause) };
  return new BflError(
    'BFL_NETWORK',
    taskId ? text('network.unreachableTask', { ...params, taskId }) : text('network.unreachable', params),
    { taskId, cause },
  );
}

/**
 * A submit whose outcome is unknown: the request was sent but no usable answer came back (the connection
 * broke, or `problem` says what was wrong with the answer). Never retried.
 */
export function submitOutcomeUnknownError(cause: unknown, problem?: Text): BflError {
  return new BflError(
    'BFL_NETWORK',
    problem ? text('network.answerUnusable', { problem }) : text('network.outcomeUnknown', { reason: reasonOf(cause) }),
    { cause },
  );
}

/** The in-process emulator of the `emulator` region did not start. */
export function emulatorStartError(cause: unknown): BflError {
  return new BflError('BFL_NETWORK', text('network.emulatorStart', { reason: reasonOf(cause) }), { cause });
}

/** Anything unforeseen while talking to the API, as a BflError; BflErrors pass through. */
export function asBflError(error: unknown): BflError {
  if (error instanceof BflError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new BflError('BFL_NETWORK', text('network.failed', { reason }), { cause: error });
}

/** `problem` replaces the API's detail in the message when the answer itself was the trouble. */
export function serverError(
  httpStatus: number,
  detail: unknown,
  action: ApiAction,
  taskId?: string,
  problem?: Text,
): BflError {
  const http = httpText(httpStatus, detail, problem);
  let message: Text;
  if (action === 'submitting') message = text('server.failedSubmit', { http });
  else if (taskId) message = text('server.failedTask', { action: text(`action.${action}`), taskId, http });
  else message = text('server.failed', { action: text(`action.${action}`), http });
  return new BflError('BFL_SERVER', message, { httpStatus, apiDetail: detail, taskId });
}

/** `reason` is a Text below `download.reason.` or `http.status`. */
export function downloadError(taskId: string, reason: Text, httpStatus?: number, cause?: unknown): BflError {
  return new BflError('BFL_DOWNLOAD', text('download.failed', { taskId, reason }), { taskId, httpStatus, cause });
}

/** The key check in the config dialog got no answer in time. */
export function checkKeyTimeoutError(seconds: number): BflError {
  return new BflError('BFL_TIMEOUT', text('config.checkKeyTimeout', { seconds }));
}

export function queueFullError(limit: number): BflError {
  return new BflError('BFL_QUEUE_FULL', text('job.queueFull', { limit }));
}

/** `point` `submit-unanswered`: cancelled while a submit was out, so the task may exist without an id to name. */
export function cancelledError(taskId?: string, point?: JobPoint): BflError {
  let message: Text;
  if (taskId) message = text('job.cancelledSubmitted', { taskId });
  else message = text(point === 'submit-unanswered' ? 'job.cancelledSubmitting' : 'job.cancelled');
  return new BflError('BFL_CANCELLED', message, { taskId });
}

export interface BudgetDetails {
  /** The daily credit limit. */
  limit: number;
  /** Credits spent today (UTC), counting the submits still under way. */
  spent: number;
  /** What this job would cost. */
  estimate: number;
  /** The next 00:00 UTC, in ms since the epoch. */
  resetsAt: number;
  /** Now, in ms since the epoch (for tests). */
  now?: number;
}

/** Credits as a sentence shows them: whole numbers as they are, others to two decimals. */
function creditsText(amount: number): number {
  return Math.round(amount * 100) / 100;
}

/** "3 h 20 min" until the limit resets; never less than a minute. */
function waitText(milliseconds: number): Text {
  const total = Math.max(1, Math.ceil(milliseconds / 60_000));
  const hours = Math.floor(total / 60);
  const minutes = total % 60;
  if (hours === 0) return text('budget.wait.minutes', { minutes });
  if (minutes === 0) return text('budget.wait.hours', { hours });
  return text('budget.wait.hoursMinutes', { hours, minutes });
}

/** The job would take today's spend over the account's daily credit limit; nothing was submitted. */
export function budgetError(details: BudgetDetails): BflError {
  const { limit, spent, estimate, resetsAt, now = Date.now() } = details;
  return new BflError(
    'BFL_BUDGET',
    text('budget.exceeded', {
      limit: creditsText(limit),
      spent: creditsText(spent),
      estimate: creditsText(estimate),
      wait: waitText(resetsAt - now),
      field: text('field.label.dailyCreditLimit'),
    }),
  );
}
