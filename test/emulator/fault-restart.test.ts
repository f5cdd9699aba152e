import assert from 'node:assert/strict';
import type { BflEmulator, FaultTarget } from '../../lib/emulator';
import { startEmulator } from './helpers';
import {
  answer,
  callTo,
  codeOf,
  creditsCall,
  json,
  LogWatch,
  pollCall,
  readyTask,
  see,
  submitCall,
} from './fault-helpers';

const ORIGIN_OF: Record<FaultTarget, 'apiUrl' | 'clusterUrl' | 'deliveryUrl'> = {
  submit: 'apiUrl',
  credits: 'apiUrl',
  poll: 'clusterUrl',
  download: 'deliveryUrl',
};

/** `restart`: the origin that served the request goes down and comes back on the same port, in one process. */
describe('emulator faults: restart', () => {
  let emu: BflEmulator;
  const watch = new LogWatch();

  before(async () => {
    // Long enough that a request sent right after the reset surely meets the origin down.
    emu = await startEmulator({ restartMs: 300, log: watch.log });
  });
  afterEach(async () => {
    await emu.whenListening();
    emu.reset();
  });
  after(() => emu.close());

  for (const target of ['submit', 'poll', 'download', 'credits'] as const) {
    it(`on ${target}: resets the request, refuses connections, then listens again on the same port`, async () => {
      const call = await callTo(emu, target);
      const origin = emu[ORIGIN_OF[target]];
      const tasksBefore = emu.tasks.size;
      emu.injectFault({ target, kind: 'restart' });
      const faulted = await see(call);
      assert.equal(faulted.kind === 'no-answer' && codeOf(faulted.error), 'ECONNRESET');
      const down = await see(call);
      assert.equal(down.kind === 'no-answer' && codeOf(down.error), 'ECONNREFUSED');
      await emu.whenListening();
      assert.equal(emu[ORIGIN_OF[target]], origin);
      assert.equal(answer(await see(call)).status, 200);
      if (target === 'submit') assert.equal(emu.tasks.size, tasksBefore + 1, 'only the submit after it made a task');
      assert.deepEqual(
        emu.faults.map((f) => f.fault),
        [`${target}:restart=keep`],
      );
    });
  }

  it('takes down only the origin that restarted', async () => {
    const { pollingUrl } = await readyTask(emu);
    emu.injectFault('poll:restart');
    await see(pollCall(pollingUrl));
    assert.equal((await see(pollCall(pollingUrl))).kind, 'no-answer');
    assert.equal(answer(await see(creditsCall(emu))).status, 200);
  });

  it('keeps its tasks by default: a task in progress goes on to Ready', async () => {
    const submitted = json(await see(await callTo(emu, 'submit')));
    emu.injectFault('poll:restart');
    await see(pollCall(submitted.polling_url));
    await emu.whenListening();
    await emu.waitForTask((t) => t.id === submitted.id && t.status === 'Ready');
    assert.equal(json(await see(pollCall(submitted.polling_url))).status, 'Ready');
  });

  it('restart=forget: forgets its tasks, so their polls answer 404 Task not found', async () => {
    const { id, pollingUrl, sample } = await readyTask(emu);
    emu.injectFault('poll:restart=forget');
    await see(pollCall(pollingUrl));
    await emu.whenListening();
    const seen = answer(await see(pollCall(pollingUrl)));
    assert.equal(seen.status, 404);
    assert.deepEqual(json(seen), {
      id,
      status: 'Task not found',
      result: null,
      progress: null,
      details: null,
      preview: null,
    });
    assert.equal(emu.tasks.size, 0);
    // The stored result outlives the cluster's memory while its link lasts.
    assert.equal(answer(await see({ url: sample, method: 'GET', headers: {} })).status, 200);
  });

  it('restarts mid-task when the task’s prompt asks for it', async () => {
    const submitted = json(await see(await submitCall(emu, { prompt: 'a red balloon [emulate:fault=poll:restart]' })));
    const first = await see(pollCall(submitted.polling_url));
    assert.equal(first.kind === 'no-answer' && codeOf(first.error), 'ECONNRESET');
    await emu.whenListening();
    assert.equal(answer(await see(pollCall(submitted.polling_url))).status, 200);
  });

  it('says in the log when an origin goes down and comes back', async () => {
    const back = watch.next(/restart: cluster listens again/);
    const { pollingUrl } = await readyTask(emu);
    emu.injectFault('poll:restart');
    await see(pollCall(pollingUrl));
    assert.ok(watch.lines.some((line) => line === 'restart: cluster refuses connections for 300ms'));
    await back;
  });

  it('closes while an origin is down, and never listens again', async () => {
    const other = await startEmulator({ restartMs: 60_000 });
    const { pollingUrl } = await readyTask(other);
    other.injectFault('poll:restart');
    await see(pollCall(pollingUrl));
    await other.close();
    await other.whenListening();
    const after = await see(pollCall(pollingUrl));
    assert.equal(after.kind === 'no-answer' && codeOf(after.error), 'ECONNREFUSED');
  });
});
