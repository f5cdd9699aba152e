/**
 * One account's fill engine: a BflClient, the account's task slots, and the road of one job from prepared
 * images to result image: queue -> submit -> poll -> download. It knows nothing of Node-RED.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BflClient } from '../api/client';
import { BflError, cancelledError, downloadError, timeoutError, type JobPoint } from '../errors';
import type { ApiEndpoint } from '../api/regions';
import { RequestAborted, type RetryPolicy } from '../api/retry';
import type { FillParameters, ReadyResult, SubmittedTask } from '../api/types';
import type { FillImages } from '../api/request-body';
import { modelOf } from '../api/models';
import { text } from '../messages';
import type { PhaseListener } from './phases';
import { CompletionWatch } from './completion-watch';
import { webhookOrPolling } from './completion';
import { taskKind, type TaskDurations } from './durations';
import { DEFAULT_POLL_SCHEDULE, expectedFinishMs, type PollSchedule } from './schedule';
import type { SpendGate } from './budget';
import { JobScope } from './deadline';
import { ArrivalOrder, TaskSlots } from './queue';
import type { WebhookExpectation, WebhookReceiver } from './webhooks';

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
  images: FillImages;
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
  /** The account's daily credit limit; every submit passes it first. */
  budget?: SpendGate;
  /** Set when BFL can reach this Node-RED: submits ask for a webhook, and jobs wait for it instead of polling. */
  webhooks?: WebhookReceiver;
  /** How long after its submit a job waits for its webhook before it polls (default: expected finish + margin). */
  webhookFallbackMs?: number;
  /** How long the account's tasks take, learned as they finish; it shapes when they are polled. */
  durations?: TaskDurations;
}

/** How a task is followed to Ready: from when, as what kind (for the durations learned), first poll when. */
interface Follow {
  /** When the submit was answered: BFL's clock for the task starts about then. */
  acceptedAt: number;
  /** Undefined: nothing is learned from this task (a resumed one, whose images are gone). */
  kind: string | undefined;
  /** Undefined: the schedule decides; a resumed task is polled at once (0). */
  firstWaitMs?: number;
}

/** Past the task's expected finish, how long a webhook may be late before the job polls after all. */
export const WEBHOOK_MARGIN_MS = 5_000;

/** A task submitted earlier, as the journal kept it: enough to follow it and describe its result. */
export interface ResumedJob {
  parameters: FillParameters;
  submittedAt: number;
  /** How long to follow it from now. */
  timeoutMs: number;
}

export interface RunHooks {
  /** The submit is about to be sent (the job left the queue and passed the credit limit). */
  onSubmitting?: () => void;
  /** The API accepted the task: called before the first poll, so the journal can keep it. */
  onSubmitted?: (task: SubmittedTask, submittedAt: number) => void | Promise<void>;
}

/**
 * Whether a failed submit provably created no task: the API refused it (key, credits, fields, a 429 to the
 * end), the connection never opened, or the job ended before the body went out. Anything else (5xx, a broken
 * connection, an abort mid-upload) may have been billed.
 */
function createdNoTask(error: unknown, signal: AbortSignal): boolean {
  if (signal.aborted) return error instanceof RequestAborted && !error.taskMayExist;
  if (!(error instanceof BflError)) return false;
  if (['BFL_AUTH', 'BFL_CREDITS', 'BFL_RATE_LIMITED', 'BFL_VALIDATION'].includes(error.code)) return true;
  return error.code === 'BFL_NETWORK' && error.text.key.startsWith('network.unreachable');
}

export const DEFAULT_MAX_QUEUED = 100;
/** Messages preparing their images at once: a small device decodes few big images at a time. */
const PREPARING_AT_ONCE = 2;
/** How often an expired delivery URL is exchanged for a fresh one before giving up. */
const MAX_DELIVERY_REFRESHES = 2;

export class FillService {
  readonly slots: TaskSlots;
  /** The order messages arrived in, kept until they enter the queue (see ArrivalOrder). */
  readonly arrivals = new ArrivalOrder(PREPARING_AT_ONCE);
  private readonly client: BflClient;
  private readonly pollSchedule: PollSchedule;
  private readonly budget: SpendGate | undefined;
  private readonly endpoint: ApiEndpoint;
  private readonly webhooks: WebhookReceiver | undefined;
  /** Set in settings.js: the whole wait for a webhook; else it comes from the task's expected finish. */
  private readonly webhookFallbackMs: number | undefined;
  private readonly durations: TaskDurations | undefined;
  private readonly running = new Set<Promise<void>>();
  private closed = false;

  constructor(options: FillServiceOptions) {
    this.client = new BflClient({ endpoint: options.endpoint, apiKey: options.apiKey, retry: options.retry });
    this.budget = options.budget;
    this.durations = options.durations;
    this.slots = new TaskSlots(options.maxConcurrent, options.maxQueued ?? DEFAULT_MAX_QUEUED);
    this.pollSchedule = { ...DEFAULT_POLL_SCHEDULE, ...options.pollSchedule };
    this.endpoint = options.endpoint;
    this.webhooks = options.webhooks;
    this.webhookFallbackMs = options.webhookFallbackMs;
  }

  /**
   * Runs one job to its result. Rejects only with BflErrors: BFL_TIMEOUT when `timeoutMs` passes after the
   * job leaves the queue, BFL_CANCELLED when `signal` aborts (node closed), BFL_BUDGET when the daily credit
   * limit would be exceeded.
   */
  run(
    job: FillJob,
    signal: AbortSignal,
    onPhase: PhaseListener = () => undefined,
    hooks: RunHooks = {},
  ): Promise<FillResult> {
    return this.track(this.runJob(job, signal, onPhase, hooks));
  }

  /**
   * Follows a task submitted earlier (before a restart) to its result: polls its polling URL, downloads. It
   * takes a slot at once, even over the limit, because BFL counts it as active already.
   */
  resume(
    task: SubmittedTask,
    job: ResumedJob,
    signal: AbortSignal,
    onPhase: PhaseListener = () => undefined,
  ): Promise<FillResult> {
    return this.track(this.resumeJob(task, job, signal, onPhase));
  }

  private async runJob(
    job: FillJob,
    signal: AbortSignal,
    onPhase: PhaseListener,
    hooks: RunHooks,
  ): Promise<FillResult> {
    if (this.closed) throw cancelledError();
    const scope = new JobScope(signal);
    let task: SubmittedTask | undefined;
    let ready: ReadyResult | undefined;
    let expectation: WebhookExpectation | undefined;
    try {
      onPhase({ phase: 'queued' });
      const release = await this.slots.acquire(scope.signal);
      const submittedAt = Date.now();
      try {
        scope.startDeadline(job.timeoutMs);
        // Before the submit: BFL may announce a quick task's end before its answer to the submit arrives.
        expectation = this.webhooks?.expect();
        task = await this.submit(job, scope.signal, onPhase, hooks, expectation);
        const acceptedAt = Date.now();
        await hooks.onSubmitted?.(task, submittedAt);
        const { width, height } = job.images;
        const kind =
          width === undefined || height === undefined
            ? undefined
            : taskKind(modelOf(job.parameters.model).id, width, height);
        ready = await this.awaitReady(task, scope.signal, onPhase, submittedAt, { acceptedAt, kind }, expectation);
      } finally {
        // BFL counts a task as active until it is terminal; the download does not hold a slot.
        release();
      }
      return await this.finish(job, task, ready, submittedAt, scope.signal, onPhase);
    } catch (error) {
      throw this.explain(error, scope, job.timeoutMs, task, ready !== undefined);
    } finally {
      expectation?.dispose();
      scope.dispose();
    }
  }

  private async resumeJob(
    task: SubmittedTask,
    job: ResumedJob,
    signal: AbortSignal,
    onPhase: PhaseListener,
  ): Promise<FillResult> {
    if (this.closed) throw cancelledError(task.id);
    const scope = new JobScope(signal);
    let ready: ReadyResult | undefined;
    // A webhook that came while Node-RED was down is lost: the first poll, at once, makes up for it.
    const expectation = task.webhookToken === undefined ? undefined : this.webhooks?.expect(task.webhookToken);
    try {
      const release = this.slots.adopt();
      try {
        scope.startDeadline(job.timeoutMs);
        expectation?.forTask(task.id);
        const follow = { acceptedAt: job.submittedAt, kind: undefined, firstWaitMs: 0 };
        ready = await this.awaitReady(task, scope.signal, onPhase, job.submittedAt, follow, expectation);
      } finally {
        release();
      }
      return await this.finish(job, task, ready, job.submittedAt, scope.signal, onPhase);
    } catch (error) {
      throw this.explain(error, scope, job.timeoutMs, task, ready !== undefined);
    } finally {
      expectation?.dispose();
      scope.dispose();
    }
  }

  /** Passes the credit limit, then submits; a submit that provably created no task costs nothing. */
  private async submit(
    job: FillJob,
    signal: AbortSignal,
    onPhase: PhaseListener,
    hooks: RunHooks,
    expectation: WebhookExpectation | undefined,
  ): Promise<SubmittedTask> {
    const { listPrice } = modelOf(job.parameters.model);
    const reservation = this.budget?.reserve(listPrice);
    onPhase({ phase: 'submitting' });
    hooks.onSubmitting?.();
    let task: SubmittedTask;
    try {
      task = await this.client.submitFill(job.parameters, job.images, signal, expectation?.webhook);
    } catch (error) {
      if (createdNoTask(error, signal)) reservation?.release();
      else reservation?.settle(listPrice);
      throw error;
    }
    reservation?.settle(task.cost ?? listPrice);
    if (!expectation) return task;
    expectation.forTask(task.id);
    // Kept with the task, so a job resumed after a restart still recognises its webhook.
    return { ...task, webhookToken: expectation.token };
  }

  /** The task's end: by polling, or with a webhook expected, by whichever tells first (./completion). */
  private async awaitReady(
    task: SubmittedTask,
    signal: AbortSignal,
    onPhase: PhaseListener,
    startedAt: number,
    follow: Follow,
    expectation: WebhookExpectation | undefined,
  ): Promise<ReadyResult> {
    if (!expectation) return this.pollUntilReady(task, signal, onPhase, startedAt, follow);
    let polledToReady = false;
    const ready = await webhookOrPolling(
      {
        expectation,
        endpoint: this.endpoint,
        waitMs: follow.firstWaitMs ?? Math.max(0, this.webhookDeadline(follow, startedAt) - Date.now()),
        poll: async (pollSignal) => {
          const result = await this.pollUntilReady(task, pollSignal, onPhase, startedAt, { ...follow, firstWaitMs: 0 });
          polledToReady = true;
          return result;
        },
        onWaiting: () => onPhase({ phase: 'polling', taskId: task.id, startedAt, progress: undefined, webhook: true }),
      },
      signal,
    );
    // The poll that found it Ready has learned from it; a webhook teaches the same, or a lost one would always
    // cost the fallback of an account that never learned.
    if (!polledToReady && follow.kind !== undefined) {
      const watch = new CompletionWatch(this.pollSchedule, undefined, follow.acceptedAt);
      this.durations?.record(follow.kind, watch.duration(ready.endTime));
    }
    return ready;
  }

  /**
   * When a job stops waiting for its webhook and polls: the late edge of the finish window the account learned
   * for such tasks (else the schedule's expected finish) plus a margin, unless settings.js sets the whole wait.
   */
  private webhookDeadline(follow: Follow, startedAt: number): number {
    if (this.webhookFallbackMs !== undefined) return startedAt + this.webhookFallbackMs;
    const learned = follow.kind === undefined ? undefined : this.durations?.window(follow.kind);
    const finishMs = learned?.latestMs ?? expectedFinishMs(this.pollSchedule);
    return follow.acceptedAt + finishMs + WEBHOOK_MARGIN_MS;
  }

  private async finish(
    job: Pick<FillJob, 'parameters'>,
    task: SubmittedTask,
    ready: ReadyResult,
    submittedAt: number,
    signal: AbortSignal,
    onPhase: PhaseListener,
  ): Promise<FillResult> {
    const readyAt = Date.now();
    onPhase({ phase: 'downloading', taskId: task.id });
    const { image, sampleUrl } = await this.downloadResult(task, ready, signal);
    return { image, metadata: this.metadata(job, task, ready, sampleUrl, (readyAt - submittedAt) / 1000) };
  }

  /** Keeps count of the jobs running, so close() can let them finish before it closes the connections. */
  private track<T>(run: Promise<T>): Promise<T> {
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.running.add(settled);
    void settled.then(() => this.running.delete(settled));
    return run;
  }

  /** Polls on the account's schedule (./schedule) until Ready, and learns how long the task took. */
  private async pollUntilReady(
    task: SubmittedTask,
    signal: AbortSignal,
    onPhase: PhaseListener,
    startedAt: number,
    follow: Follow,
  ): Promise<ReadyResult> {
    onPhase({ phase: 'polling', taskId: task.id, startedAt, progress: undefined });
    const learned = follow.kind === undefined ? undefined : this.durations?.window(follow.kind);
    const watch = new CompletionWatch(this.pollSchedule, learned, follow.acceptedAt);
    for (let first = true; ; first = false) {
      const wait = first && follow.firstWaitMs !== undefined ? follow.firstWaitMs : watch.nextDelay();
      await sleep(wait, undefined, { signal });
      watch.polling();
      const outcome = await this.client.poll(task.id, task.pollingUrl, signal);
      if (outcome.kind === 'ready') {
        if (follow.kind !== undefined) this.durations?.record(follow.kind, watch.duration(outcome.result.endTime));
        return outcome.result;
      }
      watch.inProgress(outcome.state.progress);
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
    job: Pick<FillJob, 'parameters'>,
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

  /**
   * Every way out of a job becomes a BflError that names the task, if one was created, and says what may have
   * been billed: a deadline or close during the submit may have left a task without an id to name.
   */
  private explain(
    error: unknown,
    scope: JobScope,
    timeoutMs: number,
    task: SubmittedTask | undefined,
    isReady: boolean,
  ): unknown {
    if (!scope.signal.aborted) return error;
    const aborted = error instanceof RequestAborted ? error : undefined;
    let point: JobPoint;
    if (isReady) point = 'task-ready';
    else if (task) point = 'task-running';
    else point = aborted?.taskMayExist ? 'submit-unanswered' : 'before-submit';
    if (scope.timedOut) return timeoutError(timeoutMs / 1000, task?.id, point, aborted?.lastFailure);
    const reason: unknown = scope.signal.reason;
    return reason instanceof BflError ? reason : cancelledError(task?.id, point);
  }

  /** The account's credits, for the config node's "Check key". */
  async credits(signal: AbortSignal): Promise<number> {
    return this.client.credits(signal);
  }

  /**
   * Takes no new job, lets the running ones finish (a node that closed for a redeploy hands them to its
   * successor, and an aborted one ends at once), then closes the connection pools.
   */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.running]);
    await this.client.close();
  }
}
