import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_POLL_SCHEDULE, nextPollDelay, pollDelay, type FinishWindow } from '../../lib/engine/schedule';

const S = DEFAULT_POLL_SCHEDULE;

/** The elapsed times (ms after acceptance) at which a task that finishes at `finishMs` is polled, until seen. */
function pollTimes(window: FinishWindow | undefined, finishMs: number): number[] {
  const times: number[] = [];
  let elapsed = 0;
  let last: number | undefined;
  for (;;) {
    elapsed += pollDelay(S, window, elapsed, last);
    times.push(elapsed);
    last = elapsed;
    if (elapsed >= finishMs) return times;
  }
}

describe('poll schedule', () => {
  it('polls a task of an account that has learned nothing as before: 0.5 s, growing to 3 s', () => {
    assert.equal(pollDelay(S, undefined, 0, undefined), 500);
    assert.equal(pollDelay(S, undefined, 10_000, 9_000), 1_000);
    assert.equal(pollDelay(S, undefined, 120_000, 119_000), 3_000);
    assert.deepEqual(pollTimes(undefined, 2_000), [500, 1_025, 1_576, 2_155]);
    assert.equal(nextPollDelay(S, 0), 500);
  });

  it('polls once on the way to a window that opens late, then at its opening', () => {
    const window = { earliestMs: 9_000, latestMs: 11_000 };
    assert.equal(pollDelay(S, window, 0, undefined), 4_500);
    assert.equal(pollDelay(S, window, 4_500, 4_500), 4_500);
  });

  it('goes straight to a window that opens early', () => {
    assert.equal(pollDelay(S, { earliestMs: 2_000, latestMs: 2_300 }, 0, undefined), 2_000);
  });

  it('polls a window narrower than a step once, at its end, where its tasks are all ready', () => {
    assert.equal(pollDelay(S, { earliestMs: 2_000, latestMs: 2_040 }, 0, undefined), 2_040);
    assert.deepEqual(pollTimes({ earliestMs: 2_000, latestMs: 2_040 }, 2_030), [2_040]);
  });

  it('polls densely across the window, never sparser there than the first-task schedule', () => {
    const window = { earliestMs: 9_000, latestMs: 11_000 };
    assert.equal(pollDelay(S, window, 9_000, 9_000), 222);
    const wide = { earliestMs: 1_000, latestMs: 60_000 };
    assert.equal(pollDelay(S, wide, 1_000, 1_000), nextPollDelay(S, 1_000));
  });

  it('backs off for a task that outlives its window, to at most the longest wait', () => {
    const window = { earliestMs: 2_000, latestMs: 2_200 };
    const soon = pollDelay(S, window, 2_300, 2_300);
    const later = pollDelay(S, window, 8_000, 8_000);
    assert.ok(soon < later, `${soon} then ${later}`);
    assert.equal(pollDelay(S, window, 60_000, 60_000), S.maxMs);
  });

  it('spends under 0.4 of the polls of a 0.5 s loop on 10 s ± 10% tasks, and sees most within one step', () => {
    const window = { earliestMs: 9_200, latestMs: 10_800 };
    const finishes = Array.from({ length: 21 }, (_, i) => 9_000 + i * 100);
    const polls = finishes.map((finish) => pollTimes(window, finish));
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const naive = mean(finishes.map((finish) => Math.ceil(finish / 500)));
    assert.ok(mean(polls.map((p) => p.length)) <= 0.4 * naive, `${mean(polls.map((p) => p.length))} polls`);
    const inWindow = finishes
      .map((finish, i) => ({ finish, seen: polls[i]!.at(-1)! }))
      .filter((t) => t.finish < 10_800);
    for (const { finish, seen } of inWindow) assert.ok(seen - finish <= 200, `seen ${seen - finish} ms late`);
  });

  it('never starts two polls of one task less than 100 ms apart', () => {
    const windowArb = fc
      .tuple(fc.integer({ min: 0, max: 60_000 }), fc.integer({ min: 0, max: 30_000 }))
      .map(([earliestMs, width]) => ({ earliestMs, latestMs: earliestMs + width }));
    fc.assert(
      fc.property(
        fc.option(windowArb, { nil: undefined }),
        fc.integer({ min: 0, max: 120_000 }),
        fc.integer({ min: 0, max: 99 }),
        (window, last, since) => pollDelay(S, window, last + since, last) >= 100 - since,
      ),
    );
  });
});
