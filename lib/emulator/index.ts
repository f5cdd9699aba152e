import * as http from 'node:http';
import { randomInt, randomUUID } from 'node:crypto';
import { Accounts, INVALID_AUTHENTICATION } from './accounts';
import { blobPath, DeliverySigner, makeBlob, serveBlob, type Blob } from './delivery';
import { FaultQueue } from './faults';
import {
  BodyTooLargeError,
  closeServer,
  Exchange,
  headerRecord,
  isLoopbackHost,
  listen,
  methodNotAllowed,
  notFound,
  originOf,
  readBody,
  statusText,
} from './http';
import { composeOutput, decodeInputs } from './images';
import { PollRateLimiter } from './ratelimit';
import {
  errorDetails,
  resolveScenario,
  STATUS,
  TERMINAL_STATUSES,
  upsamplePrompt,
  type ResolvedScenario,
} from './scenarios';
import type { EmulatorOptions, EmulatorTask, Fault, FaultTarget, RecordedRequest, TaskScenario } from './types';
import { decodeRequestBody, validateFillBody, type FillParams } from './validation';
import { legacyPayload, WebhookSender } from './webhooks';

export type {
  EmulatorOptions,
  EmulatorTask,
  Fault,
  FaultTarget,
  RecordedRequest,
  TaskOutcome,
  TaskScenario,
} from './types';

/** A key any emulator accepts when it was started without `keys`; the `emulator` region uses it. */
export const DEFAULT_EMULATOR_KEY = 'bfl_emulator_local_key';

export const SUBMIT_PATH = '/v1/flux-pro-1.0-fill';
const POLL_PATH = '/v1/get_result';
const CREDITS_PATH = '/v1/credits';
/** Generous: a 20 MP PNG as base64 plus its mask fits. */
const BODY_LIMIT = 96 * 1024 * 1024;

type Origin = RecordedRequest['origin'];

interface Config {
  processingMs: number;
  deliveryTtlMs: number;
  maxActivePerKey: number;
  retryAfterSeconds: number;
  costPerImage: number | null;
  resignOnPoll: boolean;
  webhookResponse: boolean;
  webhookStyle: 'current' | 'legacy';
  webhookDuplicates: boolean;
  log: ((line: string) => void) | undefined;
}

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
}

/** BFL's ResultResponse: always these six keys. */
interface ResultBody {
  id: string;
  status: string;
  result: Record<string, unknown> | null;
  progress: number | null;
  details: Record<string, unknown> | null;
  preview: null;
}

interface Waiter {
  predicate: (task: EmulatorTask) => boolean;
  resolve: (task: EmulatorTask) => void;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`BflEmulator: ${name} must be a non-negative number`);
  }
  return value;
}

function port(name: string, value: number | undefined): number {
  const p = value ?? 0;
  if (!Number.isInteger(p) || p < 0 || p > 65535) throw new RangeError(`BflEmulator: ${name} must be a port number`);
  return p;
}

const megapixels = (width: number, height: number) => Math.round((width * height) / 10_000) / 100;

function summariseBody(body: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...body };
  for (const field of ['image', 'mask']) {
    const value = copy[field];
    if (typeof value === 'string') copy[field] = `<base64 ${value.length} chars>`;
  }
  return copy;
}

/**
 * A local BFL API for FLUX.1 Fill [pro] on three loopback origins: the API (submit, credits), a "cluster" that
 * answers the polling_url, and a "delivery" host that serves signed result URLs. Keeping them apart catches
 * clients that rebuild the poll URL or send their key to the image host.
 */
export class BflEmulator {
  readonly requests: RecordedRequest[] = [];
  readonly tasks = new Map<string, EmulatorTask>();

  private readonly states = new Map<string, TaskState>();
  private readonly blobs = new Map<string, Blob>();
  private readonly faults = new FaultQueue();
  private readonly rateLimiter = new PollRateLimiter();
  private readonly webhooks = new WebhookSender();
  private readonly signer: DeliverySigner;
  private queued: TaskScenario[] = [];
  private defaultScenario: TaskScenario = {};
  private waiters: Waiter[] = [];
  private closing: Promise<void> | null = null;

  private constructor(
    readonly apiUrl: string,
    readonly clusterUrl: string,
    readonly deliveryUrl: string,
    private readonly servers: http.Server[],
    private readonly accounts: Accounts,
    private readonly config: Config,
  ) {
    this.signer = new DeliverySigner(config.deliveryTtlMs);
  }

  static async start(options: EmulatorOptions = {}): Promise<BflEmulator> {
    const host = options.host ?? '127.0.0.1';
    if (!isLoopbackHost(host)) {
      throw new Error(`BflEmulator listens on loopback only (127.0.0.0/8, ::1, localhost), not on "${host}"`);
    }
    const config: Config = {
      processingMs: nonNegative('processingMs', options.processingMs, 1500),
      deliveryTtlMs: nonNegative('deliveryTtlMs', options.deliveryTtlMs, 600_000),
      maxActivePerKey: nonNegative('maxActivePerKey', options.maxActivePerKey, 24),
      retryAfterSeconds: nonNegative('retryAfterSeconds', options.retryAfterSeconds, 1),
      costPerImage: options.costPerImage === null ? null : nonNegative('costPerImage', options.costPerImage, 5),
      resignOnPoll: options.resignOnPoll ?? true,
      webhookResponse: options.webhookResponse ?? false,
      webhookStyle: options.webhookStyle ?? 'current',
      webhookDuplicates: options.webhookDuplicates ?? false,
      log: options.log,
    };
    const accounts = new Accounts(options.keys, nonNegative('defaultCredits', options.defaultCredits, 1000));
    const ports = [
      port('port', options.port),
      port('clusterPort', options.clusterPort),
      port('deliveryPort', options.deliveryPort),
    ];
    const origins: Origin[] = ['api', 'cluster', 'delivery'];

    // Requests are routed to the instance, which exists only once every port is known.
    let instance: BflEmulator | null = null;
    const servers = origins.map((origin) =>
      http.createServer({ keepAliveTimeout: 5000 }, (req, res) => {
        if (instance) instance.handle(origin, req, res);
        else res.writeHead(503, { 'content-type': 'application/json' }).end('{"detail":"Service Unavailable"}');
      }),
    );
    try {
      const bound: number[] = [];
      for (let i = 0; i < servers.length; i++) bound.push(await listen(servers[i]!, host, ports[i]!));
      const [api, cluster, delivery] = bound.map((p) => originOf(host, p));
      instance = new BflEmulator(api!, cluster!, delivery!, servers, accounts, config);
      return instance;
    } catch (err) {
      await Promise.all(servers.map(closeServer));
      throw err;
    }
  }

  // ---- control surface for tests -------------------------------------------------------------------------

  nextTask(scenario: TaskScenario): void {
    this.queued.push({ ...scenario });
  }

  setDefaultScenario(scenario: TaskScenario): void {
    this.defaultScenario = { ...scenario };
  }

  injectFault(fault: Fault): void {
    this.faults.inject(fault);
  }

  setCredits(key: string, credits: number): void {
    this.accounts.setCredits(key, credits);
  }

  credits(key: string): number {
    return this.accounts.credits(key);
  }

  activeCount(key?: string): number {
    let count = 0;
    for (const task of this.tasks.values()) {
      if ((key === undefined || task.key === key) && !TERMINAL_STATUSES.has(task.status)) count += 1;
    }
    return count;
  }

  expireDeliveries(): void {
    this.signer.expireAll();
  }

  /**
   * Resolves with the first task, existing or future, that matches. Matching is checked when a task is submitted
   * and again whenever its status changes, so `t => t.status === 'Ready'` works too.
   */
  waitForTask(predicate: (task: EmulatorTask) => boolean = () => true): Promise<EmulatorTask> {
    for (const task of this.tasks.values()) if (predicate(task)) return Promise.resolve(task);
    return new Promise((resolve) => this.waiters.push({ predicate, resolve }));
  }

  reset(): void {
    for (const state of this.states.values()) this.stopTimer(state);
    this.states.clear();
    this.tasks.clear();
    this.blobs.clear();
    this.requests.length = 0;
    this.queued = [];
    this.defaultScenario = {};
    this.faults.clear();
    this.accounts.reset();
    this.rateLimiter.reset();
    this.webhooks.abortAll();
  }

  close(): Promise<void> {
    if (!this.closing) {
      for (const state of this.states.values()) this.stopTimer(state);
      this.webhooks.abortAll();
      this.closing = Promise.all(this.servers.map(closeServer)).then(() => undefined);
    }
    return this.closing;
  }

  // ---- request routing -----------------------------------------------------------------------------------

  private handle(origin: Origin, req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const record: RecordedRequest = {
      origin,
      method: req.method ?? 'GET',
      path: q === -1 ? url : url.slice(0, q),
      query: q === -1 ? '' : url.slice(q + 1),
      headers: headerRecord(req.headers),
      status: 0,
      at: Date.now(),
    };
    this.requests.push(record);
    const ex = new Exchange(req, res, record);
    if (this.config.log) {
      const log = this.config.log;
      res.once('close', () => {
        // Method, origin, path and status only: headers (the key) and queries (signatures) stay out of logs.
        const outcome = record.status === 0 ? 'dropped' : String(record.status);
        log(`${record.method} ${origin} ${record.path} ${outcome} ${Date.now() - record.at}ms`);
      });
    }
    this.route(origin, ex).catch((err: unknown) => {
      if (!ex.answered) ex.json(500, { detail: 'Internal Server Error' });
      this.config.log?.(`internal error: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  private async route(origin: Origin, ex: Exchange): Promise<void> {
    const { path, method } = ex.record;
    if (origin === 'delivery') {
      if (this.fault('download', ex)) return;
      serveBlob(ex, this.signer, this.blobs);
      return;
    }
    if (path === POLL_PATH) {
      if (method !== 'GET') return methodNotAllowed(ex, 'GET');
      // The API origin never owns a task: only the polling_url's cluster does, as with BFL's global endpoint.
      return this.poll(ex, origin === 'cluster');
    }
    if (origin === 'api' && path === SUBMIT_PATH) {
      if (method !== 'POST') return methodNotAllowed(ex, 'POST');
      return this.submit(ex);
    }
    if (origin === 'api' && path === CREDITS_PATH) {
      if (method !== 'GET') return methodNotAllowed(ex, 'GET');
      return this.creditsEndpoint(ex);
    }
    notFound(ex);
  }

  /** Answers the request with an injected fault if one is queued for this target. */
  private fault(target: FaultTarget, ex: Exchange): boolean {
    const fault = this.faults.take(target);
    if (!fault) return false;
    if (fault.status === 'drop') ex.drop();
    else {
      const headers: Record<string, string> = {};
      if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
      ex.json(fault.status, { detail: statusText(fault.status) }, headers);
    }
    return true;
  }

  // ---- endpoints -----------------------------------------------------------------------------------------

  private creditsEndpoint(ex: Exchange): void {
    if (this.fault('credits', ex)) return;
    const auth = this.accounts.check(ex.req.headers['x-key']);
    if (!auth.ok) return ex.json(auth.status, { detail: auth.detail });
    ex.json(200, { credits: this.accounts.credits(auth.key) });
  }

  private async submit(ex: Exchange): Promise<void> {
    let raw: Buffer;
    try {
      raw = await readBody(ex.req, BODY_LIMIT);
    } catch (err) {
      if (err instanceof BodyTooLargeError)
        ex.json(413, { detail: 'Request Entity Too Large' }, { connection: 'close' });
      else ex.drop();
      return;
    }
    // Faults come first and after the body was read: a gateway error once the request was sent is exactly the
    // case where a client must not blindly resubmit.
    if (this.fault('submit', ex)) return;
    const auth = this.accounts.check(ex.req.headers['x-key']);
    if (!auth.ok) return ex.json(auth.status, { detail: auth.detail });

    const body = decodeRequestBody(raw, ex.req.headers['content-type']);
    const validated = validateFillBody(body);
    if (!validated.ok) return ex.json(422, { detail: validated.detail });
    const params = validated.value;

    const decoded = await decodeInputs(params.image, params.mask);
    // close() may have run while sharp was reading the images: no task may start after it.
    if (this.closing) return ex.drop();
    if (!decoded.ok) {
      const input = decoded.field === 'image' ? params.image : params.mask;
      return ex.json(422, {
        detail: [
          {
            type: 'value_error',
            loc: ['body', decoded.field],
            msg: `Value error, ${decoded.message}`,
            input,
            ctx: { error: {} },
          },
        ],
      });
    }

    const key = auth.key;
    if (this.activeCount(key) >= this.config.maxActivePerKey) {
      return ex.json(
        429,
        {
          detail: `Too many active tasks: ${this.config.maxActivePerKey} tasks are already in progress for this key. Wait until one of your previous tasks has finished, then try again.`,
        },
        { 'retry-after': String(this.config.retryAfterSeconds) },
      );
    }

    const queued = this.queued[0];
    const scenario = resolveScenario(
      { processingMs: this.config.processingMs, cost: this.config.costPerImage },
      this.defaultScenario,
      queued,
      params.prompt,
    );
    const charge = scenario.cost ?? 0;
    const balance = this.accounts.credits(key);
    if (balance < charge) {
      return ex.json(402, {
        detail: `Insufficient credits: this request costs ${charge} credits and ${balance} are left. Add credits at https://dashboard.bfl.ai and try again.`,
      });
    }
    if (queued) this.queued.shift();

    const jsonBody = body.kind === 'json' ? (body.value as Record<string, unknown>) : {};
    const state = this.createTask(key, params, jsonBody, decoded, scenario, charge);
    const mp = megapixels(state.task.width, state.task.height);
    if (params.webhookUrl !== null && this.config.webhookResponse) {
      ex.json(200, {
        id: state.task.id,
        status: state.task.status,
        webhook_url: params.webhookUrl,
        cost: scenario.cost,
        input_mp: mp,
        output_mp: mp,
      });
    } else {
      ex.json(200, {
        id: state.task.id,
        polling_url: `${this.clusterUrl}${POLL_PATH}?id=${state.task.id}`,
        cost: scenario.cost,
        input_mp: mp,
        output_mp: mp,
      });
    }
  }

  private poll(ex: Exchange, onCluster: boolean): void {
    if (this.fault('poll', ex)) return;
    // get_result declares no security in the OpenAPI: no key is fine, but a key that is sent must be valid.
    const keyHeader = ex.req.headers['x-key'];
    const key = Array.isArray(keyHeader) ? keyHeader.join(',') : keyHeader;
    if (key !== undefined && !this.accounts.accepts(key)) {
      return ex.json(403, { detail: INVALID_AUTHENTICATION });
    }
    const rate = this.rateLimiter.hit(key ?? ex.req.socket.remoteAddress ?? 'anonymous');
    const headers = { 'retry-after': '1', ...rate.headers };
    if (rate.limited) return ex.json(429, { detail: 'Rate limit exceeded, slow down polling.' }, headers);
    const id = ex.url.searchParams.get('id');
    if (id === null) {
      return ex.json(
        422,
        { detail: [{ type: 'missing', loc: ['query', 'id'], msg: 'Field required', input: null }] },
        headers,
      );
    }
    const state = onCluster ? this.states.get(id) : undefined;
    if (!state || state.task.status === STATUS.notFound) {
      return ex.json(
        404,
        { id, status: STATUS.notFound, result: null, progress: null, details: null, preview: null },
        headers,
      );
    }
    ex.json(200, this.resultBody(state, true), headers);
  }

  // ---- task lifecycle ------------------------------------------------------------------------------------

  private createTask(
    key: string,
    params: FillParams,
    body: Record<string, unknown>,
    decoded: { image: Buffer; mask: Buffer | null; width: number; height: number },
    scenario: ResolvedScenario,
    charge: number,
  ): TaskState {
    const seed = params.seed ?? randomInt(0, 2 ** 32);
    const task: EmulatorTask = {
      id: randomUUID(),
      key,
      status: scenario.inProgressStatus,
      submittedAt: Date.now(),
      completedAt: null,
      body: summariseBody(body),
      image: decoded.image,
      mask: decoded.mask,
      width: decoded.width,
      height: decoded.height,
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
        state.timer = setTimeout(() => void this.finishProcessing(state), scenario.processingMs);
        state.timer.unref();
    }
    this.notifyWaiters(task);
    return state;
  }

  private live(state: TaskState): boolean {
    return this.closing === null && this.states.get(state.task.id) === state;
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
    let output: Buffer;
    try {
      // The image is made when the task completes, off the submit path; sharp does the work off the event loop.
      output = await composeOutput({
        image: task.image,
        mask: task.mask,
        width: task.width,
        height: task.height,
        seed: task.seed,
        prompt: task.prompt,
        format: task.outputFormat,
      });
    } catch (err) {
      if (!this.live(state)) return;
      const reason = err instanceof Error ? err.message : String(err);
      return this.complete(state, STATUS.error, { message: `The emulator could not produce the image: ${reason}` });
    }
    if (!this.live(state)) return;
    const completedAt = Date.now();
    const path = blobPath(completedAt, task.outputFormat);
    this.blobs.set(path, makeBlob(output, task.outputFormat, completedAt));
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
    if (state.webhookUrl !== null && status !== STATUS.notFound) {
      const url = state.webhookUrl;
      // Deferred: a task moderated at submit must not call back before its submit was answered.
      setImmediate(() => {
        if (!this.live(state)) return;
        const body = this.resultBody(state, false);
        const payload = this.config.webhookStyle === 'legacy' ? legacyPayload(body) : body;
        const copies = this.config.webhookDuplicates ? 2 : 1;
        for (let i = 0; i < copies; i++) void this.webhooks.send(url, payload, state.webhookSecret);
      });
    }
    this.notifyWaiters(task);
  }

  /** The six-key ResultResponse every poll answers with. */
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
