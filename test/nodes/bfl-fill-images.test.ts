import assert from 'node:assert/strict';
import sharp from 'sharp';
import type { BflEmulator } from '../../lib/emulator';
import { TEST_KEY, gradientPng, startEmulator } from '../support/emulator';
import { configNode, fillNode, flow, helper, nextError, nextOutput, node, settings } from './flow';

const FAST = { bflConfigPollInterval: 10, bflConfigRetryDelay: 5 };

interface CommsEvent {
  topic: string;
  data: { dataUrl: string; width: number; height: number } | null;
}

/** The runtime's event bus, where RED.comms.publish lands in the test helper. */
function commsEvents(): {
  on(event: 'comms', listener: (event: CommsEvent) => void): void;
  off(event: 'comms', listener: (event: CommsEvent) => void): void;
} {
  return (helper as unknown as { _events: ReturnType<typeof commsEvents> })._events;
}

async function rawPixels(image: Buffer): Promise<Buffer> {
  return sharp(image).removeAlpha().raw().toBuffer();
}

describe('bfl-fill node: masks, paste-back, crop and preview', function () {
  let emulator: BflEmulator;
  let image: Buffer;
  const WIDTH = 64;
  const HEIGHT = 48;

  before(async () => {
    emulator = await startEmulator();
    image = await gradientPng(WIDTH, HEIGHT);
    settings(FAST);
  });
  beforeEach(() => emulator.reset());
  afterEach(() => helper.unload());
  after(async () => {
    settings({});
    await emulator.close();
  });

  const load = (fill: Record<string, unknown>) =>
    helper.load([configNode, fillNode], flow(fill, { region: 'custom', baseUrl: emulator.apiUrl }), {
      cfg: { apiKey: TEST_KEY },
    });
  const sentTask = () => [...emulator.tasks.values()][0]!;

  it('takes detector boxes in msg.mask and sends a black and white mask of the image size', async () => {
    await load({ outputFormat: 'png' });
    const output = nextOutput();
    node('fill').receive({
      payload: image,
      mask: [{ x_min: 10, y_min: 8, x_max: 30, y_max: 20, label: 'cat', score: 0.9 }],
    });
    await output;
    const { data, info } = await sharp(sentTask().mask!).greyscale().raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height], [WIDTH, HEIGHT]);
    assert.equal(data[12 * WIDTH + 20], 255, 'inside the box is filled');
    assert.equal(data[30 * WIDTH + 50], 0, 'outside the box is kept');
    assert.ok(
      data.every((v) => v === 0 || v === 255),
      'the mask is strictly black and white',
    );
  });

  it('keeps every pixel outside the mask identical to the input by default (PNG output)', async () => {
    await load({ outputFormat: 'png' });
    const output = nextOutput();
    node('fill').receive({
      payload: image,
      mask: { relative: true, shapes: [{ x: 0.25, y: 0.25, width: 0.25, height: 0.25 }] },
    });
    const msg = await output;
    const before = await rawPixels(image);
    const after = await rawPixels(msg.payload as Buffer);
    let changedInside = 0;
    for (let y = 0; y < HEIGHT; y += 1) {
      for (let x = 0; x < WIDTH; x += 1) {
        const inside = x >= 16 && x < 32 && y >= 12 && y < 24;
        const offset = (y * WIDTH + x) * 3;
        const same = before.subarray(offset, offset + 3).equals(after.subarray(offset, offset + 3));
        if (!inside) assert.ok(same, `pixel ${x},${y} outside the mask changed`);
        else if (!same) changedInside += 1;
      }
    }
    assert.ok(changedInside > 0, 'the masked area was filled');
  });

  it('returns the API image as it came with paste-back off', async () => {
    await load({ outputFormat: 'png', pasteBack: false });
    const output = nextOutput();
    node('fill').receive({ payload: image, mask: [[16, 12, 16, 12]] });
    const msg = await output;
    const download = emulator.requests.find((r) => r.origin === 'delivery')!;
    const direct = await fetch(`${emulator.deliveryUrl}${download.path}?${download.query}`);
    assert.ok(Buffer.from(await direct.arrayBuffer()).equals(msg.payload as Buffer));
  });

  it('crops to the mask: sends the surroundings only and answers at full size', async () => {
    const big = await gradientPng(1600, 1200);
    await load({ outputFormat: 'png', cropToMask: true, cropMargin: 16 });
    const output = nextOutput();
    node('fill').receive({ payload: big, mask: [{ x: 700, y: 500, width: 100, height: 80 }] });
    const msg = await output;
    const sent = sentTask();
    // The crop around the box is sent at about one megapixel, less than the 1.92 MP original.
    assert.ok(sent.width * sent.height <= 1.1e6, `sent ${sent.width}x${sent.height}`);
    assert.ok(sent.width % 32 === 0 && sent.height % 32 === 0, `sent ${sent.width}x${sent.height}`);
    const meta = await sharp(msg.payload as Buffer).metadata();
    assert.deepEqual([meta.width, meta.height], [1600, 1200]);
  });

  it('takes mask options per message through their TypedInputs', async () => {
    await load({ maskInvert: 'invert', maskInvertType: 'msg', maskGrow: 'grow', maskGrowType: 'msg' });
    const output = nextOutput();
    node('fill').receive({ payload: image, mask: [{ x: 20, y: 20, width: 10, height: 10 }], invert: true, grow: 2 });
    await output;
    const data = await sharp(sentTask().mask!).greyscale().raw().toBuffer();
    assert.equal(data[25 * WIDTH + 25], 0, 'the middle of the box is kept once inverted');
    assert.equal(data[25 * WIDTH + 21], 255, 'the grown fill area reaches into the box');
    assert.equal(data[5 * WIDTH + 5], 255, 'the rest is filled');
  });

  it('names the shape and the field of a bad shape, and submits nothing', async () => {
    await load({});
    const caught = nextError();
    node('fill').receive({
      payload: image,
      mask: [
        { x: 1, y: 1, width: 5, height: 5 },
        { x: 1, y: 1, width: -5, height: 5 },
      ],
    });
    const { error } = await caught;
    assert.equal(error.code, 'BFL_INVALID_INPUT');
    assert.match(error.message, /msg\.mask\[1\]/);
    assert.match(error.message, /width/);
    assert.equal(emulator.requests.length, 0);
  });

  it('fills the shapes drawn on the node when msg.mask is absent, and msg.mask when it is given', async () => {
    // A quarter of the width from the left, the top half: pixels 0..16 × 0..24.
    await load({ outputFormat: 'png', maskShapes: [{ x: 0, y: 0, width: 0.25, height: 0.5 }] });
    let output = nextOutput();
    node('fill').receive({ payload: image });
    await output;
    const drawn = await sharp(sentTask().mask!).greyscale().raw().toBuffer();
    assert.equal(drawn[23 * WIDTH + 15], 255, 'inside the drawn rectangle is filled');
    assert.equal(drawn[24 * WIDTH + 16], 0, 'outside it is kept');
    emulator.reset();
    output = nextOutput();
    node('fill').receive({ payload: image, mask: [{ x: 40, y: 30, width: 10, height: 10 }] });
    await output;
    const given = await sharp(sentTask().mask!).greyscale().raw().toBuffer();
    assert.deepEqual([given[5 * WIDTH + 5], given[35 * WIDTH + 45]], [0, 255], 'msg.mask wins');
  });

  it('publishes a small preview with the mask outline when preview is on, and clears it on close', async () => {
    await load({ preview: true });
    const seen: CommsEvent[] = [];
    const events = commsEvents();
    let gotPreview: () => void = () => undefined;
    const published = new Promise<void>((resolve) => (gotPreview = resolve));
    const listener = (event: CommsEvent) => {
      if (!event.topic.startsWith('bfl-fill/preview/')) return;
      seen.push(event);
      if (event.data) gotPreview();
    };
    events.on('comms', listener);
    try {
      node('fill').receive({ payload: image, mask: [{ x: 10, y: 10, width: 20, height: 20 }] });
      await published;
      const preview = seen[0]!;
      assert.equal(preview.topic, 'bfl-fill/preview/fill');
      assert.match(preview.data!.dataUrl, /^data:image\/jpeg;base64,/);
      assert.deepEqual([preview.data!.width, preview.data!.height], [WIDTH, HEIGHT]);
      await helper.clearFlows();
      assert.deepEqual(seen.at(-1), { topic: 'bfl-fill/preview/fill', data: null, retain: false });
    } finally {
      events.off('comms', listener);
    }
  });

  it('keeps the last preview and input for editors opened later, until the node is gone', async () => {
    await load({ preview: true });
    const published = new Promise<void>((resolve) => {
      const listener = (event: CommsEvent) => {
        if (event.topic !== 'bfl-fill/preview/fill' || !event.data) return;
        commsEvents().off('comms', listener);
        resolve();
      };
      commsEvents().on('comms', listener);
    });
    node('fill').receive({ payload: image, mask: [{ x: 10, y: 10, width: 20, height: 20 }] });
    await published;
    const previews = await helper.request().get('/bfl-fill/previews').expect(200);
    assert.match((previews.body as Record<string, { dataUrl: string }>).fill!.dataUrl, /^data:image\/jpeg;base64,/);
    const input = await helper.request().get('/bfl-fill/fill/input').expect(200);
    const dataUrl = (input.body as { dataUrl: string }).dataUrl;
    assert.match(dataUrl, /^data:image\/jpeg;base64,/);
    const jpeg = Buffer.from(dataUrl.split(',')[1]!, 'base64');
    const { width, height, format } = await sharp(jpeg).metadata();
    assert.deepEqual([format, width, height], ['jpeg', WIDTH, HEIGHT]);
    await helper.request().get('/bfl-fill/other/input').expect(404);

    await helper.clearFlows();
    assert.deepEqual((await helper.request().get('/bfl-fill/previews').expect(200)).body, {});
  });

  it('publishes no preview when preview is off', async () => {
    await load({});
    const seen: CommsEvent[] = [];
    const listener = (event: CommsEvent) => {
      if (event.topic.startsWith('bfl-fill/preview/')) seen.push(event);
    };
    commsEvents().on('comms', listener);
    try {
      const output = nextOutput();
      node('fill').receive({ payload: image, mask: [{ x: 10, y: 10, width: 20, height: 20 }] });
      await output;
      await helper.clearFlows();
      assert.equal(seen.length, 0);
    } finally {
      commsEvents().off('comms', listener);
    }
  });
});
