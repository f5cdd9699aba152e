import assert from 'node:assert/strict';
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

  it('is undefined for an empty plane, and handles planes under 3×3', async () => {
    assert.equal(await regionFromPlane(Buffer.alloc(12), wholeImage(4, 3), 4, 3), undefined);
    const tiny = await regionFromPlane(Buffer.from([0, 255]), { left: 5, top: 6, width: 2, height: 1 }, 10, 10);
    assert.deepEqual(tiny?.box, { left: 5, top: 6, width: 2, height: 1 });
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
