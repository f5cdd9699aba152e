import assert from 'node:assert/strict';
import { CompletionWatch, finishFromProgress } from '../../lib/engine/completion-watch';
import { DEFAULT_POLL_SCHEDULE } from '../../lib/engine/schedule';

/** A clock the test moves by hand. */
function fakeClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

describe('completion of one task', () => {
  it('extrapolates the finish from progress, through two readings or from acceptance', () => {
    assert.equal(finishFromProgress(undefined, { atMs: 2_000, progress: 0.25 }), 8_000);
    assert.equal(finishFromProgress({ atMs: 2_000, progress: 0.1 }, { atMs: 4_000, progress: 0.5 }), 6_500);
    assert.equal(finishFromProgress(undefined, undefined), undefined);
    assert.equal(finishFromProgress(undefined, { atMs: 2_000, progress: 0 }), undefined);
  });

  it('follows the learned window until the task reports progress, then its progress', () => {
    const clock = fakeClock();
    const watch = new CompletionWatch(
      DEFAULT_POLL_SCHEDULE,
      { earliestMs: 9_000, latestMs: 11_000 },
      clock.now(),
      clock.now,
    );
    assert.equal(watch.expectedFinishAt(), clock.now() + 10_000);
    assert.equal(watch.nextDelay(), 4_500);
    clock.advance(4_500);
    watch.polling();
    watch.inProgress(0.75);
    assert.equal(watch.expectedFinishAt(), clock.now() - 4_500 + 6_000);
    // The window around 6 s opens at 5.4 s: 0.9 s from now.
    assert.equal(watch.nextDelay(), 900);
  });

  it('polls a task of an account that has learned nothing on the first-task schedule', () => {
    const clock = fakeClock();
    const watch = new CompletionWatch(DEFAULT_POLL_SCHEDULE, undefined, clock.now(), clock.now);
    assert.equal(watch.expectedFinishAt(), undefined);
    assert.equal(watch.nextDelay(), 500);
    clock.advance(500);
    watch.polling();
    watch.inProgress(undefined);
    assert.equal(watch.nextDelay(), 525);
  });

  it('learns BFL’s end time, held between the last poll that saw the task running and the one that saw it Ready', () => {
    const clock = fakeClock();
    const acceptedAt = clock.now();
    const watch = new CompletionWatch(DEFAULT_POLL_SCHEDULE, undefined, acceptedAt, clock.now);
    clock.advance(2_000);
    watch.polling();
    watch.inProgress(undefined);
    clock.advance(500);
    watch.polling();
    clock.advance(20);
    assert.equal(watch.duration((acceptedAt + 2_300) / 1000), 2_300);
    // Another clock's skew cannot put it before the poll that saw the task running, nor after it was seen.
    assert.equal(watch.duration((acceptedAt - 60_000) / 1000), 2_000);
    assert.equal(watch.duration((acceptedAt + 60_000) / 1000), 2_520);
    // Without an end time: when the poll that found it Ready started.
    assert.equal(watch.duration(undefined), 2_500);
  });
});
