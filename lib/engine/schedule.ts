/**
 * When to poll a task next. Two schedules:
 *
 * - The first-task schedule, for an account that has learned nothing yet: BFL's own examples poll every 0.5 s;
 *   most fills finish within seconds, so it starts there and backs off for long tasks to spare the rate limit.
 * - The adaptive schedule, once the account knows when its tasks finish (a window from ./durations, or from the
 *   task's own progress): nothing can be ready long before the window opens, so it polls once on the way there
 *   (a check that the account's tasks have not become faster) and then densely across the window, where the
 *   task finishes (a window narrower than a step: once, at its end); a task that outlives the window is an outlier, and the polls back off towards the first-task
 *   schedule's longest wait.
 *
 * Pure functions of elapsed times (ms since the task was accepted), so they are tested without a clock.
 */
export interface PollSchedule {
  /** First-task schedule: wait before the first poll and between early polls. */
  initialMs: number;
  /** Longest wait between polls, in either schedule. */
  maxMs: number;
  /** First-task schedule: after this long the wait has doubled. */
  doublingMs: number;
  /** When a task is expected to have finished, from its submit (a fill usually takes a few seconds). */
  expectedFinishMs?: number;
  /** Shortest time between the starts of two polls of one task. */
  minIntervalMs: number;
}

export const DEFAULT_POLL_SCHEDULE: PollSchedule = {
  initialMs: 500,
  maxMs: 3_000,
  doublingMs: 10_000,
  minIntervalMs: 100,
};

const DEFAULT_EXPECTED_FINISH_MS = 10_000;

/** How long after its submit a task should be done: a job that expects a webhook waits this long (plus a margin). */
export function expectedFinishMs(schedule: PollSchedule): number {
  return schedule.expectedFinishMs ?? DEFAULT_EXPECTED_FINISH_MS;
}

/** Where a task is expected to finish, in ms after it was accepted: most finish between the two. */
export interface FinishWindow {
  earliestMs: number;
  latestMs: number;
}

/** Polls spent across the window: the detection lag is about half the window's width divided by this. */
const POLLS_PER_WINDOW = 9;
/** The check on the way to the window is worth a poll only when the window opens this late. */
const CHECK_FROM_MS = 3_000;
/** Past the window, each second adds this much to the wait (an outlier: the later, the less it matters). */
const BACKOFF_PER_MS = 0.3;

/** The first-task schedule's wait after `elapsedMs`. */
export function nextPollDelay(schedule: PollSchedule, elapsedMs: number): number {
  const grown = schedule.initialMs * (1 + Math.max(0, elapsedMs) / schedule.doublingMs);
  return Math.round(Math.min(schedule.maxMs, grown));
}

/** The interval across `window`: never sparser there than the first-task schedule would be. */
export function windowStep(schedule: PollSchedule, window: FinishWindow): number {
  const width = Math.max(0, window.latestMs - window.earliestMs);
  const sparsest = Math.max(schedule.minIntervalMs, nextPollDelay(schedule, window.earliestMs));
  return Math.round(Math.min(sparsest, Math.max(schedule.minIntervalMs, width / POLLS_PER_WINDOW)));
}

/**
 * How long to wait before the next poll. `lastPollMs`: when the previous poll started (undefined before the
 * first). `window`: undefined when nothing is known, which gives the first-task schedule.
 */
export function pollDelay(
  schedule: PollSchedule,
  window: FinishWindow | undefined,
  elapsedMs: number,
  lastPollMs: number | undefined,
): number {
  const floor = lastPollMs === undefined ? 0 : lastPollMs + schedule.minIntervalMs - elapsedMs;
  if (window === undefined) return Math.max(floor, nextPollDelay(schedule, elapsedMs));
  const { earliestMs, latestMs } = window;
  const step = windowStep(schedule, window);
  let at: number;
  // A window narrower than a step is polled once, at its end, where every task of it is ready.
  const firstInWindow = latestMs - earliestMs < step ? latestMs : earliestMs;
  if (elapsedMs < firstInWindow && (lastPollMs === undefined || lastPollMs < earliestMs)) {
    const check = earliestMs / 2;
    at = lastPollMs === undefined && earliestMs >= CHECK_FROM_MS && elapsedMs < check ? check : firstInWindow;
  } else if (elapsedMs < latestMs) {
    at = Math.max(firstInWindow, (lastPollMs ?? elapsedMs) + step);
  } else {
    const wait = Math.min(schedule.maxMs, Math.max(step, (elapsedMs - latestMs) * BACKOFF_PER_MS));
    at = (lastPollMs ?? elapsedMs) + wait;
  }
  return Math.round(Math.max(0, floor, at - elapsedMs));
}
