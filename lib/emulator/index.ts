/**
 * The emulator's public face: BflEmulator, which starts the servers, wires up the collaborators and offers tests
 * their controls, and the names tests, the CLI and the engine import.
 */
import { Accounts } from './accounts';
import { DeliverySigner } from './delivery';
import { Endpoints } from './endpoints';
import { FaultQueue } from './faults';
import { parseOptions, type Config } from './options';
import { PollRateLimiter } from './ratelimit';
import { ScenarioQueue } from './scenarios';
import { EmulatorServer } from './server';
import { TaskLifecycle } from './tasks';
import type { EmulatorOptions, EmulatorTask, Fault, RecordedRequest, TaskScenario } from './types';

export { SUBMIT_PATH } from './endpoints';
export { DEFAULT_EMULATOR_KEY } from './key';
export type {
  EmulatorOptions,
  EmulatorTask,
  Fault,
  FaultTarget,
  RecordedRequest,
  TaskOutcome,
  TaskScenario,
} from './types';

/**
 * A local BFL API for FLUX.1 Fill [pro] on three loopback origins: the API (submit, credits), a "cluster" that
 * answers the polling_url, and a "delivery" host that serves signed result URLs. Keeping them apart catches
 * clients that rebuild the poll URL or send their key to the image host.
 */
export class BflEmulator {
  readonly requests: RecordedRequest[];
  readonly tasks: Map<string, EmulatorTask>;
  readonly apiUrl: string;
  readonly clusterUrl: string;
  readonly deliveryUrl: string;

  private readonly faults = new FaultQueue();
  private readonly rateLimiter = new PollRateLimiter();
  private readonly scenarios = new ScenarioQueue();
  private readonly signer: DeliverySigner;
  private readonly lifecycle: TaskLifecycle;
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly server: EmulatorServer,
    private readonly accounts: Accounts,
    config: Config,
  ) {
    this.requests = server.requests;
    this.apiUrl = server.urls.api;
    this.clusterUrl = server.urls.cluster;
    this.deliveryUrl = server.urls.delivery;
    this.signer = new DeliverySigner(config.deliveryTtlMs);
    this.lifecycle = new TaskLifecycle(accounts, this.signer, config, this.deliveryUrl);
    this.tasks = this.lifecycle.tasks;
    server.serve(
      new Endpoints({
        config,
        clusterUrl: this.clusterUrl,
        accounts,
        faults: this.faults,
        rateLimiter: this.rateLimiter,
        scenarios: this.scenarios,
        signer: this.signer,
        tasks: this.lifecycle,
      }),
    );
  }

  static async start(options: EmulatorOptions = {}): Promise<BflEmulator> {
    const { host, ports, keys, defaultCredits, config } = parseOptions(options);
    const accounts = new Accounts(keys, defaultCredits);
    const server = await EmulatorServer.listen(host, ports, config.log);
    return new BflEmulator(server, accounts, config);
  }

  // ---- control surface for tests -------------------------------------------------------------------------

  nextTask(scenario: TaskScenario): void {
    this.scenarios.push(scenario);
  }

  setDefaultScenario(scenario: TaskScenario): void {
    this.scenarios.setDefault(scenario);
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

  reset(): void {
    this.lifecycle.reset();
    this.requests.length = 0;
    this.scenarios.clear();
    this.faults.clear();
    this.accounts.reset();
    this.rateLimiter.reset();
  }

  close(): Promise<void> {
    if (!this.closing) {
      this.lifecycle.close();
      this.closing = this.server.close();
    }
    return this.closing;
  }
}
