import assert from 'node:assert/strict';
import { ActivityReporter, outcomeActivity, summarise, type Activity } from '../../lib/engine/activity';

describe('job activity', () => {
  it('summarises one job by its phase', () => {
    const now = 10_000;
    assert.deepEqual(summarise([{ phase: 'queued' }], now), { state: 'queued', count: 1 });
    assert.deepEqual(summarise([{ phase: 'preparing' }], now), { state: 'queued', count: 1 });
    assert.deepEqual(summarise([{ phase: 'submitting' }], now), { state: 'submitting' });
    assert.deepEqual(summarise([{ phase: 'polling', taskId: 't', startedAt: 7_500, progress: undefined }], now), {
      state: 'polling',
      seconds: 2,
    });
    assert.deepEqual(
      summarise([{ phase: 'polling', taskId: 't', startedAt: 7_500, progress: undefined, webhook: true }], now),
      { state: 'waiting', seconds: 2 },
      'waiting for its webhook, nothing polled',
    );
    assert.deepEqual(summarise([{ phase: 'polling', taskId: 't', startedAt: 0, progress: 0.42 }], now), {
      state: 'progress',
      percent: 42,
    });
    assert.deepEqual(summarise([{ phase: 'downloading', taskId: 't' }], now), { state: 'downloading' });
    assert.deepEqual(summarise([{ phase: 'composing', taskId: 't' }], now), { state: 'composing' });
    assert.equal(summarise([], now), undefined);
  });

  it('summarises several jobs as a count, or the queue depth when all wait', () => {
    assert.deepEqual(summarise([{ phase: 'queued' }, { phase: 'queued' }], 0), { state: 'queued', count: 2 });
    assert.deepEqual(summarise([{ phase: 'queued' }, { phase: 'submitting' }], 0), { state: 'active', count: 2 });
  });

  it('names the error code of a failure', () => {
    assert.deepEqual(outcomeActivity({ ok: false, code: 'BFL_TIMEOUT' }), { state: 'failed', code: 'BFL_TIMEOUT' });
    assert.deepEqual(outcomeActivity({ ok: true }), { state: 'done' });
  });

  it('coalesces bursts of updates into at most one per interval, always ending on the latest', async () => {
    const shown: (Activity | null)[] = [];
    let settle: () => void = () => undefined;
    const lastShown = new Promise<void>((resolve) => (settle = resolve));
    const reporter = new ActivityReporter((activity) => {
      shown.push(activity);
      if (activity?.state === 'done') settle();
    }, 40);
    const jobs = Array.from({ length: 20 }, () => reporter.track());
    for (const job of jobs) job.update({ phase: 'submitting' });
    for (const job of jobs) job.finish({ ok: true });
    await lastShown;
    assert.ok(shown.length <= 3, `expected a few updates, got ${shown.length}`);
    assert.deepEqual(shown.at(-1), { state: 'done' });
    reporter.close();
    assert.equal(shown.at(-1), null);
  });
});
