/**
 * What a webhook's JSON body says about a task. BFL documents no schema (reference §8): current payloads look
 * like a poll's answer (`id`, `status: Ready | Error | ...`, `result`), receivers written in 2025 expect
 * `task_id` with `SUCCESS | FAILED | PENDING`. Both are read into the shape of a poll's answer, so that the same
 * status words mean the same outcome whichever way the news came (./answers decides what each word means).
 */

/** A webhook body as a poll's answer would say it, or why it is unusable. */
export type WebhookPayload = { taskId: string; answer: Record<string, unknown> } | { problem: string };

/** The legacy words, in the current vocabulary; an `error` field that names a current word wins for FAILED. */
const LEGACY_STATUSES: Readonly<Record<string, string>> = {
  SUCCESS: 'Ready',
  FAILED: 'Error',
  PENDING: 'Pending',
};

const CURRENT_TERMINAL_WORDS = new Set(['Request Moderated', 'Content Moderated', 'Error', 'Failed']);

export function readWebhookPayload(body: unknown): WebhookPayload {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return { problem: 'not a JSON object' };
  const fields = body as Record<string, unknown>;
  const id = typeof fields.id === 'string' && fields.id !== '' ? fields.id : fields.task_id;
  if (typeof id !== 'string' || id === '' || id.length > 200) return { problem: 'no task id' };
  const status = fields.status;
  if (typeof status !== 'string' || status.trim() === '') return { problem: 'no status' };
  let word = status;
  if (Object.prototype.hasOwnProperty.call(LEGACY_STATUSES, status)) {
    word = LEGACY_STATUSES[status]!;
    // Legacy failures put the current word (moderation, Error) in `error`, when they say it at all.
    if (status === 'FAILED' && typeof fields.error === 'string' && CURRENT_TERMINAL_WORDS.has(fields.error)) {
      word = fields.error;
    }
  }
  return { taskId: id, answer: { ...fields, id, status: word } };
}
