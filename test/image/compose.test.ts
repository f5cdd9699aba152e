import assert from 'node:assert/strict';
import sharp from 'sharp';
import { isBflError } from '../../lib/errors';
import type { FillParameters } from '../../lib/api/types';
import type { BflEmulator } from '../../lib/emulator';
import { composeResult, geometryMaskPng } from '../../lib/image';
import { fastService, startEmulator } from '../support/emulator';
import {
  RED,
  channelDifference,
  decodeMask,
  differingPixels,
  flat,
  fromRgba,
  photo,
  photoPng,
  pixel,
  plan,
  rgbaPixels,
  rgbOf,
  type Decoded,
} from './fixtures';

const W = 160;
const H = 120;
const SHAPES = [
  { x: 20, y: 30, width: 40, height: 25 },
  { cx: 110, cy: 70, rx: 25, ry: 18 },
];

/** The final mask at full size, as a predicate. */
async function maskTest(png: Buffer): Promise<(x: number, y: number) => boolean> {
  const plane = await decodeMask(png);
  return (x, y) => plane.data[y * plane.width + x] !== 0;
}

function isRed([r, g, b]: number[], tolerance = 0): boolean {
  return r! >= 255 - tolerance && g! <= tolerance && b! <= tolerance;
}

/** Every pixel the mask fills (minus a border of `inset` pixels) is red; returns how many were checked. */
function assertRedInside(image: Decoded, inside: (x: number, y: number) => boolean, inset = 0, tolerance = 0): number {
  let checked = 0;
  for (let y = inset; y < image.height - inset; y += 1) {
    for (let x = inset; x < image.width - inset; x += 1) {
      let deep = true;
      for (let dy = -inset; dy <= inset && deep; dy += 1) {
        for (let dx = -inset; dx <= inset && deep; dx += 1) deep = inside(x + dx, y + dy);
      }
      if (!deep) continue;
      assert.ok(isRed(pixel(image, x, y), tolerance), `red at ${x},${y}: ${pixel(image, x, y).join(',')}`);
      checked += 1;
    }
  }
  return checked;
}

describe('image/compose: composeResult', () => {
  describe('paste-back on', () => {
    it("PNG: every pixel outside the mask is the input's, bit for bit; inside, the generated one", async () => {
      const input = await photoPng(W, H);
      const { geometry } = await plan(input, SHAPES);
      const result = await composeResult(await flat(W, H, RED), geometry, { outputFormat: 'png' });
      assert.equal((await sharp(result).metadata()).format, 'png');
      const inside = await maskTest(await geometryMaskPng(geometry));
      const [out, original] = await Promise.all([rgbOf(result), rgbOf(input)]);
      assert.deepEqual([out.width, out.height], [W, H]);
      assert.equal(
        differingPixels(out, original, (x, y) => !inside(x, y)),
        0,
      );
      assert.ok(assertRedInside(out, inside) > 2000);
    });

    it('feathers inward: still exact outside, a blend near the edge, generated deep inside', async () => {
      const input = await photoPng(W, H);
      const { geometry } = await plan(input, SHAPES, { maskGrow: 4, maskFeather: 6 });
      const result = await composeResult(await flat(W, H, RED), geometry, { outputFormat: 'png' });
      const inside = await maskTest(await geometryMaskPng(geometry));
      const [out, original] = await Promise.all([rgbOf(result), rgbOf(input)]);
      assert.equal(
        differingPixels(out, original, (x, y) => !inside(x, y)),
        0,
      );
      assert.ok(assertRedInside(out, inside, 12) > 300, 'red 12 px inside the edge');
      const edge = pixel(out, 16, 40);
      assert.ok(inside(16, 40) && !isRed(edge, 10), `a blend at the grown edge: ${edge.join(',')}`);
      assert.ok(!inside(15, 40), 'the mask grew by 4');
    });

    it('JPEG: exact before encoding, so close everywhere outside the mask', async () => {
      const input = await photo(W, H).jpeg({ quality: 92 }).toBuffer();
      const { geometry } = await plan(input, SHAPES);
      const result = await composeResult(await flat(W, H, RED, 'jpeg'), geometry, { outputFormat: 'jpeg' });
      assert.equal((await sharp(result).metadata()).format, 'jpeg');
      const inside = await maskTest(await geometryMaskPng(geometry));
      const [out, original] = await Promise.all([rgbOf(result), rgbOf(input)]);
      const outside = channelDifference(out, original, (x, y) => !inside(x, y));
      assert.ok(outside.mean < 2.5, `mean difference outside ${outside.mean.toFixed(2)}`);
      assert.ok(assertRedInside(out, inside, 3, 24) > 1500);
    });

    it('WebP: lossy (quality 90), close to the original outside the mask', async () => {
      const input = await photoPng(W, H);
      const { geometry } = await plan(input, SHAPES);
      const generated = await flat(W, H, RED, 'webp');
      const inside = await maskTest(await geometryMaskPng(geometry));
      const original = await rgbOf(input);
      const lossy = await composeResult(generated, geometry, { outputFormat: 'webp' });
      assert.equal((await sharp(lossy).metadata()).format, 'webp');
      const outside = channelDifference(await rgbOf(lossy), original, (x, y) => !inside(x, y));
      assert.ok(outside.mean < 8, `mean difference outside ${outside.mean.toFixed(2)}`);
    });

    it('scales a result of another size to the size sent', async () => {
      const input = await photoPng(W, H);
      const { geometry } = await plan(input, SHAPES);
      const inside = await maskTest(await geometryMaskPng(geometry));
      const original = await rgbOf(input);
      for (const [width, height] of [
        [W / 2, H / 2],
        [W * 2, H * 2],
        [W + 7, H - 5],
      ] as Array<[number, number]>) {
        const out = await rgbOf(await composeResult(await flat(width, height, RED), geometry, { outputFormat: 'png' }));
        assert.deepEqual([out.width, out.height], [W, H]);
        assert.equal(
          differingPixels(out, original, (x, y) => !inside(x, y)),
          0,
          `from ${width}×${height}`,
        );
        assert.ok(assertRedInside(out, inside) > 2000);
      }
    });

    it('composes in upright pixels for an EXIF-rotated input', async () => {
      const stored = await photo(H, W).jpeg({ quality: 92 }).withMetadata({ orientation: 6 }).toBuffer();
      const { geometry, images } = await plan(stored, SHAPES);
      assert.deepEqual([images.width, images.height], [W, H], 'sent upright');
      const result = await composeResult(await flat(W, H, RED), geometry, { outputFormat: 'png' });
      const inside = await maskTest(await geometryMaskPng(geometry));
      const [out, original] = await Promise.all([rgbOf(result), rgbOf(stored)]);
      assert.deepEqual([out.width, out.height], [W, H]);
      assert.equal(
        differingPixels(out, original, (x, y) => !inside(x, y)),
        0,
      );
      assert.equal((await sharp(result).metadata()).orientation, undefined, 'no orientation to apply twice');
    });

    it('keeps the colours of an input with an alpha mask, and drops the alpha', async () => {
      const rgba = await fromRgba(
        rgbaPixels(
          W,
          H,
          (x, y) => [(x * 7) % 256, (y * 5) % 256, (x * y) % 256],
          (x, y) => (x >= 40 && x < 90 && y >= 30 && y < 70 ? 0 : x < 10 ? 200 : 255),
        ),
        W,
        H,
      )
        .png()
        .toBuffer();
      const { geometry } = await plan(rgba, undefined);
      const result = await composeResult(await flat(W, H, RED), geometry, { outputFormat: 'png' });
      assert.equal((await sharp(result).metadata()).hasAlpha, false);
      const out = await rgbOf(result);
      const original = await rgbOf(rgba);
      const inside = (x: number, y: number) => x >= 40 && x < 90 && y >= 30 && y < 70;
      assert.equal(
        differingPixels(out, original, (x, y) => !inside(x, y)),
        0,
        'half-transparent pixels too',
      );
      assert.equal(assertRedInside(out, inside), 50 * 40);
    });
  });

  describe('paste-back off', () => {
    it('returns the API image as it came when nothing was cropped or scaled', async () => {
      const { geometry } = await plan(await photoPng(W, H), SHAPES, { pasteBack: false });
      const generated = await flat(W / 2, H / 2, RED, 'webp');
      assert.equal(await composeResult(generated, geometry, { outputFormat: 'png' }), generated);
    });

    it('with a crop, replaces the crop box and keeps the rest', async () => {
      const width = 1600;
      const height = 1200;
      const input = await photoPng(width, height);
      const { geometry, images } = await plan(input, [{ x: 700, y: 500, width: 100, height: 80 }], {
        pasteBack: false,
        cropToMask: true,
      });
      const result = await composeResult(await flat(images.width, images.height, RED), geometry, {
        outputFormat: 'png',
      });
      const [out, original] = await Promise.all([rgbOf(result), rgbOf(input)]);
      const { left, top, width: cw, height: ch } = geometry.crop;
      const inCrop = (x: number, y: number) => x >= left && x < left + cw && y >= top && y < top + ch;
      assert.equal(
        differingPixels(out, original, (x, y) => !inCrop(x, y)),
        0,
      );
      assert.equal(assertRedInside(out, inCrop), cw * ch);
    });
  });

  describe('crop and stitch, megapixel cap', () => {
    it('stitches a crop back: full size, the original outside the mask', async () => {
      const width = 1600;
      const height = 1200;
      const input = await photoPng(width, height);
      const shapes = [{ cx: 900, cy: 640, rx: 60, ry: 40 }];
      const { geometry, images } = await plan(input, shapes, { cropToMask: true, maskFeather: 3 });
      assert.ok(images.width * images.height < 1.1 * 1024 * 1024);
      assert.ok(geometry.crop.width < width / 2, 'a crop');
      const result = await composeResult(await flat(images.width, images.height, RED), geometry, {
        outputFormat: 'png',
      });
      const inside = await maskTest(await geometryMaskPng(geometry));
      const [out, original] = await Promise.all([rgbOf(result), rgbOf(input)]);
      assert.deepEqual([out.width, out.height], [width, height]);
      assert.equal(
        differingPixels(out, original, (x, y) => !inside(x, y)),
        0,
      );
      assert.ok(assertRedInside(out, inside, 6) > 5000);
    });

    it('scales the generated area back up under a megapixel cap', async () => {
      const width = 2400;
      const height = 1800;
      const input = await photoPng(width, height);
      const { geometry, images } = await plan(input, SHAPES, { maxMegapixels: 1 });
      assert.ok(images.width * images.height <= 1_000_000);
      const result = await composeResult(await flat(images.width, images.height, RED), geometry, {
        outputFormat: 'png',
      });
      const inside = await maskTest(await geometryMaskPng(geometry));
      const [out, original] = await Promise.all([rgbOf(result), rgbOf(input)]);
      assert.deepEqual([out.width, out.height], [width, height]);
      assert.equal(
        differingPixels(out, original, (x, y) => !inside(x, y)),
        0,
      );
      assert.ok(assertRedInside(out, inside) > 2000);
    });
  });

  it('reports an undecodable result as BFL_DOWNLOAD naming the task', async () => {
    const { geometry } = await plan(await photoPng(W, H), SHAPES);
    await assert.rejects(
      composeResult(Buffer.from('<html>oops</html>'), geometry, { outputFormat: 'png', taskId: 't-1' }),
      (err: unknown) => {
        assert.ok(isBflError(err));
        assert.equal(err.code, 'BFL_DOWNLOAD');
        assert.match(
          err.message,
          /^Task t-1 finished but its image could not be downloaded \(the generated image could not be decoded: /,
        );
        return true;
      },
    );
  });

  describe('a 12 MP camera snapshot with a detector box, through the emulator', function () {
    this.timeout(60_000);
    const width = 4000;
    const height = 3000;
    const box = { x_min: 2300, y_min: 1400, x_max: 2520, y_max: 1700, label: 'person', confidence: 0.91 };
    let emulator: BflEmulator;
    let snapshot: Buffer;

    before(async () => {
      emulator = await startEmulator();
      snapshot = await photo(width, height).jpeg({ quality: 90 }).toBuffer();
    });
    after(() => emulator.close());

    const parameters: FillParameters = {
      prompt: 'an empty garden path',
      steps: 50,
      guidance: 60,
      seed: 7,
      outputFormat: 'png',
      safetyTolerance: 2,
      promptUpsampling: false,
    };

    it('uploads a small crop, and comes back full size with every other pixel untouched', async () => {
      const asIs = await plan(snapshot, [box], { maxMegapixels: 0 });
      const capped = await plan(snapshot, [box]);
      const cropped = await plan(snapshot, [box], { cropToMask: true });
      const bytes = (p: typeof asIs) => p.images.image.length + p.images.mask.length;
      assert.equal(asIs.images.image, snapshot, 'without a cap the snapshot goes as it is');
      assert.ok(bytes(cropped) * 10 < bytes(asIs), `crop ${bytes(cropped)} bytes, whole ${bytes(asIs)} bytes`);
      assert.ok(bytes(cropped) * 3 < bytes(capped), `crop ${bytes(cropped)} bytes, 4 MP ${bytes(capped)} bytes`);

      const service = fastService(emulator);
      try {
        const { image: generated, metadata } = await service.run(
          { parameters, images: cropped.images, timeoutMs: 20_000 },
          new AbortController().signal,
        );
        const result = await composeResult(generated, cropped.geometry, { outputFormat: 'png', taskId: metadata.id });
        const [out, original] = await Promise.all([rgbOf(result), rgbOf(snapshot)]);
        assert.deepEqual([out.width, out.height], [width, height]);
        const inside = (x: number, y: number) => x >= 2300 && x < 2520 && y >= 1400 && y < 1700;
        assert.equal(
          differingPixels(out, original, (x, y) => !inside(x, y)),
          0,
          'untouched outside the box',
        );
        const changed = differingPixels(out, original, inside);
        assert.ok(changed > 0.9 * 220 * 300, `the emulator's fill is inside the box (${changed} pixels changed)`);
      } finally {
        await service.close();
      }
    });
  });
});
