/**
 * What a node's jobs are doing, summarised in one line of activity and reported at most once per interval so
 * a busy node does not flood the editor. The engine speaks of phases and outcomes only; the Node-RED glue
 * (nodes/status.ts) turns an activity into a status colour, shape and text.
 */
import type { JobPhase } from './phases';

export type Activity =
  | { state: 'queued'; count: number }
  | { state: 'active'; count: number }
  | { state: 'submitting' }
  | { state: 'polling'; seconds: number }
  | { state: 'waiting'; seconds: number }
  | { state: 'progress'; percent: number }
  | { state: 'downloading' }
  | { state: 'composing' }
  | { state: 'done' }
  | { state: 'failed'; code: string };

export type Outcome = { ok: true } | { ok: false; code: string };

/** The activity of a set of running jobs; undefined when none runs. */
export function summarise(phases: readonly JobPhase[], now: number): Activity | undefined {
  if (phases.length === 0) return undefined;
  const waiting = phases.filter((p) => p.phase === 'queued' || p.phase === 'preparing').length;
  if (phases.length > 1) {
    return waiting === phases.length ? { state: 'queued', count: waiting } : { state: 'active', count: phases.length };
  }
  const only = phases[0]!;
  switch (only.phase) {
    case 'preparing':
    case 'queued':
      return { state: 'queued', count: 1 };
    case 'polling':
      if (only.progress !== undefined) return { state: 'progress', percent: Math.round(only.progress * 100) };
      return {
        state: only.webhook ? 'waiting' : 'polling',
        seconds: Math.max(0, Math.floor((now - only.startedAt) / 1000)),
      };
    case 'submitting':
    case 'downloading':
    case 'composing':
      return { state: only.phase };
  }
}

export function outcomeActivity(outcome: Outcome): Activity {
  return outcome.ok ? { state: 'done' } : { state: 'failed', code: outcome.code };
}

function same(a: Activity | null | undefined, b: Activity | null | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export interface TrackedJob {
  update(phase: JobPhase): void;
  finish(outcome: Outcome): void;
}

/**
 * Tracks a node's jobs and reports their summary through `show`, at most once per `intervalMs` (the last one
 * always arrives); null clears it. While a job polls, the elapsed seconds tick once per interval. After the
 * last job ends, the outcome of the last one to finish stays shown.
 */
export class ActivityReporter {
  private readonly jobs = new Map<object, JobPhase>();
  private lastShown: Activity | null | undefined;
  private lastShownAt = 0;
  private pending: NodeJS.Timeout | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private lastOutcome: Activity | undefined;
  private closed = false;

  constructor(
    private readonly show: (activity: Activity | null) => void,
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
        this.lastOutcome = outcomeActivity(outcome);
        this.refresh();
      },
    };
  }

  private current(): Activity | null {
    return summarise([...this.jobs.values()], Date.now()) ?? this.lastOutcome ?? null;
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
    const activity = this.current();
    if (same(activity, this.lastShown)) return;
    this.lastShown = activity;
    this.lastShownAt = Date.now();
    this.show(activity);
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

  /** Stops all timers and clears what is shown. */
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
