import assert from 'node:assert/strict';
import sharp from 'sharp';
import type { BflEmulator } from '../../lib/emulator';
import { runningLocalEmulator } from '../../lib/engine/local-emulator';
import { TEST_KEY, gradientPng, rectangleMask, startEmulator } from '../support/emulator';
import {
  configNode,
  fillNode,
  flow,
  helper,
  nextError,
  nextOutput,
  nextOutputs,
  node,
  settings,
  unloadFlows,
} from './flow';

helper.init(require.resolve('node-red'));

const FAST = { bflConfigPollInterval: 10, bflConfigRetryDelay: 5, bflConfigEmulator: { processingMs: 30 } };

describe('bfl-fill node', function () {
  let emulator: BflEmulator;
  let image: Buffer;
  let mask: Buffer;

  before(async () => {
    emulator = await startEmulator();
    image = await gradientPng(40, 30);
    mask = await rectangleMask(40, 30, { left: 10, top: 10, width: 10, height: 10 });
    settings(FAST);
  });
  beforeEach(() => emulator.reset());
  afterEach(async () => {
    await unloadFlows();
  });
  after(async () => {
    settings({});
    await emulator.close();
  });

  const account = () => ({ region: 'custom', baseUrl: emulator.apiUrl });
  const credentials = { cfg: { apiKey: TEST_KEY } };
  const load = (
    fill: Record<string, unknown>,
    config: Record<string, unknown> | null = account(),
    creds: object = credentials,
  ) => helper.load([configNode, fillNode], flow(fill, config), creds);
  const submittedBody = () => [...emulator.tasks.values()][0]!.body;

  it('sends the inpainted image on as msg.payload with msg.bfl, keeping the rest of the msg', async () => {
    await load({ prompt: 'a bird', outputFormat: 'png' });
    const output = nextOutput();
    node('fill').receive({ payload: image, mask, topic: 'camera-1', _keep: { a: 1 } });
    const msg = await output;
    assert.ok(Buffer.isBuffer(msg.payload));
    const meta = await sharp(msg.payload as Buffer).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 40, 30]);
    assert.equal(msg.topic, 'camera-1');
    assert.deepEqual(msg._keep, { a: 1 });
    assert.equal('mask' in msg, true);
    const bfl = msg.bfl as Record<string, unknown>;
    assert.deepEqual(Object.keys(bfl).sort(), [
      'cost',
      'duration',
      'id',
      'inputMp',
      'outputMp',
      'prompt',
      'sampleUrl',
      'seed',
    ]);
    assert.equal(bfl.id, [...emulator.tasks.keys()][0]);
    assert.equal(bfl.prompt, 'a bird');
    assert.equal(typeof bfl.seed, 'number');
  });

  it('uses the API defaults for a hand-written flow that leaves every field out', async () => {
    await load({});
    const output = nextOutput();
    node('fill').receive({ payload: image, mask });
    await output;
    const { image: _i, mask: _m, ...fields } = submittedBody();
    assert.deepEqual(fields, {
      prompt: '',
      steps: 50,
      guidance: 60,
      output_format: 'jpeg',
      safety_tolerance: 2,
      prompt_upsampling: false,
    });
  });

  it('takes plain values without ...Type companions as literals, with the right JSON types', async () => {
    await load({
      prompt: 'plain',
      steps: '20',
      guidance: 7.5,
      seed: '99',
      outputFormat: 'webp',
      safetyTolerance: '5',
      promptUpsampling: true,
    });
    const output = nextOutput();
    node('fill').receive({ payload: image, mask });
    await output;
    const { image: _i, mask: _m, ...fields } = submittedBody();
    assert.deepEqual(fields, {
      prompt: 'plain',
      steps: 20,
      guidance: 7.5,
      seed: 99,
      output_format: 'webp',
      safety_tolerance: 5,
      prompt_upsampling: true,
    });
  });

  it('reads TypedInput fields from msg, flow context and env', async () => {
    process.env.BFL_TEST_GUIDANCE = '12.5';
    await load({
      prompt: 'topic',
      promptType: 'msg',
      steps: 'steps',
      stepsType: 'flow',
      guidance: 'BFL_TEST_GUIDANCE',
      guidanceType: 'env',
      seed: 'settings.seed',
      seedType: 'msg',
    });
    node('fill').context().flow.set('steps', 33);
    const output = nextOutput();
    node('fill').receive({ payload: image, mask, topic: 'from topic', settings: { seed: 5 } });
    await output;
    const body = submittedBody();
    assert.deepEqual([body.prompt, body.steps, body.guidance, body.seed], ['from topic', 33, 12.5, 5]);
    delete process.env.BFL_TEST_GUIDANCE;
  });

  it('uses msg.prompt and msg.seed when the fields are empty, and not when they are set', async () => {
    await load({ prompt: '', seed: '', seedType: 'num' });
    let output = nextOutput();
    node('fill').receive({ payload: image, mask, prompt: 'from msg', seed: 42 });
    let msg = await output;
    assert.equal((msg.bfl as { seed: number }).seed, 42);
    assert.deepEqual([submittedBody().prompt, submittedBody().seed], ['from msg', 42]);
    await unloadFlows();
    emulator.reset();
    await load({ prompt: 'node prompt', seed: 1 });
    output = nextOutput();
    node('fill').receive({ payload: image, mask, prompt: 'from msg', seed: 42 });
    msg = await output;
    assert.deepEqual([submittedBody().prompt, submittedBody().seed], ['node prompt', 1]);
  });

  it('accepts base64 strings and data URLs for image and mask', async () => {
    await load({ outputFormat: 'png' });
    const output = nextOutput();
    node('fill').receive({
      payload: image.toString('base64'),
      mask: `data:image/png;base64,${mask.toString('base64')}`,
    });
    const msg = await output;
    assert.ok(Buffer.isBuffer(msg.payload));
  });

  it('uses the alpha channel as the mask when there is no msg.mask', async () => {
    const raw = Buffer.alloc(40 * 30 * 4, 200);
    for (let i = 3; i < raw.length; i += 4) raw[i] = 255;
    for (let y = 5; y < 10; y += 1) for (let x = 5; x < 10; x += 1) raw[(y * 40 + x) * 4 + 3] = 0;
    const withHole = await sharp(raw, { raw: { width: 40, height: 30, channels: 4 } })
      .png()
      .toBuffer();
    await load({ outputFormat: 'png' });
    const output = nextOutput();
    node('fill').receive({ payload: withHole });
    const msg = await output;
    const sent = [...emulator.tasks.values()][0]!;
    const sentMask = await sharp(sent.mask!).greyscale().raw().toBuffer();
    assert.equal(sentMask[7 * 40 + 7], 255, 'the transparent hole is white in the mask');
    assert.equal(sentMask[20 * 40 + 20], 0, 'opaque pixels are black in the mask');
    assert.equal((await sharp(sent.image).metadata()).hasAlpha, false);
    assert.ok(Buffer.isBuffer(msg.payload));
  });

  const invalid: [string, () => Record<string, unknown>, Record<string, unknown>, RegExp][] = [
    ['the image is not an image', () => ({ payload: Buffer.from('hello'), mask }), {}, /msg\.payload/],
    ['the image is missing', () => ({ mask }), {}, /msg\.payload/],
    ['there is no mask and no alpha channel', () => ({ payload: image }), {}, /mask/i],
    [
      'a field is out of range',
      () => ({ payload: image, mask }),
      { steps: 51 },
      /Steps must be a whole number from 15 to 50/,
    ],
    ['msg.seed is not a number', () => ({ payload: image, mask, seed: 'x' }), {}, /msg\.seed/],
    [
      'a field cannot be read from its source',
      () => ({ payload: image, mask }),
      { prompt: '{not json', promptType: 'json' },
      /^Could not read the "Prompt" field: /,
    ],
  ];
  for (const [what, message, fill, pattern] of invalid) {
    it(`reaches Catch with BFL_INVALID_INPUT and submits nothing when ${what}`, async () => {
      await load(fill);
      const caught = nextError();
      node('fill').receive(message());
      const { error } = await caught;
      assert.equal(error.code, 'BFL_INVALID_INPUT');
      assert.match(error.message, pattern);
      assert.equal(emulator.requests.length, 0);
    });
  }

  it('rejects a mask whose size differs from the image, saying how to fix it', async () => {
    await load({});
    const caught = nextError();
    node('fill').receive({
      payload: image,
      mask: await rectangleMask(20, 15, { left: 0, top: 0, width: 5, height: 5 }),
    });
    const { error } = await caught;
    assert.equal(error.code, 'BFL_INVALID_INPUT');
    assert.match(error.message, /40\s*[x×]\s*30/);
    assert.match(error.message, /20\s*[x×]\s*15/);
    assert.equal(emulator.requests.length, 0);
  });

  it('gives a clear error, not a TypeError, when no config node is selected', async () => {
    await load({}, null);
    const caught = nextError();
    node('fill').receive({ payload: image, mask });
    const { error } = await caught;
    assert.equal(error.code, 'BFL_INVALID_INPUT');
    // The helper's RED._ is the identity, so this is the glue's fallback to the engine's English.
    assert.equal(
      error.message,
      'No bfl-config node selected: open the node and choose or add a BFL account. Nothing was submitted.',
    );
  });

  it('gives BFL_AUTH and submits nothing when the config node has no key', async () => {
    await load({}, account(), {});
    const caught = nextError();
    node('fill').receive({ payload: image, mask });
    const { error } = await caught;
    assert.equal(error.code, 'BFL_AUTH');
    assert.match(error.message, /no API key/);
    assert.doesNotMatch(error.message, /bfl-fill\.messages|auth\.noKey/);
    assert.equal(emulator.requests.length, 0);
  });

  it('routes moderation to Catch with its code and the task id', async () => {
    emulator.nextTask({ outcome: 'request-moderated' });
    await load({});
    const caught = nextError();
    node('fill').receive({ payload: image, mask });
    const { error } = await caught;
    assert.equal(error.code, 'BFL_REQUEST_MODERATED');
    assert.match(error.message, /^BFL's moderation refused/);
    assert.match(error.message, new RegExp([...emulator.tasks.keys()][0]!));
  });

  it('times out after the node timeout with BFL_TIMEOUT', async () => {
    emulator.nextTask({ outcome: 'stuck' });
    await load({ timeout: 1 });
    const caught = nextError();
    node('fill').receive({ payload: image, mask });
    const { error } = await caught;
    assert.equal(error.code, 'BFL_TIMEOUT');
  });

  /** Resolves with every status text shown until one matches `last`. */
  function statusesUntil(fill: ReturnType<typeof node>, last: string): Promise<string[]> {
    const texts: string[] = [];
    return new Promise((resolve) => {
      fill.on('call:status', (call: { args: [{ text?: string }] }) => {
        texts.push(call.args[0].text ?? '');
        if (call.args[0].text === last) resolve(texts);
      });
    });
  }

  it('shows progress in the status and ends with done', async () => {
    await load({});
    const fill = node('fill');
    const shown = statusesUntil(fill, 'bfl-fill.status.done');
    fill.receive({ payload: image, mask });
    const texts = await shown;
    assert.equal(texts[0], 'bfl-fill.status.queued');
    assert.ok(texts.length >= 2);
  });

  it('shows the error code in the status when a job fails', async () => {
    emulator.nextTask({ outcome: 'error' });
    await load({});
    const fill = node('fill');
    const shown = statusesUntil(fill, 'bfl-fill.status.error');
    const caught = nextError();
    fill.receive({ payload: image, mask });
    await caught;
    await shown;
  });

  it('on close during polling stops all traffic, settles the msg and clears the status', async () => {
    emulator.nextTask({ outcome: 'stuck' });
    await load({});
    const fill = node('fill');
    const settled = new Promise<{ code?: string }>((resolve) =>
      fill.on('call:error', (call: { args: [{ code?: string }] }) => resolve(call.args[0])),
    );
    const statuses: object[] = [];
    fill.on('call:status', (call: { args: [object] }) => statuses.push(call.args[0]));
    const warnings: string[] = [];
    fill.on('call:warn', (call: { args: [string] }) => warnings.push(String(call.args[0])));
    const polling = new Promise<void>((resolve) =>
      fill.on('call:status', (call: { args: [{ text?: string }] }) => {
        if (call.args[0].text === 'bfl-fill.status.polling') resolve();
      }),
    );
    fill.receive({ payload: image, mask });
    const task = await emulator.waitForTask();
    await polling;
    // Delete the node the way a deploy does; unload() would also remove the spies we listen to.
    await helper.setFlows(
      flow({}, account()).filter((n) => n.id !== 'fill'),
      'full',
      credentials,
    );
    const error = await settled;
    assert.equal(error.code, 'BFL_CANCELLED');
    assert.deepEqual(statuses.at(-1), {});
    assert.ok(
      warnings.some((warning) => warning.includes(task.id) && /deleted or disabled/.test(warning)),
      `the log names the task: ${JSON.stringify(warnings)}`,
    );
    const seen = emulator.requests.length;
    // No event marks "no further request": wait several poll intervals and count.
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(emulator.requests.length, seen);
  });

  for (const type of ['full', 'flows', 'nodes'] as const) {
    it(`keeps a submitted job across a ${type} redeploy: the new node sends the result for the original msg`, async () => {
      emulator.nextTask({ processingMs: 1500 });
      await load({ outputFormat: 'png' });
      const marker = { camera: 'porch' };
      node('fill').receive({ payload: image, mask, topic: 'kept', marker });
      await emulator.waitForTask();
      // The same node, changed: Node-RED closes the old one and starts a new one with the same id.
      await helper.setFlows(flow({ outputFormat: 'png', name: 'changed' }, account()), type, credentials);
      const msg = await nextOutput();
      assert.equal(msg.topic, 'kept');
      assert.equal(msg.marker, marker, 'the very msg object that came in');
      assert.equal((await sharp(msg.payload as Buffer).metadata()).width, 40);
      assert.equal(emulator.requests.filter((r) => r.method === 'POST').length, 1);
    });
  }

  it('sends a message that was still queued at a redeploy through the new node, with its new settings', async () => {
    emulator.nextTask({ processingMs: 3000 });
    await load({ outputFormat: 'png' }, { ...account(), maxConcurrent: 1 });
    node('fill').receive({ payload: image, mask, topic: 'first' });
    await emulator.waitForTask();
    node('fill').receive({ payload: image, mask, topic: 'second' });
    await helper.setFlows(flow({ outputFormat: 'jpeg' }, { ...account(), maxConcurrent: 2 }), 'full', credentials);
    const outputs = await nextOutputs(2);
    const format = async (topic: string) =>
      (await sharp(outputs.find((msg) => msg.topic === topic)!.payload as Buffer).metadata()).format;
    assert.equal(await format('first'), 'png', 'the submitted job keeps the settings it was submitted with');
    assert.equal(await format('second'), 'jpeg', 'the queued one follows the new settings');
    assert.equal(emulator.requests.filter((r) => r.method === 'POST').length, 2);
  });

  it('runs against the built-in emulator region with no key and says so in the status', async () => {
    await load({ outputFormat: 'png' }, { region: 'emulator' }, {});
    const fill = node('fill');
    const shown = statusesUntil(fill, 'bfl-fill.status.doneEmulator');
    const output = nextOutput();
    fill.receive({ payload: image, mask });
    const msg = await output;
    assert.ok(Buffer.isBuffer(msg.payload));
    await shown;
    const local = await runningLocalEmulator();
    assert.ok(local, 'the emulator region started an emulator');
    assert.equal(local.tasks.size, 1);
    assert.equal(emulator.requests.length, 0);
  });
});

describe('bfl-config check-key endpoint', () => {
  let emulator: BflEmulator;
  before(async () => {
    emulator = await startEmulator();
    settings(FAST);
  });
  afterEach(() => helper.unload());
  after(() => emulator.close());

  it('answers the credits for a typed key without returning the key', async () => {
    await helper.load([configNode, fillNode], [], {});
    const response = await helper
      .request()
      .post('/bfl-config/check-key')
      .send({ region: 'custom', baseUrl: emulator.apiUrl, apiKey: TEST_KEY })
      .expect(200);
    assert.equal(response.body.credits, 1000);
    assert.doesNotMatch(JSON.stringify(response.body), new RegExp(TEST_KEY));
  });

  it('uses the deployed key when none is typed', async () => {
    await helper.load([configNode, fillNode], flow({}, { region: 'custom', baseUrl: emulator.apiUrl }), {
      cfg: { apiKey: TEST_KEY },
    });
    const response = await helper
      .request()
      .post('/bfl-config/check-key')
      .send({ id: 'cfg', region: 'custom', baseUrl: emulator.apiUrl, apiKey: '__PWRD__' })
      .expect(200);
    assert.equal(response.body.credits, 1000);
  });

  it('explains a refused key in plain words', async () => {
    await helper.load([configNode, fillNode], [], {});
    const response = await helper
      .request()
      .post('/bfl-config/check-key')
      .send({ region: 'custom', baseUrl: emulator.apiUrl, apiKey: 'bfl_wrong_key_123' })
      .expect(403);
    assert.equal(response.body.code, 'BFL_AUTH');
    assert.match(response.body.message, /refused the API key/);
    // The editor renders key and params in its own language.
    assert.equal(response.body.key, 'auth.refused');
    assert.equal(response.body.params.http.key, 'http.statusDetail');
    assert.equal(response.body.params.http.params.status, 403);
    assert.doesNotMatch(JSON.stringify(response.body), /bfl_wrong_key_123/);
  });
});
