/**
 * One message's job as a node sees it: where it is on its road, who sends its result (the node that took the
 * message, or the successor that took the job over after a redeploy) and the status line it counts in. A job
 * that ends while no node owns it (between a node's close and its successor's start) keeps its outcome until
 * one does.
 */
import type { ActivityReporter, TrackedJob } from './activity';
import type { JobPhase } from './phases';

export interface JobOwner<M, R> {
  reporter: ActivityReporter;
  /** Sends the finished message on. */
  deliver(msg: M, result: R): void;
  /** Reports the failure (to Catch nodes) for the message. */
  fail(error: unknown, msg: M): void;
}

/** Phases in which the job has not been submitted: a redeploy sends such a message through the new node. */
const BEFORE_SUBMIT: ReadonlySet<JobPhase['phase']> = new Set(['preparing', 'queued']);

type Ending<M, R> = { ok: true; msg: M; result: R } | { ok: false; error: unknown; code: string };

export class NodeJob<M, R> {
  /** Aborts this job alone: its node was deleted, or the job goes to the new node as a message. */
  readonly controller = new AbortController();
  /** Set when the job was stopped before its submit so that the node's successor takes the message. */
  requeued = false;
  private current: JobPhase = { phase: 'preparing' };
  private owner: JobOwner<M, R> | undefined;
  /** The owner before a release: it hears of the job's end if no successor ever takes it. */
  private previous: JobOwner<M, R> | undefined;
  private tracked: TrackedJob | undefined;
  private ending: Ending<M, R> | undefined;
  private ended = false;

  constructor(
    readonly msg: M,
    owner: JobOwner<M, R>,
  ) {
    this.adopt(owner);
  }

  get phase(): JobPhase {
    return this.current;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get submitted(): boolean {
    return !BEFORE_SUBMIT.has(this.current.phase);
  }

  get taskId(): string | undefined {
    return 'taskId' in this.current ? this.current.taskId : undefined;
  }

  /** Whether the job ended with no owner to tell, so its outcome waits. */
  get waiting(): Ending<M, R> | undefined {
    return this.ended ? undefined : this.ending;
  }

  update = (phase: JobPhase): void => {
    this.current = phase;
    this.tracked?.update(phase);
  };

  /** Its node closed for a redeploy: nobody owns the job until a successor adopts it. */
  release(): void {
    this.previous = this.owner;
    this.owner = undefined;
    this.tracked = undefined;
  }

  /** No successor came: the job is stopped, and the node that took the message settles it (BFL_CANCELLED). */
  abandon(): void {
    this.owner = this.previous;
    this.controller.abort();
    if (this.ending) this.settle();
  }

  /** A (new) node owns the job from now on: its status counts it, and it sends the result. */
  adopt(owner: JobOwner<M, R>): void {
    this.owner = owner;
    this.tracked = owner.reporter.track();
    this.tracked.update(this.current);
    if (this.ending) this.settle();
  }

  succeed(msg: M, result: R): void {
    this.ending = { ok: true, msg, result };
    this.settle();
  }

  fail(error: unknown, code: string): void {
    this.ending = { ok: false, error, code };
    this.settle();
  }

  private settle(): void {
    const { owner, ending } = this;
    if (!owner || !ending || this.ended) return;
    this.ended = true;
    if (ending.ok) {
      this.tracked?.finish({ ok: true });
      owner.deliver(ending.msg, ending.result);
    } else {
      this.tracked?.finish({ ok: false, code: ending.code });
      owner.fail(ending.error, this.msg);
    }
  }
}
