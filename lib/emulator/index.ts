/**
 * The emulator's public face: BflEmulator, which starts the servers, wires up the collaborators and offers tests
 * their controls, and the names tests, the CLI and the engine import.
 */
import { Accounts } from './accounts';
import { DeliverySigner } from './delivery';
import { Endpoints } from './endpoints';
import { StallTracker } from './fault-answers';
import { FaultPlan, type FaultPlanSettings } from './faults';
import type { Origin } from './http';
import { parseOptions, type Config } from './options';
import { PollRateLimiter } from './ratelimit';
import { ScenarioQueue } from './scenarios';
import { EmulatorServer } from './server';
import { TaskLifecycle } from './tasks';
import type {
  AppliedFault,
  DeliveredWebhook,
  EmulatorOptions,
  EmulatorTask,
  Fault,
  FaultVariant,
  RecordedRequest,
  TaskScenario,
} from './types';

export { SUBMIT_PATH } from './endpoints';
export { DEFAULT_EMULATOR_KEY } from './key';
export type {
  AppliedFault,
  DeliveredWebhook,
  EmulatorOptions,
  EmulatorTask,
  Fault,
  FaultKind,
  FaultTarget,
  FaultVariant,
  RecordedRequest,
  TaskOutcome,
  TaskScenario,
  WebhookScenario,
} from './types';

/**
 * A local BFL API for FLUX.1 Fill [pro], its fine-tuned variant and Expand [pro] on three loopback origins: the
 * API (submit, credits), a "cluster" that answers the polling_url, and a "delivery" host that serves signed
 * result URLs. Keeping them apart catches clients that rebuild the poll URL or send their key to the image host.
 */
export class BflEmulator {
  readonly requests: RecordedRequest[];
  readonly tasks: Map<string, EmulatorTask>;
  readonly apiUrl: string;
  readonly clusterUrl: string;
  readonly deliveryUrl: string;
  /** Every fault applied, in order (each faulted request's record also names its fault). */
  readonly faults: AppliedFault[];
  /** The seed of the faultRate draws: pass it as `seed` to meet the same faults again. */
  readonly faultSeed: number;
  /** Every webhook posted (forgeries too), in order, with the receiver's answer once it came. */
  readonly webhooks: DeliveredWebhook[];

  private readonly plan: FaultPlan;
  private readonly stalls: StallTracker;
  private readonly rateLimiter = new PollRateLimiter();
  private readonly scenarios = new ScenarioQueue();
  private readonly signer: DeliverySigner;
  private readonly lifecycle: TaskLifecycle;
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly server: EmulatorServer,
    private readonly accounts: Accounts,
    config: Config,
    faultSettings: FaultPlanSettings,
  ) {
    this.requests = server.requests;
    this.apiUrl = server.urls.api;
    this.clusterUrl = server.urls.cluster;
    this.deliveryUrl = server.urls.delivery;
    this.signer = new DeliverySigner(config.deliveryTtlMs);
    this.lifecycle = new TaskLifecycle(accounts, this.signer, config, this.deliveryUrl);
    this.tasks = this.lifecycle.tasks;
    this.webhooks = this.lifecycle.deliveredWebhooks;
    this.plan = new FaultPlan(faultSettings);
    this.faults = this.plan.applied;
    this.faultSeed = this.plan.seed;
    this.stalls = new StallTracker(config.stallMs);
    // One process plays the restarted host: its listening socket goes and comes back, its state stays or goes.
    const restart = (origin: Origin, variant: FaultVariant) => {
      if (variant === 'forget') {
        this.lifecycle.forget();
        this.plan.forgetTasks();
      }
      server.restart(origin, config.restartMs);
    };
    server.serve(
      new Endpoints({
        config,
        clusterUrl: this.clusterUrl,
        accounts,
        faults: this.plan,
        faultTools: {
          stalls: this.stalls,
          restart,
          expireLink: (path, query) => this.signer.revoke(path, query),
          maxActivePerKey: config.maxActivePerKey,
        },
        rateLimiter: this.rateLimiter,
        scenarios: this.scenarios,
        signer: this.signer,
        tasks: this.lifecycle,
      }),
    );
  }

  static async start(options: EmulatorOptions = {}): Promise<BflEmulator> {
    const { host, ports, keys, defaultCredits, config, faults } = parseOptions(options);
    const accounts = new Accounts(keys, defaultCredits);
    const server = await EmulatorServer.listen(host, ports, config.log);
    return new BflEmulator(server, accounts, config, faults);
  }

  // ---- control surface for tests -------------------------------------------------------------------------

  nextTask(scenario: TaskScenario): void {
    this.scenarios.push(scenario);
  }

  setDefaultScenario(scenario: TaskScenario): void {
    this.scenarios.setDefault(scenario);
  }

  /**
   * Answers the next requests of `fault.target` with the fault, before any prompt directive or the rate; a spec
   * such as 'poll:reset-after:x2' works too. Throws a RangeError for a fault that cannot be.
   */
  injectFault(fault: Fault | string): void {
    this.plan.inject(fault);
  }

  /** Resolves once every origin listens again after a `restart` fault (at once when none is down). */
  whenListening(): Promise<void> {
    return this.server.whenUp();
  }

  setCredits(key: string, credits: number): void {
    this.accounts.setCredits(key, credits);
  }

  credits(key: string): number {
    return this.accounts.credits(key);
  }

  activeCount(key?: string): number {
    return this.lifecycle.activeCount(key);
  }

  expireDeliveries(): void {
    this.signer.expireAll();
  }

  /**
   * Resolves with the first task, existing or future, that matches. Matching is checked when a task is submitted
   * and again whenever its status changes, so `t => t.status === 'Ready'` works too.
   */
  waitForTask(predicate: (task: EmulatorTask) => boolean = () => true): Promise<EmulatorTask> {
    return this.lifecycle.waitFor(predicate);
  }

  /**
   * Resolves once a webhook posted from now on that matches has its receiver's answer (in `webhooks[i].answer`;
   * 0 when the call failed), e.g. `w => w.forged` to see a forgery refused.
   */
  waitForWebhook(predicate: (webhook: DeliveredWebhook) => boolean = () => true): Promise<void> {
    return this.lifecycle.webhookAnswered(predicate);
  }

  reset(): void {
    this.lifecycle.reset();
    this.requests.length = 0;
    this.scenarios.clear();
    this.plan.reset();
    this.stalls.close();
    this.accounts.reset();
    this.rateLimiter.reset();
  }

  close(): Promise<void> {
    if (!this.closing) {
      this.lifecycle.close();
      this.stalls.close();
      this.closing = this.server.close();
    }
    return this.closing;
  }
}
