/**
 * The per-account limit on active BFL tasks: at most `limit` run at once, the rest wait in a FIFO queue of
 * bounded length. A full queue refuses at once (BFL_QUEUE_FULL) instead of holding images in memory.
 */
import { queueFullError } from '../errors';

export type ReleaseSlot = () => void;

interface Waiter {
  grant: (release: ReleaseSlot) => void;
}

export class TaskSlots {
  private activeCount = 0;
  private readonly waiters: Waiter[] = [];
  /** The slots that took over from these (a redeployed config node): what ends here frees a slot there. */
  private successor: TaskSlots | undefined;

  constructor(
    readonly limit: number,
    readonly maxWaiting: number,
  ) {}

  get active(): number {
    return this.activeCount;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** False when a job arriving now would be refused: lets callers skip costly preparation. */
  get hasRoom(): boolean {
    return this.activeCount < this.limit || this.waiters.length < this.maxWaiting;
  }

  /** Resolves with a release function once a slot is free; rejects with the signal's reason if aborted first. */
  acquire(signal: AbortSignal): Promise<ReleaseSlot> {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    if (this.activeCount < this.limit) {
      this.activeCount += 1;
      return Promise.resolve(this.releaser());
    }
    if (this.waiters.length >= this.maxWaiting) return Promise.reject(queueFullError(this.maxWaiting));
    return new Promise<ReleaseSlot>((resolve, reject) => {
      const waiter: Waiter = {
        grant: (release) => {
          signal.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      const onAbort = (): void => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /**
   * A slot at once, even over the limit: for a task that is active at BFL already (resumed after a restart),
   * so it is counted, and the jobs that wait for a slot wait for it too.
   */
  adopt(): ReleaseSlot {
    this.activeCount += 1;
    return this.releaser();
  }

  /**
   * For a redeployed config node: the tasks still active here (jobs handed to the successors of its fill
   * nodes) count against `successor`'s limit until they end, so old and new together never run more than the
   * account allows. Jobs still waiting here were requeued through the new nodes, which wait there instead.
   */
  passOn(successor: TaskSlots): void {
    if (successor === this || this.successor) return;
    this.successor = successor;
    successor.activeCount += this.activeCount;
  }

  private releaser(): ReleaseSlot {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.free();
    };
  }

  private free(): void {
    if (this.successor) {
      this.activeCount -= 1;
      this.successor.free();
      return;
    }
    // The slot passes straight to the next waiter, so the active count never dips and climbs in between;
    // a slot taken over the limit (adopt) is given up instead.
    const next = this.activeCount <= this.limit ? this.waiters.shift() : undefined;
    if (next) next.grant(this.releaser());
    else this.activeCount -= 1;
  }
}
