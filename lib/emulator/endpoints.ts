/**
 * The endpoints: submit and credits on the API origin, get_result on the cluster, the signed result download on
 * the delivery origin. Each first asks whether a fault answers the request (./faults), then answers the way the
 * real one does; a fault that spoils the answer rather than replacing it lets the endpoint do its work first.
 */
import { INVALID_AUTHENTICATION, type Accounts } from './accounts';
import { serveBlob, type DeliverySigner } from './delivery';
import { answerInstead, answersInstead, shapeAnswer, type FaultTools } from './fault-answers';
import { promptFaults, type ResolvedFault } from './fault-specs';
import type { FaultPlan, FaultScope } from './faults';
import { BodyTooLargeError, readBody, type Exchange } from './http';
import { decodeExpandInput, decodeInputs } from './images';
import type { Config } from './options';
import type { PollRateLimiter } from './ratelimit';
import { STATUS, type ScenarioQueue } from './scenarios';
import type { TaskInputs, TaskLifecycle } from './tasks';
import type { FaultTarget } from './types';
import {
  decodeRequestBody,
  validateFillBody,
  type EmulatedModel,
  type ExpandSides,
  type RequestBody,
} from './validation';

export const SUBMIT_PATH = '/v1/flux-pro-1.0-fill';
/** Each submit endpoint and its model. */
export const SUBMIT_PATHS: Readonly<Record<string, EmulatedModel>> = {
  [SUBMIT_PATH]: 'fill',
  '/v1/flux-pro-1.0-fill-finetuned': 'finetuned',
  '/v1/flux-pro-1.0-expand': 'expand',
};
export const POLL_PATH = '/v1/get_result';
export const CREDITS_PATH = '/v1/credits';
/** Generous: a 20 MP PNG as base64 plus its mask fits. */
const BODY_LIMIT = 96 * 1024 * 1024;

const megapixels = (width: number, height: number) => Math.round((width * height) / 10_000) / 100;

export interface EndpointDeps {
  config: Config;
  /** Origin of the polling_url a submit answers with. */
  clusterUrl: string;
  accounts: Accounts;
  faults: FaultPlan;
  faultTools: FaultTools;
  rateLimiter: PollRateLimiter;
  scenarios: ScenarioQueue;
  signer: DeliverySigner;
  tasks: TaskLifecycle;
}

export class Endpoints {
  constructor(private readonly deps: EndpointDeps) {}

  credits(ex: Exchange): void {
    const { accounts } = this.deps;
    if (this.fault(ex, 'credits')) return;
    const auth = accounts.check(ex.req.headers['x-key']);
    if (!auth.ok) return ex.json(auth.status, { detail: auth.detail });
    ex.json(200, { credits: accounts.credits(auth.key) });
  }

  async submit(ex: Exchange, model: EmulatedModel): Promise<void> {
    const { config, accounts, faults, scenarios, tasks } = this.deps;
    let raw: Buffer;
    try {
      raw = await readBody(ex.req, BODY_LIMIT);
    } catch (err) {
      if (err instanceof BodyTooLargeError)
        ex.json(413, { detail: 'Request Entity Too Large' }, { connection: 'close' });
      else ex.drop();
      return;
    }
    const body = decodeRequestBody(raw, ex.req.headers['content-type']);
    const asked = this.promptFaults(body);
    const keyHeader = ex.req.headers['x-key'];
    const cycle = `${Array.isArray(keyHeader) ? keyHeader.join(',') : (keyHeader ?? '')}\n${promptOf(body)}`;
    const chosen = faults.choose('submit', asked.length > 0 ? { prompt: { cycle, faults: asked } } : {});
    // Faults that create no task come first and after the body was read: a gateway error once the request was
    // sent is exactly the case where a client must not blindly resubmit.
    if (chosen && answersInstead(chosen.fault)) {
      faults.commit(chosen, ex.record, null);
      return answerInstead(chosen.fault, ex, this.deps.faultTools);
    }
    const auth = accounts.check(keyHeader);
    if (!auth.ok) return ex.json(auth.status, { detail: auth.detail });

    const validated = validateFillBody(body, model);
    if (!validated.ok) return ex.json(422, { detail: validated.detail });
    const params = validated.value;

    const decoded = params.sides
      ? await decodeExpandInput(params.image, params.sides)
      : await decodeInputs(params.image, params.mask);
    // close() may have run while sharp was reading the images: no task may start after it.
    if (tasks.isClosed) return ex.drop();
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
    if (tasks.activeCount(key) >= config.maxActivePerKey) {
      return ex.json(
        429,
        {
          detail: `Too many active tasks: ${config.maxActivePerKey} tasks are already in progress for this key. Wait until one of your previous tasks has finished, then try again.`,
        },
        { 'retry-after': String(config.retryAfterSeconds) },
      );
    }

    const spread = config.processingSpread * (2 * Math.random() - 1);
    const processingMs = Math.round(config.processingMs * (1 + spread));
    const scenario = scenarios.peek(
      { processingMs, cost: config.costs[model], webhook: config.webhook },
      params.prompt,
    );
    const charge = scenario.cost ?? 0;
    const balance = accounts.credits(key);
    if (balance < charge) {
      return ex.json(402, {
        detail: `Insufficient credits: this request costs ${charge} credits and ${balance} are left. Add credits at https://dashboard.bfl.ai and try again.`,
      });
    }
    scenarios.take();

    const jsonBody = body.kind === 'json' ? (body.value as Record<string, unknown>) : {};
    const task = tasks.create(
      key,
      params,
      jsonBody,
      { ...decoded, ...this.sizes(decoded, params.sides) },
      scenario,
      charge,
    );
    faults.attach(
      task.id,
      asked.filter((f) => f.target === 'poll' || f.target === 'download'),
    );
    // The rest spoil the answer of a submit that did create its task: "created, outcome unknown".
    if (chosen) {
      faults.commit(chosen, ex.record, task.id);
      shapeAnswer(chosen.fault, ex, this.deps.faultTools);
    }
    const inputMp = megapixels(task.inputWidth, task.inputHeight);
    const outputMp = megapixels(task.resultWidth, task.resultHeight);
    if (params.webhookUrl !== null && config.webhookResponse) {
      // The answer names no polling URL: the generic GET /v1/get_result?id= on the API origin must serve it.
      tasks.servedOnApi.add(task.id);
      ex.json(200, {
        id: task.id,
        status: task.status,
        webhook_url: params.webhookUrl,
        cost: scenario.cost,
        input_mp: inputMp,
        output_mp: outputMp,
      });
    } else {
      ex.json(200, {
        id: task.id,
        polling_url: `${this.deps.clusterUrl}${POLL_PATH}?id=${task.id}`,
        cost: scenario.cost,
        input_mp: inputMp,
        output_mp: outputMp,
      });
    }
  }

  /** The input's and the result's sizes: a fill's are the image's; an expand's result may be rounded down. */
  private sizes(
    decoded: { width: number; height: number },
    sides: ExpandSides | null,
  ): Pick<TaskInputs, 'resultWidth' | 'resultHeight' | 'inputWidth' | 'inputHeight'> {
    const { width, height } = decoded;
    if (!sides) return { resultWidth: width, resultHeight: height, inputWidth: width, inputHeight: height };
    const step = this.deps.config.outputSizeStep;
    return {
      resultWidth: Math.max(step, Math.floor(width / step) * step),
      resultHeight: Math.max(step, Math.floor(height / step) * step),
      inputWidth: width - sides.left - sides.right,
      inputHeight: height - sides.top - sides.bottom,
    };
  }

  /**
   * `onCluster` is false on the API origin, which owns only the tasks whose submit answer named no polling URL
   * (the webhook answer), as with BFL's global endpoint.
   */
  poll(ex: Exchange, onCluster: boolean): void {
    const { accounts, rateLimiter, tasks } = this.deps;
    const asked = ex.url.searchParams.get('id');
    const serves = onCluster || (asked !== null && tasks.servedOnApi.has(asked));
    const known = asked !== null && serves && tasks.tasks.has(asked) ? asked : null;
    if (this.fault(ex, 'poll', { taskId: known }, known)) return;
    // get_result declares no security in the OpenAPI: no key is fine, but a key that is sent must be valid.
    const keyHeader = ex.req.headers['x-key'];
    const key = Array.isArray(keyHeader) ? keyHeader.join(',') : keyHeader;
    if (key !== undefined && !accounts.accepts(key)) {
      return ex.json(403, { detail: INVALID_AUTHENTICATION });
    }
    const rate = rateLimiter.hit(key ?? ex.req.socket.remoteAddress ?? 'anonymous');
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
    const result = serves ? tasks.poll(id) : null;
    if (!result) {
      return ex.json(
        404,
        { id, status: STATUS.notFound, result: null, progress: null, details: null, preview: null },
        headers,
      );
    }
    ex.json(200, result, headers);
  }

  download(ex: Exchange): void {
    const taskId = this.deps.tasks.taskOfBlob(ex.record.path);
    if (this.fault(ex, 'download', { taskId }, taskId)) return;
    serveBlob(ex, this.deps.signer, this.deps.tasks.blobs);
  }

  /**
   * Applies the fault that answers this request, if any: true when it answered in the endpoint's place, false
   * when there is none or it only spoils the endpoint's answer (which the endpoint then gives as usual).
   */
  private fault(ex: Exchange, target: FaultTarget, scope: FaultScope = {}, taskId: string | null = null): boolean {
    const chosen = this.deps.faults.choose(target, scope);
    if (!chosen) return false;
    this.deps.faults.commit(chosen, ex.record, taskId);
    if (answersInstead(chosen.fault)) {
      answerInstead(chosen.fault, ex, this.deps.faultTools);
      return true;
    }
    shapeAnswer(chosen.fault, ex, this.deps.faultTools);
    return false;
  }

  /** The faults a submit's prompt asks for; what cannot be used is said in the log rather than ignored. */
  private promptFaults(body: RequestBody): ResolvedFault[] {
    const { faults, refused } = promptFaults(promptOf(body));
    const log = this.deps.config.log;
    for (const reason of refused) log?.(`fault directive ignored: ${reason}`);
    // The credits endpoint serves no task, so a task cannot ask for its faults.
    if (faults.some((f) => f.target === 'credits')) log?.('fault directive ignored: credits faults are not per task');
    return faults.filter((f) => f.target !== 'credits');
  }
}

function promptOf(body: RequestBody): string {
  if (body.kind !== 'json' || !body.value || typeof body.value !== 'object') return '';
  const prompt = (body.value as Record<string, unknown>).prompt;
  return typeof prompt === 'string' ? prompt : '';
}
