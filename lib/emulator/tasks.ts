/**
 * The task lifecycle: a submitted task's state, the timer that finishes it, charging and refunds, the signed
 * result and its webhook, the poll body, and the tests waiting for a task to reach some state.
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { Accounts } from './accounts';
import { blobPath, makeBlob, type Blob, type DeliverySigner } from './delivery';
import { composeOutput } from './images';
import type { Config } from './options';
import { errorDetails, STATUS, TERMINAL_STATUSES, upsamplePrompt, type ResolvedScenario } from './scenarios';
import type { DeliveredWebhook, EmulatorTask } from './types';
import type { FillParams } from './validation';
import { forgedPayload, legacyPayload, WebhookSender } from './webhooks';

/** What the emulator knows about a task beyond the public EmulatorTask. */
interface TaskState {
  task: EmulatorTask;
  scenario: ResolvedScenario;
  /** Credits taken at submit and not refunded (yet). */
  charged: number;
  timer: NodeJS.Timeout | null;
  blobPath: string | null;
  sampleUrl: string | null;
  details: Record<string, unknown> | null;
  webhookUrl: string | null;
  webhookSecret: string | null;
  /** The result image, made while the task processes, so it is Ready after processingMs and not later. */
  output: Promise<OutputMade> | null;
}

type OutputMade = { image: Buffer } | { failure: string };

/** BFL's ResultResponse: always these six keys. */
export interface ResultBody {
  id: string;
  status: string;
  result: Record<string, unknown> | null;
  progress: number | null;
  details: Record<string, unknown> | null;
  preview: null;
}

/** The decoded submitted images, and the sizes of the input and the result. */
export type TaskInputs = Pick<
  EmulatorTask,
  'image' | 'mask' | 'width' | 'height' | 'resultWidth' | 'resultHeight' | 'inputWidth' | 'inputHeight'
>;

interface Waiter {
  predicate: (task: EmulatorTask) => boolean;
  resolve: (task: EmulatorTask) => void;
}

function summariseBody(body: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...body };
  for (const field of ['image', 'mask']) {
    const value = copy[field];
    if (typeof value === 'string') copy[field] = `<base64 ${value.length} chars>`;
  }
  // What tests and logs may see of a task must not hand out the receiver's secret.
  if (typeof copy.webhook_secret === 'string') copy.webhook_secret = '<secret>';
  return copy;
}

export class TaskLifecycle {
  readonly tasks = new Map<string, EmulatorTask>();
  /** Finished images by delivery path. */
  readonly blobs = new Map<string, Blob>();
  /** Which task each delivery path belongs to, so a download finds the faults of its task. */
  private readonly blobTasks = new Map<string, string>();

  private readonly states = new Map<string, TaskState>();
  private readonly webhooks = new WebhookSender();
  /** Tasks the API origin answers polls for: their submit answer named no polling URL. */
  readonly servedOnApi = new Set<string>();
  /** Every webhook posted, in order. */
  readonly deliveredWebhooks: DeliveredWebhook[] = [];
  private webhookWaiters: { predicate: (webhook: DeliveredWebhook) => boolean; resolve: () => void }[] = [];
  private waiters: Waiter[] = [];
  private closed = false;

  constructor(
    private readonly accounts: Accounts,
    private readonly signer: DeliverySigner,
    private readonly config: Config,
    private readonly deliveryUrl: string,
  ) {}

  /** After close() no task may start or change any more. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Starts a task and takes its charge from the key's credits. */
  create(
    key: string,
    params: FillParams,
    body: Record<string, unknown>,
    inputs: TaskInputs,
    scenario: ResolvedScenario,
    charge: number,
  ): EmulatorTask {
    const seed = params.seed ?? randomInt(0, 2 ** 32);
    const task: EmulatorTask = {
      id: randomUUID(),
      key,
      status: scenario.inProgressStatus,
      submittedAt: Date.now(),
      completedAt: null,
      body: summariseBody(body),
      model: params.model,
      image: inputs.image,
      mask: inputs.mask,
      width: inputs.width,
      height: inputs.height,
      resultWidth: inputs.resultWidth,
      resultHeight: inputs.resultHeight,
      inputWidth: inputs.inputWidth,
      inputHeight: inputs.inputHeight,
      seed,
      prompt: params.promptUpsampling ? upsamplePrompt(params.prompt, seed) : params.prompt,
      outputFormat: params.outputFormat,
    };
    const state: TaskState = {
      task,
      scenario,
      charged: charge,
      timer: null,
      blobPath: null,
      sampleUrl: null,
      details: null,
      webhookUrl: params.webhookUrl,
      webhookSecret: params.webhookSecret,
      output: null,
    };
    this.accounts.add(key, -charge);
    this.tasks.set(task.id, task);
    this.states.set(task.id, state);

    switch (scenario.outcome) {
      case 'request-moderated':
        // Input moderation happens before any processing: the very first poll already sees it.
        this.complete(state, STATUS.requestModerated);
        break;
      case 'not-found':
        this.complete(state, STATUS.notFound);
        break;
      case 'stuck':
        break;
      default:
        if (scenario.outcome === 'ready') {
          // sharp does the work off the event loop; a failure is kept and becomes the task's Error at its end.
          state.output = composeOutput(task).then(
            (image) => ({ image }),
            (err: unknown) => ({ failure: err instanceof Error ? err.message : String(err) }),
          );
        }
        state.timer = setTimeout(() => void this.finishProcessing(state), scenario.processingMs);
        state.timer.unref();
    }
    this.notifyWaiters(task);
    return task;
  }

  /** What a poll for `id` answers, freshly signed; null when there is no such task (or it plays "not found"). */
  poll(id: string): ResultBody | null {
    const state = this.states.get(id);
    if (!state || state.task.status === STATUS.notFound) return null;
    return this.resultBody(state, true);
  }

  activeCount(key?: string): number {
    let count = 0;
    for (const task of this.tasks.values()) {
      if ((key === undefined || task.key === key) && !TERMINAL_STATUSES.has(task.status)) count += 1;
    }
    return count;
  }

  /**
   * Resolves with the first task, existing or future, that matches. Matching is checked when a task is submitted
   * and again whenever its status changes.
   */
  waitFor(predicate: (task: EmulatorTask) => boolean): Promise<EmulatorTask> {
    for (const task of this.tasks.values()) if (predicate(task)) return Promise.resolve(task);
    return new Promise((resolve) => this.waiters.push({ predicate, resolve }));
  }

  /** Resolves once a webhook that matches has been answered by its receiver (or failed: answer 0). */
  webhookAnswered(predicate: (webhook: DeliveredWebhook) => boolean): Promise<void> {
    return new Promise((resolve) => this.webhookWaiters.push({ predicate, resolve }));
  }

  /** The task whose result `path` is, if it is known. */
  taskOfBlob(path: string): string | null {
    return this.blobTasks.get(path) ?? null;
  }

  /** Forgets every task; waiters keep waiting for tasks still to come. */
  reset(): void {
    this.forget();
    this.deliveredWebhooks.length = 0;
    this.blobs.clear();
    this.blobTasks.clear();
  }

  /**
   * Forgets every task, as a cluster that restarted without its store: polls answer Task not found. Results
   * already stored stay downloadable while their links last, as blobs outlive the cluster that made them.
   */
  forget(): void {
    this.stopAll();
    this.servedOnApi.clear();
    this.states.clear();
    this.tasks.clear();
  }

  close(): void {
    this.stopAll();
    this.closed = true;
  }

  private stopAll(): void {
    for (const state of this.states.values()) this.stopTimer(state);
    this.webhooks.abortAll();
  }

  private live(state: TaskState): boolean {
    return !this.closed && this.states.get(state.task.id) === state;
  }

  private stopTimer(state: TaskState): void {
    if (state.timer) clearTimeout(state.timer);
    state.timer = null;
  }

  private async finishProcessing(state: TaskState): Promise<void> {
    state.timer = null;
    if (!this.live(state)) return;
    const { task, scenario } = state;
    switch (scenario.outcome) {
      case 'content-moderated':
        return this.complete(state, STATUS.contentModerated);
      case 'error':
        return this.complete(state, STATUS.error, errorDetails('error'));
      case 'failed':
        return this.complete(state, STATUS.failed, errorDetails('failed'));
      default:
        break;
    }
    if (!state.output) return;
    const made = await state.output;
    state.output = null;
    if (!this.live(state)) return;
    if ('failure' in made) {
      return this.complete(state, STATUS.error, {
        message: `The emulator could not produce the image: ${made.failure}`,
      });
    }
    const output = made.image;
    const completedAt = Date.now();
    const path = blobPath(completedAt, task.outputFormat);
    this.blobs.set(path, makeBlob(output, task.outputFormat, completedAt));
    this.blobTasks.set(path, task.id);
    state.blobPath = path;
    this.complete(state, STATUS.ready, null, completedAt);
  }

  private complete(
    state: TaskState,
    status: string,
    details: Record<string, unknown> | null = null,
    completedAt = Date.now(),
  ): void {
    const { task, scenario } = state;
    this.stopTimer(state);
    task.status = status;
    task.completedAt = completedAt;
    if (status === STATUS.requestModerated || status === STATUS.contentModerated) {
      // Moderated tasks are not billed.
      this.accounts.add(task.key, state.charged);
      state.charged = 0;
      state.details = { 'Moderation Reasons': [...scenario.moderationReasons] };
    } else {
      state.details = details;
    }
    if (status === STATUS.ready && state.blobPath) {
      state.sampleUrl = this.signer.sign(state.blobPath, task.outputFormat, completedAt, this.deliveryUrl);
    }
    if (state.webhookUrl !== null && status !== STATUS.notFound && !scenario.webhook.drop) {
      // Deferred: a task moderated at submit must not call back before its submit was answered.
      const delayMs = scenario.webhook.delayMs ?? 0;
      if (delayMs > 0) this.webhooks.later(delayMs, () => this.sendWebhook(state));
      else setImmediate(() => this.sendWebhook(state));
    }
    this.notifyWaiters(task);
  }

  private sendWebhook(state: TaskState): void {
    if (!this.live(state) || state.webhookUrl === null) return;
    const { scenario, task } = state;
    const url = state.webhookUrl;
    const body = this.resultBody(state, false);
    const style = scenario.webhook.style ?? this.config.webhookStyle;
    const payload: Record<string, unknown> = style === 'legacy' ? legacyPayload(body) : { ...body };
    const post = (content: Record<string, unknown>, secret: string | null, forged: boolean): void => {
      const record: DeliveredWebhook = {
        taskId: task.id,
        url,
        status: task.status,
        style,
        forged,
        sentAt: Date.now(),
        answer: 0,
      };
      this.deliveredWebhooks.push(record);
      void this.webhooks.send(url, content, secret).then((answer) => {
        record.answer = answer;
        this.webhookWaiters = this.webhookWaiters.filter((waiter) => {
          if (!waiter.predicate(record)) return true;
          waiter.resolve();
          return false;
        });
      });
    };
    if (scenario.webhook.forge) post(forgedPayload(payload), `forged-${randomUUID()}`, true);
    const copies = this.config.webhookDuplicates || scenario.webhook.duplicate ? 2 : 1;
    for (let i = 0; i < copies; i++) post(payload, state.webhookSecret, false);
  }

  /** The six-key ResultResponse every poll answers with; `resign` gives a Ready task a freshly signed URL. */
  private resultBody(state: TaskState, resign: boolean): ResultBody {
    const { task, scenario } = state;
    const inProgress = !TERMINAL_STATUSES.has(task.status);
    let result: Record<string, unknown> | null = null;
    if (task.status === STATUS.ready && task.completedAt !== null && state.blobPath) {
      if (resign && this.config.resignOnPoll) {
        state.sampleUrl = this.signer.sign(state.blobPath, task.outputFormat, Date.now(), this.deliveryUrl);
      }
      result = {
        sample: state.sampleUrl,
        prompt: task.prompt,
        seed: task.seed,
        start_time: task.submittedAt / 1000,
        end_time: task.completedAt / 1000,
        duration: (task.completedAt - task.submittedAt) / 1000,
      };
    }
    let progress: number | null = null;
    if (inProgress && scenario.progress) {
      const fraction = scenario.processingMs > 0 ? (Date.now() - task.submittedAt) / scenario.processingMs : 1;
      progress = Math.min(0.99, Math.round(fraction * 100) / 100);
    }
    return { id: task.id, status: task.status, result, progress, details: state.details, preview: null };
  }

  private notifyWaiters(task: EmulatorTask): void {
    if (this.waiters.length === 0) return;
    const pending: Waiter[] = [];
    for (const waiter of this.waiters) {
      let matches = false;
      try {
        matches = waiter.predicate(task);
      } catch {
        matches = false;
      }
      if (matches) waiter.resolve(task);
      else pending.push(waiter);
    }
    this.waiters = pending;
  }
}
