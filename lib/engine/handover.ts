/**
 * What a node leaves its successor when it closes for a redeploy: a node with the same id starts right after
 * and takes its jobs over, so a task BFL has accepted is followed to its result and sent on for the original
 * message. Items handed over before the successor exists wait for it; when the deploy has finished without one
 * (or, when the flows were stopped and not started again, after a grace), they are unclaimed: the node was
 * deleted or disabled.
 */

export interface Successor<T> {
  adopt(item: T): void;
}

export class Handover<T> {
  private readonly live = new Map<string, Successor<T>>();
  private readonly waiting = new Map<string, T[]>();
  /** Nodes closed since the last deploy finished, and nodes that deploy left without a successor. */
  private readonly closed = new Set<string>();
  private readonly orphaned = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly onUnclaimed: (id: string, items: T[]) => void,
    private readonly graceMs = 30_000,
  ) {}

  /** A node started: it takes what its predecessor left, and anything handed over later. */
  register(id: string, successor: Successor<T>): () => void {
    this.live.set(id, successor);
    this.closed.delete(id);
    this.orphaned.delete(id);
    const left = this.waiting.get(id) ?? [];
    this.waiting.delete(id);
    for (const item of left) successor.adopt(item);
    return () => {
      if (this.live.get(id) !== successor) return;
      this.live.delete(id);
      this.closed.add(id);
    };
  }

  /** A node closing for a redeploy hands over one of its jobs (it has unregistered itself first). */
  give(id: string, item: T): void {
    const successor = this.live.get(id);
    if (successor) {
      successor.adopt(item);
      return;
    }
    // A job that ends its own way to the handover (aborted while it was being prepared) after the deploy
    // finished: no successor is coming.
    if (this.orphaned.has(id)) {
      this.onUnclaimed(id, [item]);
      return;
    }
    const items = this.waiting.get(id) ?? [];
    items.push(item);
    this.waiting.set(id, items);
    if (!this.timer) {
      this.timer = setTimeout(() => this.settle(), this.graceMs);
      this.timer.unref();
    }
  }

  /** The deploy finished: whatever no successor took is unclaimed. */
  settle(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const unclaimed = [...this.waiting];
    this.waiting.clear();
    for (const id of this.closed) this.orphaned.add(id);
    this.closed.clear();
    for (const [id, items] of unclaimed) this.onUnclaimed(id, items);
  }
}
