/**
 * Which fault answers a request. Three sources, in this order: faults tests inject (first in first out per
 * endpoint), the faults a task's prompt asks for, and a seeded random draw at `faultRate`. Nothing is used up
 * until the fault is applied, because a submit refused for its key or body must not spend a fault meant for the
 * submit that creates the task. Every fault applied is logged, so a test can assert what a client went through.
 * What each fault does to the answer lives in ./fault-answers.
 */
import { randomInt } from 'node:crypto';
import { describeFault, everyFault, toResolvedFault, type ResolvedFault } from './fault-specs';
import type { AppliedFault, Fault, FaultTarget, RecordedRequest } from './types';

export type FaultSource = AppliedFault['source'];

interface Entry {
  fault: ResolvedFault;
  left: number;
  source: FaultSource;
}

/** Faults per endpoint, first in first out; a fault with count n answers the next n requests of its endpoint. */
export class FaultQueue {
  private readonly queues = new Map<FaultTarget, Entry[]>();

  /** Throws a RangeError for a fault that cannot be (an unknown status, a kind on an endpoint it does not fit). */
  inject(fault: Fault | string): void {
    this.push(toResolvedFault(fault), 'injected');
  }

  push(fault: ResolvedFault, source: FaultSource, count = fault.count): void {
    const queue = this.queues.get(fault.target) ?? [];
    queue.push({ fault, left: count, source });
    this.queues.set(fault.target, queue);
  }

  peek(target: FaultTarget): { fault: ResolvedFault; source: FaultSource } | undefined {
    return this.queues.get(target)?.[0];
  }

  /** The fault that answers this request, if any; consumes one use of it. */
  take(target: FaultTarget): ResolvedFault | undefined {
    const queue = this.queues.get(target);
    const head = queue?.[0];
    if (!queue || !head) return undefined;
    head.left -= 1;
    if (head.left <= 0) queue.shift();
    return head.fault;
  }

  clear(): void {
    this.queues.clear();
  }
}

/** A fault chosen for a request and not yet used up: `use()` once it is applied. */
export interface ChosenFault {
  fault: ResolvedFault;
  source: FaultSource;
  use: () => void;
}

/** Where a request belongs: its task (polls, downloads) or, for a submit, the faults its prompt asked for. */
export interface FaultScope {
  taskId?: string | null;
  /** A submit's prompt faults, and the key of their cycle (one per API key and prompt). */
  prompt?: { cycle: string; faults: readonly ResolvedFault[] };
}

export interface FaultPlanSettings {
  rate: number;
  /** What the rate draws from. */
  pool: readonly ResolvedFault[] | undefined;
  seed: number | undefined;
  /** Retry-After of a storm that names none. */
  retryAfterSeconds: number;
}

/** mulberry32: small, fast and good enough to pick faults; the same seed gives the same draws. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultPlan {
  /** Every fault applied, in order; BflEmulator hands it out as `faults`. */
  readonly applied: AppliedFault[] = [];
  readonly seed: number;

  private readonly queue = new FaultQueue();
  private readonly perTask = new Map<string, FaultQueue>();
  /** How far each prompt's list of submit faults has got. */
  private readonly cycles = new Map<string, number>();
  private readonly pool = new Map<FaultTarget, ResolvedFault[]>();
  private random: () => number;

  constructor(private readonly settings: FaultPlanSettings) {
    this.seed = settings.seed ?? randomInt(0, 2 ** 32);
    this.random = seededRandom(this.seed);
    for (const fault of settings.pool ?? everyFault()) {
      const list = this.pool.get(fault.target) ?? [];
      list.push(this.complete(fault));
      this.pool.set(fault.target, list);
    }
  }

  inject(fault: Fault | string): void {
    this.queue.push(this.complete(toResolvedFault(fault)), 'injected');
  }

  /** The poll and download faults of a task's prompt, for its own requests. */
  attach(taskId: string, faults: readonly ResolvedFault[]): void {
    if (faults.length === 0) return;
    const queue = new FaultQueue();
    for (const fault of faults) queue.push(this.complete(fault), 'prompt');
    this.perTask.set(taskId, queue);
  }

  /** The fault that answers a request to `target`, if any. Call once per request: it draws from the rate. */
  choose(target: FaultTarget, scope: FaultScope = {}): ChosenFault | undefined {
    const injected = this.queue.peek(target);
    if (injected) return { ...injected, use: () => void this.queue.take(target) };
    const ofTask = scope.taskId ? this.perTask.get(scope.taskId) : undefined;
    const head = ofTask?.peek(target);
    if (ofTask && head) return { ...head, use: () => void ofTask.take(target) };
    if (scope.prompt) {
      const chosen = this.fromCycle(scope.prompt.cycle, scope.prompt.faults);
      if (chosen) return chosen;
    }
    return this.draw(target);
  }

  /** Logs a fault as applied to `record` (and uses it up). */
  commit(chosen: ChosenFault, record: RecordedRequest, taskId: string | null): void {
    chosen.use();
    const fault = describeFault(chosen.fault);
    record.fault = fault;
    this.applied.push({
      fault,
      target: chosen.fault.target,
      kind: chosen.fault.kind,
      source: chosen.source,
      taskId,
      at: Date.now(),
    });
  }

  /** A restart that forgets its tasks forgets their faults too. */
  forgetTasks(): void {
    this.perTask.clear();
  }

  /** Back to the state at start, the random draws included, so a test after reset() sees the same faults. */
  reset(): void {
    this.queue.clear();
    this.perTask.clear();
    this.cycles.clear();
    this.applied.length = 0;
    this.random = seededRandom(this.seed);
  }

  /**
   * A prompt's submit faults answer the submits carrying that prompt one after another; once the list is used
   * up it starts over, so every job sent with the prompt meets them. A client retries only a 429, so after a
   * storm the submit that follows goes through before the list starts over.
   */
  private fromCycle(cycle: string, faults: readonly ResolvedFault[]): ChosenFault | undefined {
    const list = faults.filter((f) => f.target === 'submit').flatMap((f) => Array<ResolvedFault>(f.count).fill(f));
    const used = this.cycles.get(cycle) ?? 0;
    const fault = list[used];
    if (!fault) {
      this.cycles.delete(cycle);
      return undefined;
    }
    return {
      fault: this.complete(fault),
      source: 'prompt',
      use: () => {
        const next = used + 1;
        if (next >= list.length && fault.kind !== 'rate-limit-storm') this.cycles.delete(cycle);
        else this.cycles.set(cycle, next);
      },
    };
  }

  private draw(target: FaultTarget): ChosenFault | undefined {
    const pool = this.pool.get(target);
    if (this.settings.rate <= 0 || !pool?.length) return undefined;
    if (this.random() >= this.settings.rate) return undefined;
    const fault = pool[Math.floor(this.random() * pool.length)]!;
    // The rest of a drawn fault's count (a storm's 429s) answers the requests that follow.
    return {
      fault,
      source: 'rate',
      use: () => {
        if (fault.count > 1) this.queue.push(fault, 'rate', fault.count - 1);
      },
    };
  }

  private complete(fault: ResolvedFault): ResolvedFault {
    if (fault.kind !== 'rate-limit-storm' || fault.retryAfterSeconds !== null) return fault;
    return { ...fault, retryAfterSeconds: this.settings.retryAfterSeconds };
  }
}
