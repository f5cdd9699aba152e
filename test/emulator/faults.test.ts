import assert from 'node:assert/strict';
import type { BflEmulator } from '../../lib/emulator';
import { FaultQueue } from '../../lib/emulator/faults';
import { basicBody, http, KEY, poll, pollUntilDone, startEmulator, submit, submitOk } from './helpers';

describe('emulator: injected faults', () => {
  let emu: BflEmulator;

  before(async () => {
    emu = await startEmulator();
  });
  afterEach(() => emu.reset());
  after(() => emu.close());

  it('answers a submit with the injected status without creating or charging a task', async () => {
    emu.injectFault({ target: 'submit', status: 503, retryAfterSeconds: 2 });
    const reply = await submit(emu, await basicBody());
    assert.equal(reply.status, 503);
    assert.equal(reply.headers['retry-after'], '2');
    assert.deepEqual(reply.json, { detail: 'Service Unavailable' });
    assert.equal(emu.tasks.size, 0);
    assert.equal(emu.credits(KEY), 1000);
    const recorded = emu.requests.filter((r) => r.origin === 'api');
    assert.equal(recorded.length, 1);
    assert.equal(recorded[0]!.status, 503);
    // The fault is used up: the next submit goes through.
    assert.equal((await submit(emu, await basicBody())).status, 200);
    assert.equal(emu.tasks.size, 1);
  });

  it('drops the connection of a submit without creating a task', async () => {
    emu.injectFault({ target: 'submit', status: 'drop' });
    await assert.rejects(submit(emu, await basicBody()));
    assert.equal(emu.tasks.size, 0);
    assert.equal(emu.credits(KEY), 1000);
    assert.equal(emu.requests.length, 1);
    assert.equal(emu.requests[0]!.status, 0);
  });

  it('holds back a delayed submit answer while its task already exists, then answers it whole', async () => {
    emu.injectFault('submit:delay=400');
    let answered = false;
    const reply = submit(emu, await basicBody()).then((r) => {
      answered = true;
      return r;
    });
    const task = await emu.waitForTask(() => true);
    assert.equal(answered, false, 'the answer came with the task');
    const { status, json } = await reply;
    assert.equal(status, 200);
    assert.equal((json as { id: string }).id, task.id);
    assert.deepEqual(
      emu.faults.map((f) => f.fault),
      ['submit:delay=400'],
    );
  });

  it('does not consume a queued scenario with a faulted submit', async () => {
    emu.nextTask({ outcome: 'failed' });
    emu.injectFault({ target: 'submit', status: 500 });
    assert.equal((await submit(emu, await basicBody())).status, 500);
    const submitted = await submitOk(emu, await basicBody());
    assert.equal((await pollUntilDone(submitted.polling_url)).json.status, 'Failed');
  });

  it('answers the next `count` polls with the fault, then recovers', async () => {
    const submitted = await submitOk(emu, await basicBody());
    emu.injectFault({ target: 'poll', status: 502, count: 2 });
    assert.equal((await poll(submitted.polling_url)).status, 502);
    assert.equal((await poll(submitted.polling_url)).status, 502);
    assert.equal((await poll(submitted.polling_url)).status, 200);
  });

  it('drops poll connections', async () => {
    const submitted = await submitOk(emu, await basicBody());
    emu.injectFault({ target: 'poll', status: 'drop' });
    await assert.rejects(poll(submitted.polling_url));
    assert.equal((await poll(submitted.polling_url)).status, 200);
  });

  it('applies faults first in first out per target', async () => {
    const submitted = await submitOk(emu, await basicBody());
    emu.injectFault({ target: 'poll', status: 500 });
    emu.injectFault({ target: 'credits', status: 429, retryAfterSeconds: 1 });
    emu.injectFault({ target: 'poll', status: 503 });
    const credits = await http(`${emu.apiUrl}/v1/credits`, { headers: { 'x-key': KEY } });
    assert.equal(credits.status, 429);
    assert.equal(credits.headers['retry-after'], '1');
    assert.equal((await poll(submitted.polling_url)).status, 500);
    assert.equal((await poll(submitted.polling_url)).status, 503);
    assert.equal((await http(`${emu.apiUrl}/v1/credits`, { headers: { 'x-key': KEY } })).status, 200);
  });

  it('faults downloads', async () => {
    const submitted = await submitOk(emu, await basicBody());
    const done = await pollUntilDone(submitted.polling_url);
    emu.injectFault({ target: 'download', status: 500 });
    emu.injectFault({ target: 'download', status: 'drop' });
    assert.equal((await http(done.json.result.sample)).status, 500);
    await assert.rejects(http(done.json.result.sample));
    assert.equal((await http(done.json.result.sample)).status, 200);
  });

  it('clears faults on reset', async () => {
    emu.injectFault({ target: 'submit', status: 503, count: 5 });
    emu.reset();
    assert.equal((await submit(emu, await basicBody())).status, 200);
  });

  it('rejects nonsense faults', () => {
    const queue = new FaultQueue();
    assert.throws(() => queue.inject({ target: 'poll', status: 42 }), RangeError);
    assert.throws(() => queue.inject({ target: 'poll', status: 500, count: 0 }), RangeError);
    assert.equal(queue.take('poll'), undefined);
  });
});
