/**
 * Public types of the BFL emulator. Tests, the demo and the `emulator` region code against these names, so they
 * stay stable; the implementation lives in the other files of this folder.
 */
import type { OutputFormat } from './validation';

export interface EmulatorOptions {
  /** Default '127.0.0.1'. Anything that is not a loopback address (127.0.0.0/8, ::1, 'localhost') is refused. */
  host?: string;
  /** API origin port, 0 = ephemeral (default 0). */
  port?: number;
  /** Polling ("cluster") origin port, default 0. */
  clusterPort?: number;
  /** Delivery origin port, default 0. */
  deliveryPort?: number;
  /** Accepted API keys -> starting credits. If omitted, ANY well-formed key is accepted with defaultCredits. */
  keys?: Record<string, number>;
  /** Default 1000. */
  defaultCredits?: number;
  /** Time a task stays in progress before its terminal status, default 1500. */
  processingMs?: number;
  /**
   * How much that time varies from task to task, as a fraction (0..1, default 0): each task takes processingMs
   * times a uniform draw from 1 - spread to 1 + spread, as real tasks vary.
   */
  processingSpread?: number;
  /** Signed delivery URL lifetime from completion, default 600_000 (10 min). */
  deliveryTtlMs?: number;
  /** Default 24 -> 429 beyond it. */
  maxActivePerKey?: number;
  /** Retry-After on 429, default 1. */
  retryAfterSeconds?: number;
  /**
   * Credits per task of every model; null => submit returns cost null (and nothing is charged). Default: each
   * model's list price (fill 5, fine-tuned fill 6, expand 5).
   */
  costPerImage?: number | null;
  /**
   * An expand's output is made with sides rounded down to a multiple of this (default 1: exactly the size asked
   * for), as a model that works in blocks of pixels might answer: clients must scale it back.
   */
  outputSizeStep?: number;
  /** Re-polling a Ready task gives a freshly signed URL, default true. */
  resignOnPoll?: boolean;
  /** When webhook_url is given, answer the AsyncWebhookResponse shape (no polling_url), default false. */
  webhookResponse?: boolean;
  /**
   * Webhook payload: 'current' (default) posts the poll body `{id, status: 'Ready', result, ...}`; 'legacy' posts
   * `{task_id, status: 'SUCCESS' | 'FAILED', result, error?, ...}` as receivers written in 2025 expect.
   */
  webhookStyle?: 'current' | 'legacy';
  /** Deliver every webhook twice (tests that receivers are idempotent), default false. */
  webhookDuplicates?: boolean;
  /** Every task's webhook plan (a task's scenario or `[emulate:webhook=...]` directive overrides it). */
  webhook?: WebhookScenario;
  /** Optional request log (one line per request); never carries x-key values. */
  log?: (line: string) => void;
  /**
   * Chance (0..1, default 0) that a request is answered with a fault drawn from `faults`, so a flow can be
   * rehearsed against an unreliable API without scripting every failure.
   */
  faultRate?: number;
  /**
   * The faults `faultRate` draws from, as specs (`'poll:reset-before'`, `'download:truncated=short'`,
   * `'submit:rate-limit-storm=2:x5'`) or Fault objects; default every kind on every endpoint it applies to.
   */
  faults?: readonly (string | Fault)[];
  /** Seed of the random draws of `faultRate` (default: random), so a failing run can be replayed. */
  seed?: number;
  /** How long a `stall` holds a request before the emulator resets it, default 30_000. */
  stallMs?: number;
  /** How long an origin refuses connections during a `restart` fault, default 500. */
  restartMs?: number;
}

export type TaskOutcome =
  'ready' | 'request-moderated' | 'content-moderated' | 'error' | 'failed' | 'stuck' | 'not-found';

export interface TaskScenario {
  /** Default 'ready'; 'stuck' stays in progress forever; 'not-found' makes polls 404 "Task not found". */
  outcome?: TaskOutcome;
  /** Overrides options.processingMs for this task. */
  processingMs?: number;
  /** Status word while in progress, default 'Pending'. */
  inProgressStatus?: 'Pending' | 'Reasoning' | 'Generating';
  /** Report progress 0..1 while in progress (default: null progress like real image tasks). */
  progress?: boolean;
  /** For moderated outcomes, default ['Sexual Content']. */
  moderationReasons?: string[];
  cost?: number | null;
  /** What happens to this task's webhook, when it asked for one. */
  webhook?: WebhookScenario;
}

/**
 * How a task's webhook goes wrong, for rehearsing receivers; in a prompt `[emulate:webhook=drop]`,
 * `[emulate:webhook=delay=2000]`, `[emulate:webhook=duplicate,legacy,forge]`.
 */
export interface WebhookScenario {
  /** Never delivered (the receiver must find out by polling). */
  drop?: boolean;
  /** Delivered twice. */
  duplicate?: boolean;
  /** Delivered this many ms after the task's end. */
  delayMs?: number;
  /** First a forged one: a wrong X-Webhook-Secret and a result URL on a foreign host. */
  forge?: boolean;
  /** The payload style of this task's webhook. */
  style?: 'current' | 'legacy';
}

/** One webhook the emulator posted, as the receiver answered it. */
export interface DeliveredWebhook {
  taskId: string;
  url: string;
  /** The task's status the webhook announced. */
  status: string;
  style: 'current' | 'legacy';
  /** A forgery of the `forge` directive (wrong secret, foreign result URL). */
  forged: boolean;
  /** Date.now() when it was sent. */
  sentAt: number;
  /** The receiver's HTTP status; 0 when the call failed. */
  answer: number;
}

export type FaultTarget = 'submit' | 'poll' | 'download' | 'credits';

/**
 * What goes wrong (fault-answers.ts does it; fault-specs.ts says which endpoints each applies to):
 * - `status`: the HTTP status given in `status` instead of the answer;
 * - `reset-before`: the connection is reset before the request has any effect;
 * - `reset-after`: the request takes effect (a submit creates its task), then the connection is reset: a submit
 *   never gets its answer, a GET gets its whole answer and then the reset;
 * - `stall`: the answer never finishes (`variant` 'headers': nothing arrives; 'body': half the body);
 * - `malformed-json`: a 200 whose JSON body is cut in half (a submit creates its task);
 * - `unknown-status`: a poll answers the in-progress word `word` instead of the task's status;
 * - `break`: a download sends half the image, then the connection is reset;
 * - `truncated`: a download sends half the image (`variant` 'length': under a Content-Length for all of it,
 *   then closes; 'short': as a whole answer of its own length);
 * - `expired`: a download answers like an expired signed URL (`status` 403, or 404);
 * - `500-after-create`: a submit creates its task and answers `status` (default 500);
 * - `rate-limit-storm`: `count` 429s in a row (default 5) with a Retry-After of `retryAfterSeconds`;
 * - `restart`: the origin resets this request, refuses connections for `restartMs`, then listens again on the
 *   same port (`variant` 'keep': tasks survive; 'forget': polls of earlier tasks answer Task not found).
 */
export type FaultKind =
  | 'status'
  | 'reset-before'
  | 'reset-after'
  | 'stall'
  | 'malformed-json'
  | 'unknown-status'
  | 'break'
  | 'truncated'
  | 'expired'
  | '500-after-create'
  | 'rate-limit-storm'
  | 'restart'
  | 'delay';

export type FaultVariant = 'headers' | 'body' | 'length' | 'short' | 'keep' | 'forget';

export interface Fault {
  target: FaultTarget;
  /** Default: 'status' when `status` is a number, 'reset-before' when it is 'drop'. */
  kind?: FaultKind;
  /** The status of kinds `status`, `expired` and `500-after-create`; 'drop' is the older name of reset-before. */
  status?: number | 'drop';
  /** Requests answered with the fault, default 1 (5 for a rate-limit-storm). */
  count?: number;
  /** Retry-After of a `status` or `rate-limit-storm` answer (a storm defaults to the retryAfterSeconds option). */
  retryAfterSeconds?: number;
  /**
   * `stall`: 'headers' (default) or 'body'; `truncated`: 'length' (default) or 'short'; `restart`: 'keep'
   * (default) or 'forget'.
   */
  variant?: FaultVariant;
  /** `unknown-status`: the in-progress word a poll answers, default 'Queued'. */
  word?: string;
  /** `delay`: how long the whole, correct answer is held back, in ms (default 1000). */
  delayMs?: number;
}

/** One fault as the emulator applied it, in the order applied. */
export interface AppliedFault {
  /** Its spec with its arguments spelled out, e.g. 'poll:status=503', 'download:truncated=short'. */
  fault: string;
  target: FaultTarget;
  kind: FaultKind;
  /** injectFault(), a prompt directive of the task, or the faultRate draw. */
  source: 'injected' | 'prompt' | 'rate';
  /** The task concerned when there is one: a submit's created task, a poll's or a download's task. */
  taskId: string | null;
  /** Date.now() when applied. */
  at: number;
}

export interface RecordedRequest {
  origin: 'api' | 'cluster' | 'delivery';
  method: string;
  /** Path without the query. */
  path: string;
  /** Query without '?'. */
  query: string;
  /** Lower-cased names, as received. */
  headers: Record<string, string>;
  /** What the emulator answered (0 for a dropped connection). */
  status: number;
  /** The fault that answered this request (AppliedFault.fault), if any. */
  fault?: string;
  /** Date.now() on arrival. */
  at: number;
}

export interface EmulatorTask {
  id: string;
  key: string;
  /** Current status word. */
  status: string;
  submittedAt: number;
  completedAt: number | null;
  /** The JSON body exactly as received, except `image`/`mask` replaced by the string `<base64 N chars>`. */
  body: Record<string, unknown>;
  /** The endpoint it was submitted to. */
  model: 'fill' | 'finetuned' | 'expand';
  /**
   * Decoded submitted image bytes; for an expand, the image on its expanded canvas (black where it is new), so
   * that `mask` marks what the expand generates.
   */
  image: Buffer;
  /** Decoded submitted mask bytes (null in alpha mode); for an expand, white where the picture is new. */
  mask: Buffer | null;
  /** Size of the image (an expand's: of the expanded canvas). */
  width: number;
  height: number;
  /** Size of the result image: the image's, or for an expand with outputSizeStep, rounded down. */
  resultWidth: number;
  resultHeight: number;
  /** Size of the image as submitted (an expand's before expanding). */
  inputWidth: number;
  inputHeight: number;
  /** Seed used (given or random 0..2^32-1). */
  seed: number;
  /** Prompt as "used" (with upsampling: the prompt plus a short added phrase). */
  prompt: string;
  outputFormat: OutputFormat;
}
