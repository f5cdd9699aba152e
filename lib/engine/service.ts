/**
 * One account's fill engine: a BflClient, the account's task slots, and the road of one job from prepared
 * images to result image: queue -> submit -> poll -> download. It knows nothing of Node-RED.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BflClient } from '../api/client';
import { BflError, cancelledError, downloadError, timeoutError } from '../errors';
import type { ApiEndpoint } from '../api/regions';
import type { RetryPolicy } from '../api/retry';
import type { FillParameters, ReadyResult, SubmittedTask } from '../api/types';
import type { PreparedImages } from '../image';
import { text } from '../messages';
import type { PhaseListener } from './phases';
import { DEFAULT_POLL_SCHEDULE, nextPollDelay, type PollSchedule } from './schedule';
import { JobScope } from './deadline';
import { TaskSlots } from './queue';

/** What the flow gets in msg.bfl. */
export interface FillMetadata {
  id: string;
  seed: number | null;
  prompt: string;
  cost: number | null;
  inputMp: number | null;
  outputMp: number | null;
  /** Seconds: BFL's reported generation time, or submit-to-ready as measured here. */
  duration: number;
  sampleUrl: string;
}

export interface FillResult {
  image: Buffer;
  metadata: FillMetadata;
}

export interface FillJob {
  parameters: FillParameters;
  images: PreparedImages;
  timeoutMs: number;
}

export interface FillServiceOptions {
  endpoint: ApiEndpoint;
  apiKey: string;
  maxConcurrent: number;
  /** Most jobs waiting for a slot before BFL_QUEUE_FULL. */
  maxQueued?: number;
  retry?: Partial<RetryPolicy>;
  pollSchedule?: Partial<PollSchedule>;
}

export const DEFAULT_MAX_QUEUED = 100;
/** How often an expired delivery URL is exchanged for a fresh one before giving up. */
const MAX_DELIVERY_REFRESHES = 2;

export class FillService {
  readonly slots: TaskSlots;
  private readonly client: BflClient;
  private readonly pollSchedule: PollSchedule;
  private closed = false;

  constructor(options: FillServiceOptions) {
    this.client = new BflClient({ endpoint: options.endpoint, apiKey: options.apiKey, retry: options.retry });
    this.slots = new TaskSlots(options.maxConcurrent, options.maxQueued ?? DEFAULT_MAX_QUEUED);
    this.pollSchedule = { ...DEFAULT_POLL_SCHEDULE, ...options.pollSchedule };
  }

  /**
   * Runs one job to its result. Rejects only with BflErrors: BFL_TIMEOUT when `timeoutMs` passes after the
   * job leaves the queue, BFL_CANCELLED when `signal` aborts (node closed).
   */
  async run(job: FillJob, signal: AbortSignal, onPhase: PhaseListener = () => undefined): Promise<FillResult> {
    if (this.closed) throw cancelledError();
    const scope = new JobScope(signal);
    let task: SubmittedTask | undefined;
    try {
      onPhase({ phase: 'queued' });
      const release = await this.slots.acquire(scope.signal);
      let ready: ReadyResult;
      const submittedAt = Date.now();
      try {
        scope.startDeadline(job.timeoutMs);
        onPhase({ phase: 'submitting' });
        task = await this.client.submitFill(job.parameters, job.images, scope.signal);
        ready = await this.pollUntilReady(task, scope.signal, onPhase, submittedAt);
      } finally {
        // BFL counts a task as active until it is terminal; the download does not hold a slot.
        release();
      }
      const readyAt = Date.now();
      onPhase({ phase: 'downloading', taskId: task.id });
      const { image, sampleUrl } = await this.downloadResult(task, ready, scope.signal);
      return { image, metadata: this.metadata(job, task, ready, sampleUrl, (readyAt - submittedAt) / 1000) };
    } catch (error) {
      throw this.explain(error, scope, job, task);
    } finally {
      scope.dispose();
    }
  }

  private async pollUntilReady(
    task: SubmittedTask,
    signal: AbortSignal,
    onPhase: PhaseListener,
    startedAt: number,
  ): Promise<ReadyResult> {
    onPhase({ phase: 'polling', taskId: task.id, startedAt, progress: undefined });
    for (;;) {
      await sleep(nextPollDelay(this.pollSchedule, Date.now() - startedAt), undefined, { signal });
      const outcome = await this.client.poll(task.id, task.pollingUrl, signal);
      if (outcome.kind === 'ready') return outcome.result;
      onPhase({ phase: 'polling', taskId: task.id, startedAt, progress: outcome.state.progress });
    }
  }

  /** Downloads at once (links expire after 10 minutes); an expired link is exchanged for a fresh one by polling. */
  private async downloadResult(
    task: SubmittedTask,
    ready: ReadyResult,
    signal: AbortSignal,
  ): Promise<{ image: Buffer; sampleUrl: string }> {
    let sampleUrl = ready.sampleUrl;
    for (let refresh = 0; ; refresh += 1) {
      const image = await this.client.download(task.id, sampleUrl, signal);
      if (image !== 'expired') return { image, sampleUrl };
      if (refresh >= MAX_DELIVERY_REFRESHES) break;
      // BFL re-signs on a new poll; the same URL again still deserves one more try (a 403 may be transient).
      const again = await this.client.poll(task.id, task.pollingUrl, signal);
      if (again.kind !== 'ready') break;
      sampleUrl = again.result.sampleUrl;
    }
    throw downloadError(task.id, text('download.reason.expired'), 403);
  }

  private metadata(
    job: FillJob,
    task: SubmittedTask,
    ready: ReadyResult,
    sampleUrl: string,
    measuredSeconds: number,
  ): FillMetadata {
    return {
      id: task.id,
      seed: ready.seed ?? job.parameters.seed ?? null,
      prompt: ready.prompt ?? job.parameters.prompt,
      cost: task.cost ?? ready.cost ?? null,
      inputMp: task.inputMp,
      outputMp: task.outputMp,
      duration: Math.round((ready.duration ?? measuredSeconds) * 1000) / 1000,
      sampleUrl,
    };
  }

  /** Every way out of a job becomes a BflError that names the task, if one was created. */
  private explain(error: unknown, scope: JobScope, job: FillJob, task: SubmittedTask | undefined): unknown {
    if (scope.timedOut) return timeoutError(job.timeoutMs / 1000, task?.id);
    if (scope.signal.aborted) {
      const reason: unknown = scope.signal.reason;
      return reason instanceof BflError ? reason : cancelledError(task?.id);
    }
    return error;
  }

  /** The account's credits, for the config node's "Check key". */
  async credits(signal: AbortSignal): Promise<number> {
    return this.client.credits(signal);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.client.close();
  }
}
