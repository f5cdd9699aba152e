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
    return this.hasRoomAfter(0);
  }

  /** Whether a job would find room behind `ahead` jobs that are on their way to the queue. */
  hasRoomAfter(ahead: number): boolean {
    return this.activeCount + this.waiters.length + ahead < this.limit + this.maxWaiting;
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

/** `promise`, or a rejection with the signal's reason as soon as it aborts; no listener is left behind. */
function orAborted(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

/** A message's place in line, taken when it arrives, before its images are prepared. */
export interface ArrivalTurn {
  /** Resolves when the message may start preparing its images (few prepare at once); rejects on abort. */
  readonly mayPrepare: Promise<void>;
  /** Resolves when every message that arrived earlier has entered the queue or ended; rejects on abort. */
  readonly mayEnter: Promise<void>;
  /** This message enters the queue now (call TaskSlots.acquire in the same turn) or has ended. */
  leave(): void;
}

/**
 * Keeps the order in which messages arrived from arrival to the queue: preparing images takes a different time
 * for each, so without this a burst would be submitted in the order its preparations happened to finish. Few
 * prepare at once, so the first of a burst is submitted soon and a small device decodes few images at a time.
 */
export class ArrivalOrder {
  private preparing = 0;
  private readonly waitingToPrepare: (() => void)[] = [];
  private lastLeft: Promise<void> = Promise.resolve();
  private inLineCount = 0;

  constructor(readonly preparingAtOnce: number) {}

  /** Messages that arrived and have not entered the queue or ended yet. */
  get inLine(): number {
    return this.inLineCount;
  }

  /** Takes the next place in line; `signal` ends the waits (the message ends, and leaves its place). */
  arrive(signal: AbortSignal): ArrivalTurn {
    this.inLineCount += 1;
    const mayEnter = this.lastLeft;
    let left!: () => void;
    this.lastLeft = new Promise<void>((resolve) => (left = resolve));
    let holdsPlace = false;
    let grant: (() => void) | undefined;
    let mayPrepare: Promise<void>;
    if (this.preparing < this.preparingAtOnce) {
      this.preparing += 1;
      holdsPlace = true;
      mayPrepare = Promise.resolve();
    } else {
      mayPrepare = new Promise<void>((resolve) => {
        grant = () => {
          holdsPlace = true;
          resolve();
        };
        this.waitingToPrepare.push(grant);
      });
    }
    let gone = false;
    return {
      mayPrepare: orAborted(mayPrepare, signal),
      mayEnter: orAborted(mayEnter, signal),
      leave: () => {
        if (gone) return;
        gone = true;
        this.inLineCount -= 1;
        if (holdsPlace) this.preparing -= 1;
        else if (grant) this.waitingToPrepare.splice(this.waitingToPrepare.indexOf(grant), 1);
        while (this.preparing < this.preparingAtOnce && this.waitingToPrepare.length > 0) {
          this.preparing += 1;
          this.waitingToPrepare.shift()!();
        }
        left();
      },
    };
  }
}
