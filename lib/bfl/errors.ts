/**
 * Every failure the package reports is a BflError with a stable `code`: Catch nodes and flows branch on it,
 * so the codes are public (see README "Error codes"). Errors are created only through the factories below,
 * so each message says what happened and what to do, names the task when there is one, and never carries
 * the API key.
 */

import { render, text, type Text } from '../messages';

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
  readonly text: Text | undefined;
  readonly taskId: string | undefined;
  readonly httpStatus: number | undefined;
  readonly apiDetail: unknown;
  readonly moderationReasons: string[] | undefined;

  constructor(code: BflErrorCode, message: string | Text, details: BflErrorDetails = {}) {
    super(
      typeof message === 'string' ? message : render(message),
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.name = 'BflError';
    this.code = code;
    this.text = typeof message === 'string' ? undefined : message;
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

function forTask(taskId: string | undefined): string {
  return taskId ? ` (task ${taskId})` : '';
}

/** Bad input from the flow: nothing was submitted and nothing was billed. */
export function invalidInput(message: string | Text, cause?: unknown): BflError {
  if (typeof message === 'string') {
    return new BflError('BFL_INVALID_INPUT', `${message} Nothing was submitted.`, { cause });
  }
  return new BflError('BFL_INVALID_INPUT', text('invalidInput.nothingSubmitted', { problem: message }), { cause });
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

export function authError(httpStatus: number, detail: unknown, taskId?: string): BflError {
  const said = describeApiDetail(detail);
  return new BflError(
    'BFL_AUTH',
    `The BFL API refused the API key${forTask(taskId)} (HTTP ${httpStatus}${said ? `: ${said}` : ''}). ` +
      'Check the key in the bfl-config node and that it belongs to the selected region, then deploy again.',
    { httpStatus, apiDetail: detail, taskId },
  );
}

export function creditsError(detail: unknown): BflError {
  const said = describeApiDetail(detail);
  return new BflError(
    'BFL_CREDITS',
    `The BFL account has not enough credits for this request (HTTP 402${said ? `: ${said}` : ''}). ` +
      'Add credits at dashboard.bfl.ai; nothing was generated.',
    { httpStatus: 402, apiDetail: detail },
  );
}

export function rateLimitedError(detail: unknown, taskId?: string): BflError {
  const said = describeApiDetail(detail);
  return new BflError(
    'BFL_RATE_LIMITED',
    `The BFL API kept answering "too many requests"${forTask(taskId)} (HTTP 429${said ? `: ${said}` : ''}) ` +
      'until the timeout. Lower "max concurrent" in the bfl-config node or check other clients using the same key.',
    { httpStatus: 429, apiDetail: detail, taskId },
  );
}

export function validationError(httpStatus: number, detail: unknown): BflError {
  const said = describeApiDetail(detail);
  return new BflError(
    'BFL_VALIDATION',
    `The BFL API rejected the request (HTTP ${httpStatus}${said ? `: ${said}` : ''}). ` +
      'Check the node settings and the image and mask; nothing was generated.',
    { httpStatus, apiDetail: detail },
  );
}

export function requestModeratedError(taskId: string, reasons: string[] | undefined): BflError {
  const why = reasons && reasons.length > 0 ? ` Reasons: ${reasons.join(', ')}.` : '';
  return new BflError(
    'BFL_REQUEST_MODERATED',
    `BFL's moderation refused the input (prompt or image) of task ${taskId}.${why} ` +
      'Change the prompt or image, or raise "safety tolerance". Moderated tasks are not charged.',
    { taskId, moderationReasons: reasons },
  );
}

export function contentModeratedError(taskId: string, reasons: string[] | undefined): BflError {
  const why = reasons && reasons.length > 0 ? ` Reasons: ${reasons.join(', ')}.` : '';
  return new BflError(
    'BFL_CONTENT_MODERATED',
    `BFL's moderation withheld the generated image of task ${taskId}.${why} ` +
      'Change the prompt, or raise "safety tolerance". Moderated tasks are not charged.',
    { taskId, moderationReasons: reasons },
  );
}

export function taskFailedError(taskId: string, status: string, detail: unknown): BflError {
  const said = describeApiDetail(detail);
  return new BflError(
    'BFL_TASK_FAILED',
    `BFL reported task ${taskId} as "${status}"${said ? `: ${said}` : ''}. Try again; if it keeps failing, ` +
      'try another seed or prompt.',
    { taskId, apiDetail: detail },
  );
}

export function taskNotFoundError(taskId: string): BflError {
  return new BflError(
    'BFL_TASK_NOT_FOUND',
    `BFL does not know task ${taskId} (it expired or belongs to another region). ` +
      'Check the region in the bfl-config node and send the message again.',
    { taskId, httpStatus: 404 },
  );
}

export function timeoutError(seconds: number, taskId?: string): BflError {
  const submitted = taskId
    ? ` Task ${taskId} was submitted and may still finish (and be billed) at BFL.`
    : ' Nothing was submitted.';
  return new BflError(
    'BFL_TIMEOUT',
    `The job did not finish within ${seconds} s.${submitted} Raise the node's timeout if jobs are often slow.`,
    { taskId },
  );
}

export function networkError(what: string, cause: unknown, taskId?: string): BflError {
  const reason = cause instanceof Error ? ((cause as Error & { code?: string }).code ?? cause.message) : String(cause);
  return new BflError(
    'BFL_NETWORK',
    `Could not reach the BFL API while ${what}${forTask(taskId)} (${reason}). ` +
      'Check the network connection and the region or base URL in the bfl-config node.',
    { taskId, cause },
  );
}

/** A submit whose outcome is unknown: the request was sent but no answer came back. Never retried. */
export function submitOutcomeUnknownError(cause: unknown): BflError {
  const reason = cause instanceof Error ? ((cause as Error & { code?: string }).code ?? cause.message) : String(cause);
  return new BflError(
    'BFL_NETWORK',
    `The connection broke after the request was sent (${reason}), so BFL may have accepted (and billed) the task. ` +
      'It was not sent again to avoid paying twice; check the BFL dashboard before retrying.',
    { cause },
  );
}

export function serverError(httpStatus: number, detail: unknown, what: string, taskId?: string): BflError {
  const said = describeApiDetail(detail);
  return new BflError(
    'BFL_SERVER',
    `The BFL API failed while ${what}${forTask(taskId)} (HTTP ${httpStatus}${said ? `: ${said}` : ''}). ` +
      (what === 'submitting'
        ? 'It was not sent again because it may have been billed; try again later.'
        : 'Try again later.'),
    { httpStatus, apiDetail: detail, taskId },
  );
}

export function downloadError(taskId: string, reason: string, httpStatus?: number, cause?: unknown): BflError {
  return new BflError(
    'BFL_DOWNLOAD',
    `Task ${taskId} finished but its image could not be downloaded (${reason}). ` +
      'BFL keeps result links for 10 minutes only; send the message again if the problem persists.',
    { taskId, httpStatus, cause },
  );
}

export function queueFullError(limit: number): BflError {
  return new BflError(
    'BFL_QUEUE_FULL',
    `Too many messages are waiting for this BFL account (${limit} queued). Nothing was submitted. ` +
      'Slow the flow down (e.g. with a delay node) or raise "max concurrent" in the bfl-config node.',
  );
}

export function cancelledError(taskId?: string): BflError {
  const submitted = taskId
    ? ` Task ${taskId} was already submitted and may still be billed at BFL.`
    : ' Nothing was submitted.';
  return new BflError(
    'BFL_CANCELLED',
    `The job was cancelled because the node was stopped or redeployed.${submitted}`,
    {
      taskId,
    },
  );
}
