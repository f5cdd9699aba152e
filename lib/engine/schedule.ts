/**
 * How long to wait between polls. BFL's own examples poll every 0.5 s; most fills finish within seconds,
 * so the schedule starts there and backs off for long tasks to spare the account's rate limit.
 */
export interface PollSchedule {
  /** Wait before the first poll and between early polls. */
  initialMs: number;
  /** Longest wait between polls. */
  maxMs: number;
  /** After this long the wait has doubled. */
  doublingMs: number;
  /** When a task is expected to have finished, from its submit (a fill usually takes a few seconds). */
  expectedFinishMs?: number;
}

export const DEFAULT_POLL_SCHEDULE: PollSchedule = { initialMs: 500, maxMs: 3_000, doublingMs: 10_000 };

const DEFAULT_EXPECTED_FINISH_MS = 10_000;

/** How long after its submit a task should be done: a job that expects a webhook waits this long (plus a margin). */
export function expectedFinishMs(schedule: PollSchedule): number {
  return schedule.expectedFinishMs ?? DEFAULT_EXPECTED_FINISH_MS;
}

export function nextPollDelay(schedule: PollSchedule, elapsedMs: number): number {
  const grown = schedule.initialMs * (1 + Math.max(0, elapsedMs) / schedule.doublingMs);
  return Math.round(Math.min(schedule.maxMs, grown));
}
