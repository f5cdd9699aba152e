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
  /** Signed delivery URL lifetime from completion, default 600_000 (10 min). */
  deliveryTtlMs?: number;
  /** Default 24 -> 429 beyond it. */
  maxActivePerKey?: number;
  /** Retry-After on 429, default 1. */
  retryAfterSeconds?: number;
  /** Default 5 (credits); null => submit returns cost null (and nothing is charged). */
  costPerImage?: number | null;
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
  /** Optional request log (one line per request); never carries x-key values. */
  log?: (line: string) => void;
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
}

export type FaultTarget = 'submit' | 'poll' | 'download' | 'credits';

export interface Fault {
  target: FaultTarget;
  status: number | 'drop';
  /** Default 1. */
  count?: number;
  retryAfterSeconds?: number;
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
  /** Decoded submitted image bytes. */
  image: Buffer;
  /** Decoded submitted mask bytes (null in alpha mode). */
  mask: Buffer | null;
  width: number;
  height: number;
  /** Seed used (given or random 0..2^32-1). */
  seed: number;
  /** Prompt as "used" (with upsampling: the prompt plus a short added phrase). */
  prompt: string;
  outputFormat: OutputFormat;
}
