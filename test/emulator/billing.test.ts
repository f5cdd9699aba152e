import assert from 'node:assert/strict';
import type { BflEmulator } from '../../lib/emulator';
import { basicBody, http, KEY, poll, pollUntilDone, startEmulator, submit, submitOk } from './helpers';

describe('emulator: credits, billing and concurrency', () => {
  let emu: BflEmulator;

  before(async () => {
    emu = await startEmulator({
      keys: { bfl_key_alpha: 12, bfl_key_beta: 1000 },
      maxActivePerKey: 2,
      retryAfterSeconds: 3,
    });
  });
  afterEach(() => emu.reset());
  after(() => emu.close());

  it('serves GET /v1/credits for a valid key and refuses bad ones', async () => {
    const ok = await http(`${emu.apiUrl}/v1/credits`, { headers: { 'x-key': 'bfl_key_alpha' } });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json, { credits: 12 });
    assert.equal((await http(`${emu.apiUrl}/v1/credits`, { headers: { 'x-key': 'bfl_key_gamma' } })).status, 403);
    assert.equal((await http(`${emu.apiUrl}/v1/credits`)).status, 403);
    assert.equal((await http(`${emu.apiUrl}/v1/credits`, { headers: { 'x-key': 'bad' } })).status, 422);
  });

  it('charges 5 credits at submit and answers 402 when the balance is too low', async () => {
    emu.setDefaultScenario({ outcome: 'stuck' });
    await submitOk(emu, await basicBody(), 'bfl_key_alpha');
    assert.equal(emu.credits('bfl_key_alpha'), 7);
    await submitOk(emu, await basicBody(), 'bfl_key_alpha');
    assert.equal(emu.credits('bfl_key_alpha'), 2);
    emu.reset();
    emu.setCredits('bfl_key_alpha', 4);
    const reply = await submit(emu, await basicBody(), { key: 'bfl_key_alpha' });
    assert.equal(reply.status, 402);
    assert.match(reply.json.detail, /^Insufficient credits/);
    assert.equal(emu.credits('bfl_key_alpha'), 4);
    assert.equal(emu.tasks.size, 0);
  });

  it('refunds moderated tasks', async () => {
    emu.nextTask({ outcome: 'request-moderated' });
    const requestModerated = await submitOk(emu, await basicBody(), 'bfl_key_alpha');
    assert.equal(emu.credits('bfl_key_alpha'), 12, 'request moderation is decided at once and refunded');
    assert.equal((await poll(requestModerated.polling_url, 'bfl_key_alpha')).json.status, 'Request Moderated');

    emu.nextTask({ outcome: 'content-moderated' });
    const contentModerated = await submitOk(emu, await basicBody(), 'bfl_key_alpha');
    assert.equal(emu.credits('bfl_key_alpha'), 7, 'charged while processing');
    await emu.waitForTask((t) => t.id === contentModerated.id && t.status === 'Content Moderated');
    assert.equal(emu.credits('bfl_key_alpha'), 12);
  });

  it('keeps the charge for completed and failed tasks', async () => {
    const done = await submitOk(emu, await basicBody(), 'bfl_key_alpha');
    await pollUntilDone(done.polling_url, null);
    emu.nextTask({ outcome: 'error' });
    const failed = await submitOk(emu, await basicBody(), 'bfl_key_alpha');
    await pollUntilDone(failed.polling_url, null);
    assert.equal(emu.credits('bfl_key_alpha'), 2);
  });

  it('honours a per-task cost and a null cost', async () => {
    emu.nextTask({ cost: 2.5 });
    const a = await submitOk(emu, await basicBody(), 'bfl_key_beta');
    assert.equal(a.cost, 2.5);
    assert.equal(emu.credits('bfl_key_beta'), 997.5);
    emu.nextTask({ cost: null });
    const b = await submitOk(emu, await basicBody(), 'bfl_key_beta');
    assert.equal(b.cost, null);
    assert.equal(emu.credits('bfl_key_beta'), 997.5);
  });

  it('answers 429 with Retry-After beyond maxActivePerKey, counted per key', async () => {
    emu.setDefaultScenario({ outcome: 'stuck' });
    await submitOk(emu, await basicBody(), 'bfl_key_beta');
    await submitOk(emu, await basicBody(), 'bfl_key_beta');
    assert.equal(emu.activeCount('bfl_key_beta'), 2);
    const reply = await submit(emu, await basicBody(), { key: 'bfl_key_beta' });
    assert.equal(reply.status, 429);
    assert.equal(reply.headers['retry-after'], '3');
    assert.match(reply.json.detail, /^Too many active tasks/);
    assert.equal(emu.tasks.size, 2, 'a 429 creates no task');
    assert.equal(emu.credits('bfl_key_beta'), 990, 'and charges nothing');
    // Another key has its own limit.
    await submitOk(emu, await basicBody(), 'bfl_key_alpha');
    assert.equal(emu.activeCount(), 3);
  });

  it('frees a slot when a task finishes', async () => {
    const body = await basicBody();
    // Long enough that both are still active at the third submit, even on a busy machine.
    emu.nextTask({ processingMs: 500 });
    emu.nextTask({ processingMs: 500 });
    const first = await submitOk(emu, body, 'bfl_key_beta');
    const second = await submitOk(emu, body, 'bfl_key_beta');
    assert.equal((await submit(emu, body, { key: 'bfl_key_beta' })).status, 429);
    await pollUntilDone(first.polling_url, 'bfl_key_beta');
    await pollUntilDone(second.polling_url, 'bfl_key_beta');
    assert.equal(emu.activeCount('bfl_key_beta'), 0);
    assert.equal((await submit(emu, await basicBody(), { key: 'bfl_key_beta' })).status, 200);
  });

  it('accepts any well-formed key with default credits when no keys are configured', async () => {
    const open = await startEmulator({ defaultCredits: 7 });
    try {
      assert.equal(open.credits('whatever_key_123'), 7);
      await submitOk(open, await basicBody(), 'whatever_key_123');
      assert.equal(open.credits('whatever_key_123'), 2);
      assert.equal((await submit(open, await basicBody(), { key: 'whatever_key_123' })).status, 402);
      assert.equal((await submit(open, await basicBody(), { key: KEY })).status, 200);
    } finally {
      await open.close();
    }
  });

  it('restores the starting credits on reset', async () => {
    emu.setCredits('bfl_key_alpha', 0);
    emu.reset();
    assert.equal(emu.credits('bfl_key_alpha'), 12);
  });
});
