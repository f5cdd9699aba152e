import assert from 'node:assert/strict';
import { statusView } from '../../nodes/status';

describe('node status', () => {
  it('shows waiting jobs as a yellow ring with the queue depth', () => {
    assert.deepEqual(statusView({ state: 'queued', count: 3 }, false), {
      fill: 'yellow',
      shape: 'ring',
      key: 'queued',
      params: { count: 3 },
    });
  });

  it('shows running jobs in blue, with the seconds polled or the progress', () => {
    assert.deepEqual(statusView({ state: 'submitting' }, false), { fill: 'blue', shape: 'ring', key: 'submitting' });
    assert.deepEqual(statusView({ state: 'polling', seconds: 2 }, false), {
      fill: 'blue',
      shape: 'dot',
      key: 'polling',
      params: { seconds: 2 },
    });
    assert.deepEqual(statusView({ state: 'progress', percent: 42 }, false), {
      fill: 'blue',
      shape: 'dot',
      key: 'progress',
      params: { percent: 42 },
    });
    assert.equal(statusView({ state: 'downloading' }, false).key, 'downloading');
    assert.equal(statusView({ state: 'composing' }, false).key, 'composing');
    assert.deepEqual(statusView({ state: 'active', count: 2 }, false).params, { count: 2 });
  });

  it('shows the error code on failure and says when the emulator produced the result', () => {
    assert.deepEqual(statusView({ state: 'failed', code: 'BFL_TIMEOUT' }, false), {
      fill: 'red',
      shape: 'ring',
      key: 'error',
      params: { code: 'BFL_TIMEOUT' },
    });
    assert.equal(statusView({ state: 'done' }, true).key, 'doneEmulator');
    assert.equal(statusView({ state: 'done' }, false).key, 'done');
  });
});
