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
}

export const DEFAULT_POLL_SCHEDULE: PollSchedule = { initialMs: 500, maxMs: 3_000, doublingMs: 10_000 };

export function nextPollDelay(schedule: PollSchedule, elapsedMs: number): number {
  const grown = schedule.initialMs * (1 + Math.max(0, elapsedMs) / schedule.doublingMs);
  return Math.round(Math.min(schedule.maxMs, grown));
}
