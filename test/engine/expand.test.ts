/** The expand road against the emulator over HTTP: the size asked for, the original untouched, nothing sent for bad sides. */
import assert from 'node:assert/strict';
import sharp from 'sharp';
import type { BflEmulator } from '../../lib/emulator';
import { expand } from '../../lib/engine/expand';
import type { FillService } from '../../lib/engine/service';
import { fastService, gradientPng, startEmulator } from '../support/emulator';

async function rawRgb(image: Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** The pixels of `box` in a raw RGB image. */
function cut(
  image: { data: Buffer; width: number },
  box: { left: number; top: number; width: number; height: number },
) {
  const rows: Buffer[] = [];
  for (let y = box.top; y < box.top + box.height; y += 1) {
    const start = (y * image.width + box.left) * 3;
    rows.push(image.data.subarray(start, start + box.width * 3));
  }
  return Buffer.concat(rows);
}

describe('expand (outpainting)', () => {
  let emulator: BflEmulator;
  let service: FillService;
  let image: Buffer;
  const signal = new AbortController().signal;

  before(async () => {
    image = await gradientPng(256, 256);
  });
  beforeEach(async () => {
    emulator = await startEmulator();
    service = fastService(emulator);
  });
  afterEach(async () => {
    await service.close();
    await emulator.close();
  });

  const run = (inputs: Record<string, unknown>, fallbacks: Record<string, unknown> = {}) =>
    expand(service, { inputs: { outputFormat: 'png', ...inputs }, fallbacks, image }, signal);

  it('submits the sides to flux-pro-1.0-expand and gives the original, untouched, inside the expanded picture', async () => {
    const result = await run({ top: 10, bottom: 20, left: 30, right: 40, prompt: 'a meadow' });
    const out = await rawRgb(result.image);
    assert.deepEqual([out.width, out.height], [256 + 30 + 40, 256 + 10 + 20]);
    const original = await rawRgb(image);
    assert.ok(cut(out, { left: 30, top: 10, width: 256, height: 256 }).equals(original.data));
    const [task] = [...emulator.tasks.values()];
    assert.equal(task!.model, 'expand');
    assert.equal(emulator.requests.find((r) => r.method === 'POST')!.path, '/v1/flux-pro-1.0-expand');
    assert.deepEqual(
      [task!.body.top, task!.body.bottom, task!.body.left, task!.body.right, task!.body.mask],
      [10, 20, 30, 40, undefined],
    );
    assert.equal(result.metadata.cost, 5);
  });

  it('makes the aspect ratio asked for, the original at its anchor', async () => {
    const result = await run({ aspectRatio: '16:9', anchor: 'left' });
    const meta = await sharp(result.image).metadata();
    assert.deepEqual([meta.width, meta.height], [455, 256]);
    const body = [...emulator.tasks.values()][0]!.body;
    assert.deepEqual([body.left, body.right, body.top, body.bottom], [0, 199, 0, 0]);
  });

  it('takes msg.expand in place of the node sides', async () => {
    const result = await run({ left: 500, aspectRatio: '1:1' }, { expand: { bottom: 64 } });
    const meta = await sharp(result.image).metadata();
    assert.deepEqual([meta.width, meta.height], [256, 320]);
  });

  it('scales the result back to the size asked for when the API answers another size', async () => {
    await service.close();
    await emulator.close();
    emulator = await startEmulator({ outputSizeStep: 32 });
    service = fastService(emulator);
    const result = await run({ right: 50 });
    assert.deepEqual([emulator.tasks.values().next().value!.resultWidth], [288]);
    const out = await rawRgb(result.image);
    assert.deepEqual([out.width, out.height], [306, 256]);
    assert.ok(cut(out, { left: 0, top: 0, width: 256, height: 256 }).equals((await rawRgb(image)).data));
  });

  it('without paste-back gives the API picture as it came', async () => {
    const result = await run({ top: 32, pasteBack: false });
    const meta = await sharp(result.image).metadata();
    assert.deepEqual([meta.width, meta.height], [256, 288]);
  });

  it('with a soft seam keeps the original exact away from the edges that meet new area', async () => {
    const result = await run({ left: 64, seamFeather: 16 });
    const out = await rawRgb(result.image);
    const original = await rawRgb(image);
    const inner = { left: 64 + 48, top: 0, width: 256 - 48, height: 256 };
    assert.ok(cut(out, inner).equals(cut(original, { ...inner, left: 48 })));
  });

  for (const [name, inputs, pattern] of [
    ['no side', {}, /Nothing to expand/],
    ['a side over 2048', { left: 2049 }, /Left must be a whole number from 0 to 2048/],
    ['a ratio over 2048 pixels a side', { aspectRatio: '10:1', anchor: 'left' }, /at most 2048 per side/],
    ['a ratio that is no ratio', { aspectRatio: 'wide' }, /Aspect ratio must be a ratio such as 16:9/],
    ['msg.expand that is not an object', { expand: 5 }, /msg.expand must be an object/],
  ] as const) {
    it(`refuses ${name} with BFL_INVALID_INPUT and submits nothing`, async () => {
      const { expand: fromMsg, ...node } = inputs as Record<string, unknown>;
      await assert.rejects(
        run(node, fromMsg === undefined ? {} : { expand: fromMsg }),
        (error: Error & { code?: string }) => {
          assert.equal(error.code, 'BFL_INVALID_INPUT');
          assert.match(error.message, pattern);
          assert.match(error.message, /Nothing was submitted/);
          return true;
        },
      );
      assert.equal(emulator.requests.length, 0);
    });
  }

  it('refuses an image under 256 pixels a side, as BFL does, and submits nothing', async () => {
    const small = await gradientPng(200, 300);
    await assert.rejects(
      expand(service, { inputs: { top: 8 }, fallbacks: {}, image: small }, signal),
      /at least 256 pixels/,
    );
    assert.equal(emulator.requests.length, 0);
  });
});
