/**
 * What the API's 200 bodies mean: the submitted task, a poll's task state, the credit balance. The API adds
 * fields over time and fills some with null, so every field is checked for its type and anything else ignored.
 */
import {
  contentModeratedError,
  downloadError,
  requestModeratedError,
  serverError,
  submitOutcomeUnknownError,
  taskFailedError,
  taskNotFoundError,
} from '../errors';
import { text } from '../messages';
import type { InProgress, PollOutcome, SubmittedTask } from './types';

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function numberOrUndefined(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function record(value: unknown): Record<string, unknown> {
  return (value && typeof value === 'object' ? value : {}) as Record<string, unknown>;
}

function moderationReasons(details: unknown): string[] | undefined {
  if (!details || typeof details !== 'object') return undefined;
  const reasons = (details as Record<string, unknown>)['Moderation Reasons'];
  return Array.isArray(reasons) ? reasons.map(String) : undefined;
}

/** A task the API accepted; `baseUrl` gives the generic polling URL when the answer names none. */
export function submittedTask(body: unknown, baseUrl: string): SubmittedTask {
  const fields = record(body);
  const id = fields.id;
  if (typeof id !== 'string' || id === '') {
    throw submitOutcomeUnknownError(undefined, text('network.problem.noTaskId'));
  }
  // The answer to a submit with a webhook_url has no polling_url; GET /v1/get_result?id= serves every task.
  const pollingUrl =
    typeof fields.polling_url === 'string' && fields.polling_url !== ''
      ? fields.polling_url
      : `${baseUrl}/v1/get_result?id=${encodeURIComponent(id)}`;
  return {
    id,
    pollingUrl,
    cost: numberOrNull(fields.cost),
    inputMp: numberOrNull(fields.input_mp),
    outputMp: numberOrNull(fields.output_mp),
  };
}

/** A task still queued (what a 202 says), whatever its body. */
export function queued(): PollOutcome {
  return { kind: 'in-progress', state: { status: 'Pending', progress: undefined } };
}

/**
 * Ready becomes the result, an in-progress status the state; every other terminal status throws its BflError.
 * Undefined when the body is no answer at all (not a JSON object with a status, e.g. a gateway's garbage): read
 * as Pending, such answers would keep a job polling until its deadline.
 */
export function pollOutcome(taskId: string, body: unknown): PollOutcome | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const fields = record(body);
  const status = fields.status;
  if (typeof status !== 'string' || status.trim() === '') return undefined;
  switch (status) {
    case 'Ready': {
      const result = record(fields.result);
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
            numberOrUndefined(result.duration) ?? (start !== undefined && end !== undefined ? end - start : undefined),
          endTime: end,
          cost: numberOrUndefined(fields.cost),
        },
      };
    }
    case 'Request Moderated':
      throw requestModeratedError(taskId, moderationReasons(fields.details));
    case 'Content Moderated':
      throw contentModeratedError(taskId, moderationReasons(fields.details));
    case 'Error':
    case 'Failed':
      throw taskFailedError(taskId, status, fields.details ?? fields.result);
    case 'Task not found':
      throw taskNotFoundError(taskId);
    default:
      // Pending, and in-progress words of newer models (Reasoning, Generating): keep polling; the deadline ends it.
      return { kind: 'in-progress', state: inProgress(status, numberOrUndefined(fields.progress)) };
  }
}

/** Progress is a 0..1 fraction in the API's answers; a few clients have seen percentages, so those are scaled. */
function inProgress(status: string, progress: number | undefined): InProgress {
  return {
    status,
    progress: progress === undefined ? undefined : progress > 1 ? progress / 100 : progress,
  };
}

/** The balance of GET /v1/credits. */
export function creditBalance(body: unknown): number {
  const credits = record(body).credits;
  if (typeof credits === 'number') return credits;
  throw serverError(200, undefined, 'credits', undefined, text('server.problem.noCredits'));
}
