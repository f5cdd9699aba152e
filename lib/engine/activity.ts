/**
 * Status for the editor workspace: what a node's jobs are doing, summarised in one short line and sent at
 * most once per interval so a busy node does not flood the editor. Texts are catalog keys with parameters;
 * the node translates them.
 */
import type { JobPhase } from './phases';

export interface StatusView {
  fill: 'blue' | 'green' | 'red' | 'yellow' | 'grey';
  shape: 'dot' | 'ring';
  /** Catalog key below `bfl-fill.status.` */
  key:
    | 'queued'
    | 'submitting'
    | 'polling'
    | 'progress'
    | 'downloading'
    | 'composing'
    | 'done'
    | 'doneEmulator'
    | 'error'
    | 'active';
  params?: Record<string, string | number>;
}

export type Outcome = { ok: true } | { ok: false; code: string };

/** The status for a set of running jobs; undefined when none runs. */
export function describeJobs(phases: readonly JobPhase[], now: number): StatusView | undefined {
  if (phases.length === 0) return undefined;
  const waiting = phases.filter((p) => p.phase === 'queued' || p.phase === 'preparing').length;
  if (phases.length > 1) {
    if (waiting === phases.length) return { fill: 'yellow', shape: 'ring', key: 'queued', params: { count: waiting } };
    return { fill: 'blue', shape: 'dot', key: 'active', params: { count: phases.length } };
  }
  const only = phases[0]!;
  switch (only.phase) {
    case 'preparing':
    case 'queued':
      return { fill: 'yellow', shape: 'ring', key: 'queued', params: { count: 1 } };
    case 'submitting':
      return { fill: 'blue', shape: 'ring', key: 'submitting' };
    case 'polling':
      if (only.progress !== undefined) {
        return { fill: 'blue', shape: 'dot', key: 'progress', params: { percent: Math.round(only.progress * 100) } };
      }
      return {
        fill: 'blue',
        shape: 'dot',
        key: 'polling',
        params: { seconds: Math.max(0, Math.floor((now - only.startedAt) / 1000)) },
      };
    case 'downloading':
      return { fill: 'blue', shape: 'dot', key: 'downloading' };
    case 'composing':
      return { fill: 'blue', shape: 'dot', key: 'composing' };
  }
}

export function describeOutcome(outcome: Outcome, emulated: boolean): StatusView {
  if (outcome.ok) return { fill: 'green', shape: 'dot', key: emulated ? 'doneEmulator' : 'done' };
  return { fill: 'red', shape: 'ring', key: 'error', params: { code: outcome.code } };
}

function sameView(a: StatusView | null | undefined, b: StatusView | null | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export interface TrackedJob {
  update(phase: JobPhase): void;
  finish(outcome: Outcome): void;
}

/**
 * Tracks a node's jobs and shows their summary through `show`, at most once per `intervalMs` (the last view
 * always arrives). While a job polls, the elapsed seconds tick once per interval.
 */
export class StatusReporter {
  private readonly jobs = new Map<object, JobPhase>();
  private lastShown: StatusView | null | undefined;
  private lastShownAt = 0;
  private pending: NodeJS.Timeout | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private lastOutcome: StatusView | undefined;
  private closed = false;

  constructor(
    private readonly show: (view: StatusView | null) => void,
    private readonly emulated: boolean,
    private readonly intervalMs = 1000,
  ) {}

  track(): TrackedJob {
    const handle = {};
    this.jobs.set(handle, { phase: 'preparing' });
    this.refresh();
    return {
      update: (phase) => {
        if (!this.jobs.has(handle)) return;
        this.jobs.set(handle, phase);
        this.refresh();
      },
      finish: (outcome) => {
        if (!this.jobs.delete(handle)) return;
        this.lastOutcome = describeOutcome(outcome, this.emulated);
        this.refresh();
      },
    };
  }

  private current(): StatusView | null {
    return describeJobs([...this.jobs.values()], Date.now()) ?? this.lastOutcome ?? null;
  }

  private refresh(): void {
    if (this.closed) return;
    this.updateTicker();
    if (this.pending) return;
    const wait = this.lastShownAt + this.intervalMs - Date.now();
    if (wait <= 0) {
      this.flush();
      return;
    }
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.flush();
    }, wait);
  }

  private flush(): void {
    const view = this.current();
    if (sameView(view, this.lastShown)) return;
    this.lastShown = view;
    this.lastShownAt = Date.now();
    this.show(view);
  }

  private updateTicker(): void {
    const polling = [...this.jobs.values()].some((p) => p.phase === 'polling');
    if (polling && !this.ticker) {
      this.ticker = setInterval(() => this.refresh(), this.intervalMs);
      this.ticker.unref();
    } else if (!polling && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }

  /** Stops all timers and clears the status. */
  close(): void {
    this.closed = true;
    if (this.pending) clearTimeout(this.pending);
    if (this.ticker) clearInterval(this.ticker);
    this.pending = undefined;
    this.ticker = undefined;
    this.jobs.clear();
    this.show(null);
  }
}
