import assert from 'node:assert/strict';
import sharp from 'sharp';
import type { BflEmulator } from '../../lib/emulator';
import { TEST_KEY, gradientPng, startEmulator } from '../support/emulator';
import { configNode, expandNode, flow, helper, nextError, nextOutput, node, settings, unloadFlows } from './flow';

helper.init(require.resolve('node-red'));

const FAST = { bflConfigPollInterval: 10, bflConfigRetryDelay: 5 };

describe('bfl-expand node', function () {
  let emulator: BflEmulator;
  let image: Buffer;

  before(async () => {
    emulator = await startEmulator();
    image = await gradientPng(256, 256);
    settings(FAST);
  });
  beforeEach(() => emulator.reset());
  afterEach(() => unloadFlows());
  after(async () => {
    settings({});
    await emulator.close();
  });

  const load = (expand: Record<string, unknown>) =>
    helper.load(
      [configNode, expandNode],
      flow({ type: 'bfl-expand', outputFormat: 'png', ...expand }, { region: 'custom', baseUrl: emulator.apiUrl }),
      { cfg: { apiKey: TEST_KEY } },
    );
  const size = async (payload: unknown) => {
    const meta = await sharp(payload as Buffer).metadata();
    return [meta.width, meta.height];
  };

  it('sends the expanded picture on as msg.payload with msg.bfl, keeping the rest of the msg', async () => {
    await load({ left: 64, right: 32, prompt: 'more meadow' });
    const output = nextOutput();
    node('fill').receive({ payload: image, topic: 'camera-2' });
    const msg = await output;
    assert.deepEqual(await size(msg.payload), [352, 256]);
    assert.equal(msg.topic, 'camera-2');
    const bfl = msg.bfl as { id: string; cost: number; prompt: string; sampleUrl: string };
    assert.equal(bfl.cost, 5);
    assert.equal(bfl.prompt, 'more meadow');
    assert.ok(emulator.tasks.has(bfl.id));
  });

  it('reads its sides from the message through their TypedInputs', async () => {
    await load({ top: 'grow', topType: 'msg', bottom: 16, bottomType: 'num' });
    const output = nextOutput();
    node('fill').receive({ payload: image, grow: 48 });
    assert.deepEqual(await size((await output).payload), [256, 256 + 48 + 16]);
  });

  it('takes msg.expand in place of its aspect ratio', async () => {
    await load({ aspectRatio: '21:9' });
    const output = nextOutput();
    node('fill').receive({ payload: image, expand: { right: 100 } });
    assert.deepEqual(await size((await output).payload), [356, 256]);
  });

  it('keeps a submitted expand across a redeploy: the new node sends the expanded picture for the original msg', async () => {
    emulator.nextTask({ processingMs: 1500 });
    await load({ bottom: 40 });
    node('fill').receive({ payload: image, topic: 'kept' });
    await emulator.waitForTask();
    await helper.setFlows(
      flow(
        { type: 'bfl-expand', outputFormat: 'png', bottom: 99, name: 'changed' },
        { region: 'custom', baseUrl: emulator.apiUrl },
      ),
      'nodes',
      { cfg: { apiKey: TEST_KEY } },
    );
    const msg = await nextOutput();
    assert.equal(msg.topic, 'kept');
    assert.deepEqual(await size(msg.payload), [256, 296], 'composed as it was submitted');
    assert.equal(emulator.requests.filter((r) => r.method === 'POST').length, 1);
  });

  it('reports sides the API cannot take to Catch with BFL_INVALID_INPUT and submits nothing', async () => {
    const big = await sharp({ create: { width: 4000, height: 3000, channels: 3, background: '#336699' } })
      .jpeg()
      .toBuffer();
    await load({ top: 2048, left: 2048 });
    const failed = nextError();
    node('fill').receive({ payload: big });
    const msg = await failed;
    assert.equal(msg.error.code, 'BFL_INVALID_INPUT');
    assert.match(msg.error.message, /more than the 20 MP the API returns/);
    assert.equal(emulator.requests.length, 0);
  });
});
