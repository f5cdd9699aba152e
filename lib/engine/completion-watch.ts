/**
 * One task's way to completion as the poll loop sees it: when it was accepted, where it is expected to finish
 * (the account's learned window, or the task's own progress when BFL reports it), when it was polled, and, once
 * Ready, how long it took, to be learned. Time comes from `now`, so tests drive it with a fake clock.
 */
import { pollDelay, type FinishWindow, type PollSchedule } from './schedule';

interface ProgressReading {
  /** ms after acceptance */
  atMs: number;
  /** 0..1 */
  progress: number;
}

/** The part of a window around a progress-based finish, either side (the progress is rounded by BFL). */
const PROGRESS_MARGIN = 0.1;

/**
 * Where a task finishes, in ms after acceptance, by its progress: along the line through the first and the
 * latest readings, or from acceptance through the only one. Undefined while there is nothing to go by.
 */
export function finishFromProgress(
  first: ProgressReading | undefined,
  latest: ProgressReading | undefined,
): number | undefined {
  if (!latest || latest.progress <= 0 || latest.progress >= 1) return undefined;
  if (first && latest.atMs > first.atMs && latest.progress > first.progress) {
    const rate = (latest.progress - first.progress) / (latest.atMs - first.atMs);
    return latest.atMs + (1 - latest.progress) / rate;
  }
  return latest.atMs / latest.progress;
}

export class CompletionWatch {
  private lastPollMs: number | undefined;
  /** The start of the last poll that found the task still in progress: it was not ready before then. */
  private lastPendingMs = 0;
  private firstReading: ProgressReading | undefined;
  private latestReading: ProgressReading | undefined;

  /**
   * `acceptedAt`: when the submit was answered (ms since the epoch), which is when BFL starts counting.
   * `learned`: the account's window for tasks of this kind, if it has one.
   */
  constructor(
    private readonly schedule: PollSchedule,
    private readonly learned: FinishWindow | undefined,
    readonly acceptedAt: number,
    private readonly now: () => number = Date.now,
  ) {}

  private elapsed(): number {
    return this.now() - this.acceptedAt;
  }

  /** Where the task is expected to finish now: its progress wins over what the account learned. */
  window(): FinishWindow | undefined {
    const finish = finishFromProgress(this.firstReading, this.latestReading);
    if (finish === undefined) return this.learned;
    const margin = Math.max(this.schedule.minIntervalMs, finish * PROGRESS_MARGIN);
    return { earliestMs: finish - margin, latestMs: finish + margin };
  }

  /** When the task is expected to be Ready (ms since the epoch), for anyone who waits for it; undefined: unknown. */
  expectedFinishAt(): number | undefined {
    const window = this.window();
    return window === undefined ? undefined : this.acceptedAt + (window.earliestMs + window.latestMs) / 2;
  }

  /** How long to wait before the next poll. */
  nextDelay(): number {
    return pollDelay(this.schedule, this.window(), this.elapsed(), this.lastPollMs);
  }

  /** A poll is about to be sent. */
  polling(): void {
    this.lastPollMs = this.elapsed();
  }

  /** The poll found the task in progress, with BFL's progress (0..1) if it gave one. */
  inProgress(progress: number | undefined): void {
    this.lastPendingMs = this.lastPollMs ?? this.elapsed();
    if (progress === undefined || !(progress > 0 && progress < 1)) return;
    const reading = { atMs: this.lastPendingMs, progress };
    this.firstReading ??= reading;
    this.latestReading = reading;
  }

  /**
   * How long the task took, from acceptance to Ready, once a poll found it Ready: BFL's end_time (seconds since
   * the epoch) when given, held between the last poll that saw it in progress and now, so another clock's skew
   * cannot move it out of what this side saw; else the start of the poll that found it Ready.
   */
  duration(endTimeSeconds: number | undefined): number {
    const seenAt = this.elapsed();
    const polledAt = this.lastPollMs ?? seenAt;
    if (endTimeSeconds === undefined) return polledAt;
    const reported = endTimeSeconds * 1000 - this.acceptedAt;
    return Math.min(seenAt, Math.max(this.lastPendingMs, reported));
  }
}
