import assert from 'node:assert/strict';
import { describeJobs, describeOutcome, StatusReporter, type StatusView } from '../../lib/engine/status';

describe('node status', () => {
  it('summarises one job by its phase', () => {
    const now = 10_000;
    assert.deepEqual(describeJobs([{ phase: 'queued' }], now), {
      fill: 'yellow',
      shape: 'ring',
      key: 'queued',
      params: { count: 1 },
    });
    assert.equal(describeJobs([{ phase: 'submitting' }], now)?.key, 'submitting');
    assert.deepEqual(
      describeJobs([{ phase: 'polling', taskId: 't', startedAt: 7_500, progress: undefined }], now)?.params,
      {
        seconds: 2,
      },
    );
    assert.deepEqual(describeJobs([{ phase: 'polling', taskId: 't', startedAt: 0, progress: 0.42 }], now), {
      fill: 'blue',
      shape: 'dot',
      key: 'progress',
      params: { percent: 42 },
    });
    assert.equal(describeJobs([], now), undefined);
  });

  it('summarises several jobs as a count, or the queue depth when all wait', () => {
    assert.deepEqual(describeJobs([{ phase: 'queued' }, { phase: 'queued' }], 0)?.params, { count: 2 });
    assert.deepEqual(describeJobs([{ phase: 'queued' }, { phase: 'submitting' }], 0), {
      fill: 'blue',
      shape: 'dot',
      key: 'active',
      params: { count: 2 },
    });
  });

  it('shows the error code on failure and says when the emulator produced the result', () => {
    assert.deepEqual(describeOutcome({ ok: false, code: 'BFL_TIMEOUT' }, false), {
      fill: 'red',
      shape: 'ring',
      key: 'error',
      params: { code: 'BFL_TIMEOUT' },
    });
    assert.equal(describeOutcome({ ok: true }, true).key, 'doneEmulator');
    assert.equal(describeOutcome({ ok: true }, false).key, 'done');
  });

  it('coalesces bursts of updates into at most one per interval, always ending on the latest', async () => {
    const shown: (StatusView | null)[] = [];
    let settle: () => void = () => undefined;
    const lastShown = new Promise<void>((resolve) => (settle = resolve));
    const reporter = new StatusReporter(
      (view) => {
        shown.push(view);
        if (view?.key === 'done') settle();
      },
      false,
      40,
    );
    const jobs = Array.from({ length: 20 }, () => reporter.track());
    for (const job of jobs) job.update({ phase: 'submitting' });
    for (const job of jobs) job.finish({ ok: true });
    await lastShown;
    assert.ok(shown.length <= 3, `expected a few updates, got ${shown.length}`);
    assert.equal(shown.at(-1)?.key, 'done');
    reporter.close();
    assert.equal(shown.at(-1), null);
  });
});
