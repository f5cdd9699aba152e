import assert from 'node:assert/strict';
import { ActivityReporter, type Activity } from '../../lib/engine/activity';
import { Handover } from '../../lib/engine/handover';
import { NodeJob, type JobOwner } from '../../lib/engine/node-job';

describe('handover of jobs at a redeploy', () => {
  it('gives what a closed node left to its successor, and later items straight to it', () => {
    const unclaimed: string[] = [];
    const handover = new Handover<string>((id, items) => unclaimed.push(`${id}:${items.join(',')}`));
    handover.give('n1', 'a');
    const adopted: string[] = [];
    const unregister = handover.register('n1', { adopt: (item) => adopted.push(item) });
    handover.give('n1', 'b');
    assert.deepEqual(adopted, ['a', 'b']);
    unregister();
    handover.give('n1', 'c');
    handover.settle();
    assert.deepEqual(unclaimed, ['n1:c']);
  });

  it('says what no successor took once the deploy has finished, or after its grace', async () => {
    const unclaimed = new Promise<string>((resolve) => {
      const handover = new Handover<string>((id, items) => resolve(`${id}:${items.join(',')}`), 5);
      handover.give('gone', 'job');
    });
    assert.equal(await unclaimed, 'gone:job');
  });

  it('leaves a successor registered when its predecessor unregisters late', () => {
    const handover = new Handover<string>(() => assert.fail('nothing is unclaimed'));
    const old = handover.register('n', { adopt: () => assert.fail('the old node adopts nothing') });
    const adopted: string[] = [];
    handover.register('n', { adopt: (item) => adopted.push(item) });
    old();
    handover.give('n', 'x');
    assert.deepEqual(adopted, ['x']);
  });
});

describe('a node job', () => {
  const owner = (log: string[], name: string): JobOwner<string, number> => ({
    reporter: new ActivityReporter(() => undefined, 1),
    deliver: (msg, result) => log.push(`${name} sent ${msg} ${result}`),
    fail: (error, msg) => log.push(`${name} failed ${msg} ${String(error)}`),
  });

  it('is sent by its owner, and after a redeploy by the node that adopted it', () => {
    const log: string[] = [];
    const job = new NodeJob<string, number>('m', owner(log, 'old'));
    job.update({ phase: 'polling', taskId: 't', startedAt: 0, progress: undefined });
    assert.equal(job.submitted, true);
    assert.equal(job.taskId, 't');
    job.release();
    job.adopt(owner(log, 'new'));
    job.succeed('m', 1);
    assert.deepEqual(log, ['new sent m 1']);
  });

  it('keeps an outcome that arrives between the close and the successor, and hands it over then', () => {
    const log: string[] = [];
    const job = new NodeJob<string, number>('m', owner(log, 'old'));
    job.release();
    job.succeed('m', 2);
    assert.deepEqual(log, []);
    assert.equal(job.waiting?.ok, true);
    job.adopt(owner(log, 'new'));
    assert.deepEqual(log, ['new sent m 2']);
    assert.equal(job.waiting, undefined);
  });

  it('goes back to the node that took the message when no successor comes, and is stopped', () => {
    const log: string[] = [];
    const job = new NodeJob<string, number>('m', owner(log, 'old'));
    job.release();
    job.abandon();
    assert.equal(job.signal.aborted, true);
    job.fail(new Error('cancelled'), 'BFL_CANCELLED');
    assert.deepEqual(log, ['old failed m Error: cancelled']);
  });

  it('counts in the status of the node that owns it', async () => {
    const shown: (Activity | null)[] = [];
    let seen: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (seen = resolve));
    const reporter = new ActivityReporter((activity) => {
      shown.push(activity);
      if (activity?.state === 'done') seen();
    }, 1);
    const job = new NodeJob<string, number>('m', { reporter, deliver: () => undefined, fail: () => undefined });
    job.update({ phase: 'submitting' });
    job.succeed('m', 0);
    await done;
    assert.deepEqual(shown.at(-1), { state: 'done' });
    assert.equal(job.submitted, true);
    reporter.close();
  });
});
