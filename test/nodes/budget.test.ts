/** The daily credit limit in a flow: bfl-fill -> Catch, and Check key's view of today's spend. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BflEmulator } from '../../lib/emulator';
import { TEST_KEY, gradientPng, rectangleMask, startEmulator } from '../support/emulator';
import { configNode, fillNode, flow, helper, node, settings, unloadFlows } from './flow';

type Msg = Record<string, unknown> & { error?: { code?: string; message: string } };

/**
 * Every message that reaches helper node `id`, kept in order. One listener for the whole test: Node-RED's input
 * callbacks do not survive once-listeners removing themselves while a message is delivered.
 */
function collect(id: string): { msgs: Msg[]; count(n: number): Promise<void> } {
  const msgs: Msg[] = [];
  let wake: (() => void) | undefined;
  node(id).on('input', (msg: Msg) => {
    msgs.push(msg);
    wake?.();
  });
  return {
    msgs,
    async count(n) {
      while (msgs.length < n) await new Promise<void>((resolve) => (wake = resolve));
    },
  };
}

helper.init(require.resolve('node-red'));

describe('bfl-config daily credit limit in a flow', function () {
  let emulator: BflEmulator;
  let image: Buffer;
  let mask: Buffer;
  let userDir: string;

  before(async () => {
    emulator = await startEmulator();
    image = await gradientPng(32, 24);
    mask = await rectangleMask(32, 24, { left: 4, top: 4, width: 8, height: 8 });
  });
  beforeEach(() => {
    emulator.reset();
    userDir = mkdtempSync(join(tmpdir(), 'bfl-budget-flow-'));
    settings({ userDir, bflConfigPollInterval: 10, bflConfigRetryDelay: 5 });
  });
  afterEach(async () => {
    await unloadFlows();
    settings({});
    rmSync(userDir, { recursive: true, force: true });
  });
  after(() => emulator.close());

  const account = (limit: unknown) => ({ region: 'custom', baseUrl: emulator.apiUrl, dailyCreditLimit: limit });
  const credentials = { cfg: { apiKey: TEST_KEY } };

  it('lets one 5-credit fill through a limit of 5, then fails the next with BFL_BUDGET and submits nothing', async () => {
    await helper.load([configNode, fillNode], flow({ outputFormat: 'png' }, account(5)), credentials);
    const outputs = collect('out');
    const errors = collect('errors');
    node('fill').receive({ payload: image, mask, topic: 'first' });
    await outputs.count(1);
    node('fill').receive({ payload: image, mask, topic: 'second' });
    await errors.count(1);
    const msg = errors.msgs[0]!;
    assert.equal(msg.error?.code, 'BFL_BUDGET');
    assert.equal(msg.topic, 'second');
    const message = msg.error.message;
    assert.match(message, /daily credit limit of 5 credits/);
    assert.match(message, /5 credits have been spent today/);
    assert.match(message, /Nothing was submitted/);
    assert.match(message, /resets at 00:00 UTC, in \d/);
    assert.deepEqual(
      outputs.msgs.map((out) => out.topic),
      ['first'],
    );
    assert.equal(emulator.tasks.size, 1);
    const onDisk = JSON.parse(readFileSync(join(userDir, 'bfl', 'cfg', 'spend.json'), 'utf8')) as { spent: number };
    assert.equal(onDisk.spent, 5);
  });

  it("Check key tells the node's spend today with the limit typed in the dialog, never the key", async () => {
    await helper.load([configNode, fillNode], flow({ outputFormat: 'png' }, account('')), credentials);
    const outputs = collect('out');
    node('fill').receive({ payload: image, mask });
    await outputs.count(1);
    const check = (body: Record<string, unknown>) =>
      helper
        .request()
        .post('/bfl-config/check-key')
        .send({ region: 'custom', baseUrl: emulator.apiUrl, ...body })
        .expect(200);
    const withLimit = await check({ id: 'cfg', dailyCreditLimit: '100' });
    assert.equal(withLimit.body.credits, 995);
    assert.equal(withLimit.body.spend.spent, 5);
    assert.equal(withLimit.body.spend.limit, 100);
    assert.equal(typeof withLimit.body.spend.resetsAt, 'number');
    assert.doesNotMatch(JSON.stringify(withLimit.body), new RegExp(TEST_KEY));
    const noLimit = await check({ id: 'cfg', dailyCreditLimit: '' });
    assert.deepEqual([noLimit.body.spend.spent, noLimit.body.spend.limit], [5, null]);
    // A node never deployed has spent nothing; an id that is no node id is not a path to read.
    const fresh = await check({ id: 'f00dcafe00000001', apiKey: TEST_KEY });
    assert.equal(fresh.body.spend.spent, 0);
    const sneaky = await check({ id: '../bfl/cfg', apiKey: TEST_KEY });
    assert.equal(sneaky.body.spend.spent, 0);
  });
});
