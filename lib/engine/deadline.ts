/**
 * One job's deadline and cancellation in one AbortSignal: aborted when the node closes (the parent signal) or
 * when the job's timeout passes, which starts only once the job leaves the queue. `timedOut` tells the two
 * apart, so the job can say BFL_TIMEOUT or BFL_CANCELLED.
 */

class TimeoutReason extends Error {
  constructor() {
    super('job deadline passed');
    this.name = 'TimeoutReason';
  }
}

/** A controller aborted by its parent signal or by its own deadline; dispose() leaves no timer or listener. */
export class JobScope {
  readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private readonly onParentAbort = (): void => this.controller.abort(this.parent.reason);

  constructor(private readonly parent: AbortSignal) {
    if (parent.aborted) this.controller.abort(parent.reason);
    else parent.addEventListener('abort', this.onParentAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  startDeadline(ms: number): void {
    this.timer = setTimeout(() => this.controller.abort(new TimeoutReason()), ms);
  }

  get timedOut(): boolean {
    return this.controller.signal.aborted && this.controller.signal.reason instanceof TimeoutReason;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.parent.removeEventListener('abort', this.onParentAbort);
  }
}
