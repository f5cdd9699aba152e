import assert from 'node:assert/strict';
import fc from 'fast-check';
import { wholeImage } from '../../lib/image/geometry';
import {
  loadRegion,
  regionFromPlane,
  regionPlane,
  regionToPng,
  resampleMask,
  storeRegion,
} from '../../lib/image/region';
import type { MaskRegion } from '../../lib/image/types';
import { countFilled, decodeMask, planeFrom } from './fixtures';

async function region(width: number, height: number, fill: (x: number, y: number) => boolean): Promise<MaskRegion> {
  const made = await regionFromPlane(planeFrom(width, height, fill), wholeImage(width, height), width, height);
  assert.ok(made, 'the test mask fills something');
  return made;
}

const at = (plane: Buffer, width: number, x: number, y: number): number => plane[y * width + x]!;

describe('image/region: masks as a box and its pixels', () => {
  it('keeps only the box around the filled pixels', async () => {
    const r = await region(40, 30, (x, y) => (x === 7 && y === 10) || (x === 30 && y === 20));
    assert.deepEqual(r.box, { left: 7, top: 10, width: 24, height: 11 });
    assert.equal(r.data.length, 24 * 11);
    assert.equal(countFilled(r.data), 2);
    const png = await decodeMask(await regionToPng(r));
    assert.equal(png.width, 40);
    assert.deepEqual(
      png.data,
      planeFrom(40, 30, (x, y) => (x === 7 && y === 10) || (x === 30 && y === 20)),
    );
  });

  it('finds the same box and pixels as a look at every pixel, for any plane at any place', async () => {
    const plane = fc
      .record({ width: fc.integer({ min: 1, max: 24 }), height: fc.integer({ min: 1, max: 18 }) })
      .chain(({ width, height }) =>
        fc.record({
          width: fc.constant(width),
          height: fc.constant(height),
          pixels: fc.uint8Array({ minLength: width * height, maxLength: width * height }),
          density: fc.integer({ min: 1, max: 255 }),
          left: fc.integer({ min: 0, max: 30 }),
          top: fc.integer({ min: 0, max: 30 }),
        }),
      );
    await fc.assert(
      fc.asyncProperty(plane, async ({ width, height, pixels, density, left, top }) => {
        // Sparse, dense and empty planes alike: a pixel is filled when its random byte is under `density`.
        const data = Buffer.from(pixels.map((v) => (v < density ? 255 : 0)));
        let box: { left: number; top: number; right: number; bottom: number } | undefined;
        for (let y = 0; y < height; y += 1) {
          for (let x = 0; x < width; x += 1) {
            if (data[y * width + x] !== 255) continue;
            box = box
              ? { left: Math.min(box.left, x), top: Math.min(box.top, y), right: Math.max(box.right, x), bottom: y }
              : { left: x, top: y, right: x, bottom: y };
          }
        }
        const made = await regionFromPlane(data, { left, top, width, height }, left + width + 5, top + height + 5);
        if (!box) return assert.equal(made, undefined);
        const boxWidth = box.right - box.left + 1;
        assert.deepEqual(made?.box, {
          left: left + box.left,
          top: top + box.top,
          width: boxWidth,
          height: box.bottom - box.top + 1,
        });
        const expected = Buffer.alloc(boxWidth * made.box.height);
        for (let y = 0; y < made.box.height; y += 1) {
          data.copy(expected, y * boxWidth, (box.top + y) * width + box.left, (box.top + y) * width + box.right + 1);
        }
        assert.deepEqual(made.data, expected);
      }),
      { seed: 0x5eed, numRuns: 300 },
    );
  });

  it('is undefined for an empty plane, and cuts planes under 3×3 to their filled pixels too', async () => {
    assert.equal(await regionFromPlane(Buffer.alloc(12), wholeImage(4, 3), 4, 3), undefined);
    const tiny = await regionFromPlane(Buffer.from([0, 255]), { left: 5, top: 6, width: 2, height: 1 }, 10, 10);
    assert.deepEqual(tiny?.box, { left: 6, top: 6, width: 1, height: 1 });
    assert.deepEqual(tiny.data, Buffer.from([255]));
  });

  it('cuts any box out of a region, padding with keep', async () => {
    const r = await region(20, 20, (x, y) => x >= 5 && x < 10 && y >= 5 && y < 10);
    const cut = await regionPlane(r, { left: 8, top: 0, width: 10, height: 7 });
    assert.deepEqual(
      cut,
      planeFrom(10, 7, (x, y) => x + 8 < 10 && y >= 5),
    );
    assert.deepEqual(await regionPlane(r, { left: 12, top: 12, width: 3, height: 3 }), Buffer.alloc(9));
  });

  it('stores as a PNG of its box and loads back', async () => {
    const r = await region(50, 40, (x, y) => (x - 25) ** 2 + (y - 20) ** 2 < 80);
    const stored = await storeRegion(r);
    assert.deepEqual(await loadRegion(stored), r);
  });

  it('resamples black and white: "any" keeps every filled pixel covered, also over big shrinks', async () => {
    for (const [x, y] of [
      [0, 0],
      [377, 211],
      [999, 799],
      [512, 3],
    ] as Array<[number, number]>) {
      const plane = planeFrom(1000, 800, (px, py) => px === x && py === y);
      for (const to of [
        { width: 333, height: 267 },
        { width: 40, height: 32 },
        { width: 7, height: 5 },
      ]) {
        const small = await resampleMask(plane, { width: 1000, height: 800 }, to, 'any');
        assert.ok(
          small.every((v) => v === 0 || v === 255),
          'black and white',
        );
        const sx = Math.floor((x * to.width) / 1000);
        const sy = Math.floor((y * to.height) / 800);
        assert.equal(at(small, to.width, sx, sy), 255, `pixel ${x},${y} at ${to.width}×${to.height}`);
        assert.ok(countFilled(small) <= 9, 'and not much more');
      }
    }
  });
});
