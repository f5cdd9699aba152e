import assert from 'node:assert/strict';
import { wholeImage } from '../../lib/image/box';
import { featherMask, growMask, invertMask } from '../../lib/image/mask-ops';
import {
  loadRegion,
  regionFromPlane,
  regionPlane,
  regionToPng,
  resampleMask,
  storeRegion,
  type MaskRegion,
} from '../../lib/image/mask-region';
import { countFilled, fullPlane, planeFrom, planeOf } from './geometry-fixtures';

async function region(width: number, height: number, fill: (x: number, y: number) => boolean): Promise<MaskRegion> {
  const made = await regionFromPlane(planeFrom(width, height, fill), wholeImage(width, height), width, height);
  assert.ok(made, 'the test mask fills something');
  return made;
}

const at = (plane: Buffer, width: number, x: number, y: number): number => plane[y * width + x]!;

/** How far the filled area reaches from (cx, cy) in direction (dx, dy), in pixels along that direction. */
function reach(plane: Buffer, width: number, height: number, cx: number, cy: number, dx: number, dy: number): number {
  let steps = 0;
  for (;;) {
    const x = cx + (steps + 1) * dx;
    const y = cy + (steps + 1) * dy;
    if (x < 0 || y < 0 || x >= width || y >= height || at(plane, width, x, y) === 0) break;
    steps += 1;
  }
  return steps * Math.hypot(dx, dy);
}

describe('image/mask-region and mask-ops: masks as boxes, invert, grow, feather', () => {
  describe('regions', () => {
    it('keeps only the box around the filled pixels', async () => {
      const r = await region(40, 30, (x, y) => (x === 7 && y === 10) || (x === 30 && y === 20));
      assert.deepEqual(r.box, { left: 7, top: 10, width: 24, height: 11 });
      assert.equal(r.data.length, 24 * 11);
      assert.equal(countFilled(r.data), 2);
      const png = await planeOf(await regionToPng(r));
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

  describe('invert', () => {
    it('swaps fill and keep over the whole image', async () => {
      const r = await region(40, 30, (x, y) => x >= 10 && x < 20 && y >= 5 && y < 25);
      const inverse = await invertMask(r, 40, 30);
      assert.ok(inverse);
      assert.deepEqual(inverse.box, wholeImage(40, 30));
      assert.deepEqual(
        fullPlane(inverse),
        planeFrom(40, 30, (x, y) => !(x >= 10 && x < 20 && y >= 5 && y < 25)),
      );
    });

    it('cuts the inverse to its box, and gives nothing for a full mask, everything for none', async () => {
      const leftHalf = await region(40, 30, (x) => x < 20);
      const inverse = await invertMask(leftHalf, 40, 30);
      assert.deepEqual(inverse?.box, { left: 20, top: 0, width: 20, height: 30 });
      assert.equal(await invertMask(await region(8, 6, () => true), 8, 6), undefined);
      const everything = await invertMask(undefined, 8, 6);
      assert.deepEqual(everything?.box, wholeImage(8, 6));
      assert.equal(countFilled(everything!.data), 48);
    });
  });

  describe('grow', () => {
    it('grows a point into a disc of the given radius', async () => {
      const size = 121;
      const c = 60;
      const grown = await growMask(await region(size, size, (x, y) => x === c && y === c), 20);
      const plane = fullPlane(grown);
      for (const [dx, dy] of [
        [1, 0],
        [-1, 0],
        [0, 1],
        [0, -1],
      ] as Array<[number, number]>) {
        assert.equal(reach(plane, size, size, c, c, dx, dy), 20, `along ${dx},${dy}`);
      }
      for (const [dx, dy] of [
        [1, 1],
        [-1, 1],
        [1, -1],
        [-1, -1],
        [2, 1],
        [1, -2],
      ] as Array<[number, number]>) {
        const r = reach(plane, size, size, c, c, dx, dy);
        assert.ok(r >= 18 && r <= 22, `reach ${r.toFixed(1)} along ${dx},${dy}`);
      }
      const area = countFilled(grown.data);
      assert.ok(
        Math.abs(area - Math.PI * 400) < Math.PI * 400 * 0.08,
        `area ${area}, a disc has ${Math.round(Math.PI * 400)}`,
      );
      assert.deepEqual(grown.box, { left: 40, top: 40, width: 41, height: 41 });
    });

    it('moves a straight edge by exactly the growth', async () => {
      for (const by of [1, 2, 3, 7, 10]) {
        const grown = await growMask(await region(60, 20, (x) => x < 20), by);
        assert.deepEqual(grown.box, { left: 0, top: 0, width: 20 + by, height: 20 }, `grow ${by}`);
        assert.equal(countFilled(grown.data), (20 + by) * 20);
      }
    });

    it('stays inside the image', async () => {
      const grown = await growMask(await region(30, 30, (x, y) => x < 2 && y < 2), 10);
      assert.deepEqual(grown.box, { left: 0, top: 0, width: 12, height: 12 });
    });

    it('grows far, or over a big area, on a smaller copy: still about a disc, never losing a pixel', async () => {
      const size = 401;
      const c = 200;
      const point = await region(size, size, (x, y) => x === c && y === c);
      const grown = await growMask(point, 100);
      const plane = fullPlane(grown);
      for (const [dx, dy] of [
        [1, 0],
        [0, -1],
        [1, 1],
        [-2, 1],
      ] as Array<[number, number]>) {
        const r = reach(plane, size, size, c, c, dx, dy);
        assert.ok(r >= 95 && r <= 110, `reach ${r.toFixed(1)} along ${dx},${dy}`);
      }
      const area = countFilled(grown.data);
      assert.ok(Math.abs(area - Math.PI * 1e4) < Math.PI * 1e4 * 0.1, `area ${area}`);

      const width = 1400;
      const height = 900;
      const scattered = (x: number, y: number) => (x % 97 === 0 && y % 89 === 0) || (y === 450 && x > 100 && x < 1300);
      const big = await growMask(await region(width, height, scattered), 6);
      const bigPlane = fullPlane(big);
      const original = planeFrom(width, height, scattered);
      original.forEach((value, index) => {
        if (value) assert.equal(bigPlane[index], 255, `pixel ${index % width},${Math.floor(index / width)} kept`);
      });
      const r = reach(bigPlane, width, height, 700, 450, 0, 1);
      assert.ok(r >= 4 && r <= 9, `a line grows by about 6: ${r}`);
    });
  });

  describe('feather', () => {
    it('ramps inward from the edge, is 0 outside and 255 deep inside', async () => {
      const width = 200;
      const r = await region(width, 40, (x) => x >= 100);
      const alpha = await featherMask(r, 10);
      assert.equal(alpha.length, r.data.length);
      const row = Array.from({ length: 100 }, (_, i) => at(alpha, 100, i, 20));
      assert.ok(row[0]! > 0 && row[0]! < 64, `just inside the edge: ${row[0]}`);
      assert.ok(row[10]! >= 230, `10 px inside: ${row[10]}`);
      assert.equal(row[25], 255);
      for (let i = 1; i < row.length; i += 1) assert.ok(row[i]! >= row[i - 1]!, 'rising');
    });

    it("reaches exactly 255 for every width (sharp's integer blur kernels do not quite sum to 1)", async () => {
      const r = await region(300, 20, (x) => x >= 100);
      for (const width of [1, 2, 3, 7, 10, 25, 60]) {
        const alpha = await featherMask(r, width);
        assert.equal(at(alpha, 200, 199, 10), 255, `feather ${width}: at the image border`);
        assert.equal(at(alpha, 200, Math.min(199, 3 * width), 10), 255, `feather ${width}: 3 widths inside`);
        assert.ok(at(alpha, 200, 0, 10) < (width >= 3 ? 128 : 255), `feather ${width}: at the edge`);
      }
    });

    it('leaves no ramp along the image border, and is exactly 0 outside the mask, corners too', async () => {
      const r = await region(100, 100, (x, y) => (x < 50 && y < 80) || (y < 30 && x < 90));
      const alpha = await featherMask(r, 8);
      const plane = fullPlane({ ...r, data: alpha });
      const mask = fullPlane(r);
      plane.forEach((value, index) => {
        if (!mask[index]) assert.equal(value, 0, `outside at ${index % 100},${Math.floor(index / 100)}`);
      });
      assert.equal(at(plane, 100, 0, 40), 255, 'the left image border is no edge');
      assert.equal(at(plane, 100, 20, 0), 255, 'nor the top');
      assert.ok(at(plane, 100, 49, 60) < 64, 'the inner edge ramps');
    });

    it('is the mask itself without feathering', async () => {
      const r = await region(20, 20, (x, y) => x > 5 && y > 5);
      assert.equal(await featherMask(r, 0), r.data);
    });
  });
});
