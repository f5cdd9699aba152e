import assert from 'node:assert/strict';
import type { BflEmulator } from '../../lib/emulator';
import { promptDirectives, resolveScenario } from '../../lib/emulator/scenarios';
import { basicBody, http, poll, pollUntilDone, startEmulator, submitOk } from './helpers';

const SIX_KEYS = ['details', 'id', 'preview', 'progress', 'result', 'status'];

describe('emulator: task outcomes', () => {
  let emu: BflEmulator;

  before(async () => {
    emu = await startEmulator();
  });
  afterEach(() => emu.reset());
  after(() => emu.close());

  it('answers Request Moderated on the first poll, with moderation reasons', async () => {
    emu.nextTask({ outcome: 'request-moderated', moderationReasons: ['Derivative Works'] });
    const submitted = await submitOk(emu, await basicBody());
    const reply = await poll(submitted.polling_url);
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.json, {
      id: submitted.id,
      status: 'Request Moderated',
      result: null,
      progress: null,
      details: { 'Moderation Reasons': ['Derivative Works'] },
      preview: null,
    });
  });

  it('answers Content Moderated after processing', async () => {
    emu.nextTask({ outcome: 'content-moderated' });
    const submitted = await submitOk(emu, await basicBody());
    assert.equal((await poll(submitted.polling_url)).json.status, 'Pending');
    const reply = await pollUntilDone(submitted.polling_url);
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.json, {
      id: submitted.id,
      status: 'Content Moderated',
      result: null,
      progress: null,
      details: { 'Moderation Reasons': ['Sexual Content'] },
      preview: null,
    });
  });

  for (const [outcome, status] of [
    ['error', 'Error'],
    ['failed', 'Failed'],
  ] as const) {
    it(`answers ${status} with a message in details`, async () => {
      emu.nextTask({ outcome });
      const submitted = await submitOk(emu, await basicBody());
      const reply = await pollUntilDone(submitted.polling_url);
      assert.equal(reply.status, 200);
      assert.deepEqual(Object.keys(reply.json).sort(), SIX_KEYS);
      assert.equal(reply.json.status, status);
      assert.equal(reply.json.result, null);
      assert.equal(typeof reply.json.details.message, 'string');
    });
  }

  it('keeps a stuck task in progress and active', async () => {
    emu.nextTask({ outcome: 'stuck', processingMs: 0 });
    const submitted = await submitOk(emu, await basicBody());
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal((await poll(submitted.polling_url)).json.status, 'Pending');
    assert.equal(emu.activeCount(), 1);
  });

  it('answers 404 Task not found for the not-found outcome', async () => {
    emu.nextTask({ outcome: 'not-found' });
    const submitted = await submitOk(emu, await basicBody());
    const reply = await poll(submitted.polling_url);
    assert.equal(reply.status, 404);
    assert.deepEqual(reply.json, {
      id: submitted.id,
      status: 'Task not found',
      result: null,
      progress: null,
      details: null,
      preview: null,
    });
  });

  it('answers 404 Task not found for unknown ids on the cluster, 422 without an id', async () => {
    const unknown = await poll(`${emu.clusterUrl}/v1/get_result?id=00000000-0000-4000-8000-000000000000`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.status, 'Task not found');
    assert.equal(unknown.json.id, '00000000-0000-4000-8000-000000000000');
    assert.deepEqual(Object.keys(unknown.json).sort(), SIX_KEYS);
    const missing = await poll(`${emu.clusterUrl}/v1/get_result`);
    assert.equal(missing.status, 422);
    assert.deepEqual(missing.json, {
      detail: [{ type: 'missing', loc: ['query', 'id'], msg: 'Field required', input: null }],
    });
  });

  it('answers 404 Task not found on the API origin even for a real task (clients must follow polling_url)', async () => {
    const submitted = await submitOk(emu, await basicBody());
    const rebuilt = await poll(`${emu.apiUrl}/v1/get_result?id=${submitted.id}`);
    assert.equal(rebuilt.status, 404);
    assert.equal(rebuilt.json.status, 'Task not found');
    assert.equal((await poll(submitted.polling_url)).status, 200);
  });

  it('uses the scripted in-progress word and reports progress when asked', async () => {
    emu.nextTask({ inProgressStatus: 'Generating', progress: true, processingMs: 400 });
    const submitted = await submitOk(emu, await basicBody());
    const first = await poll(submitted.polling_url);
    assert.equal(first.json.status, 'Generating');
    assert.equal(typeof first.json.progress, 'number');
    assert.ok(first.json.progress >= 0 && first.json.progress < 1);
    const done = await pollUntilDone(submitted.polling_url);
    assert.equal(done.json.status, 'Ready');
    assert.equal(done.json.progress, null);
  });

  it('applies queued scenarios first in first out, then the default scenario', async () => {
    emu.setDefaultScenario({ outcome: 'failed' });
    emu.nextTask({ outcome: 'error' });
    emu.nextTask({ outcome: 'content-moderated' });
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await submitOk(emu, await basicBody())).polling_url);
    const statuses = [];
    for (const url of ids) statuses.push((await pollUntilDone(url)).json.status);
    assert.deepEqual(statuses, ['Error', 'Content Moderated', 'Failed']);
  });

  it('does not consume a queued scenario on a rejected submit', async () => {
    emu.nextTask({ outcome: 'error' });
    const bad = await http(`${emu.apiUrl}/v1/flux-pro-1.0-fill`, {
      method: 'POST',
      headers: { 'x-key': 'bfl_emulator_local_key', 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(bad.status, 422);
    const submitted = await submitOk(emu, await basicBody());
    assert.equal((await pollUntilDone(submitted.polling_url)).json.status, 'Error');
  });

  it('picks outcomes from prompt directives', async () => {
    const cases: [string, string][] = [
      ['[emulate:request-moderated] a cat', 'Request Moderated'],
      ['a cat [emulate:content-moderated]', 'Content Moderated'],
      ['[emulate:error]', 'Error'],
      ['[EMULATE:FAILED]', 'Failed'],
    ];
    for (const [prompt, status] of cases) {
      const submitted = await submitOk(emu, await basicBody({ prompt }));
      assert.equal((await pollUntilDone(submitted.polling_url)).json.status, status, prompt);
    }
    const notFound = await submitOk(emu, await basicBody({ prompt: '[emulate:not-found]' }));
    assert.equal((await poll(notFound.polling_url)).status, 404);
    const stuck = await submitOk(emu, await basicBody({ prompt: '[emulate:stuck]' }));
    assert.equal(emu.tasks.get(stuck.id)!.status, 'Pending');
  });

  it('lets a queued scenario win over a prompt directive', async () => {
    emu.nextTask({ outcome: 'ready' });
    const submitted = await submitOk(emu, await basicBody({ prompt: '[emulate:error]' }));
    assert.equal((await pollUntilDone(submitted.polling_url)).json.status, 'Ready');
  });

  it('resolves scenarios: slow multiplies processing time, directives only without a queued scenario', () => {
    const base = { processingMs: 100, cost: 5 };
    assert.equal(resolveScenario(base, {}, undefined, '[emulate:slow] x').processingMs, 400);
    assert.equal(resolveScenario(base, { processingMs: 10 }, undefined, '[emulate:slow]').processingMs, 40);
    assert.equal(resolveScenario(base, {}, { outcome: 'error' }, '[emulate:stuck]').outcome, 'error');
    assert.equal(resolveScenario(base, { outcome: 'failed' }, undefined, 'plain').outcome, 'failed');
    assert.equal(resolveScenario(base, {}, { cost: null }, '').cost, null);
    assert.deepEqual(promptDirectives('[emulate:slow] [emulate:error] [emulate:nonsense]'), ['slow', 'error']);
  });

  it('lets waitForTask await submits without sleeping', async () => {
    const waiting = emu.waitForTask((t) => t.prompt === 'the awaited one');
    await submitOk(emu, await basicBody({ prompt: 'another' }));
    const submitted = await submitOk(emu, await basicBody({ prompt: 'the awaited one' }));
    const task = await waiting;
    assert.equal(task.id, submitted.id);
    // An existing task resolves at once.
    assert.equal((await emu.waitForTask((t) => t.prompt === 'another')).prompt, 'another');
    // Status changes are matched too.
    const ready = await emu.waitForTask((t) => t.id === submitted.id && t.status === 'Ready');
    assert.ok(ready.completedAt !== null && ready.completedAt >= ready.submittedAt);
  });
});

describe('emulator: processing time that varies per task', () => {
  it('gives each task a time within processingSpread of processingMs', async () => {
    const emu = await startEmulator({ processingMs: 200, processingSpread: 0.5 });
    try {
      const ids = await Promise.all([1, 2, 3, 4, 5, 6].map(async () => (await submitOk(emu, await basicBody())).id));
      const done = await Promise.all(ids.map((id) => emu.waitForTask((t) => t.id === id && t.completedAt !== null)));
      const times = done.map((t) => t.completedAt! - t.submittedAt);
      for (const ms of times) assert.ok(ms >= 100 && ms < 400, `${ms} ms`);
      assert.ok(new Set(times).size > 1, 'every task took the same time');
    } finally {
      await emu.close();
    }
  });

  it('refuses a spread beyond 1', async () => {
    await assert.rejects(startEmulator({ processingSpread: 1.5 }), RangeError);
  });
});
