import assert from 'node:assert/strict';
import sharp from 'sharp';
import { wholeImage } from '../../lib/image/geometry';
import { featherMask, growMask, invertMask } from '../../lib/image/masks';
import { regionFromPlane } from '../../lib/image/region';
import type { MaskRegion } from '../../lib/image/types';
import {
  countFilled,
  decodeMask,
  decodeRgb,
  fromGrey,
  fromRgb,
  fromRgba,
  fullPlane,
  invalidInputMatching,
  maskPixels,
  pixel,
  planeFrom,
  rgbaPixels,
  rgbPixels,
  imagesSent,
} from './fixtures';

const W = 64;
const H = 48;

function bluePng(width = W, height = H): Promise<Buffer> {
  return fromRgb(rgbPixels(width, height, [40, 90, 160]), width, height)
    .png()
    .toBuffer();
}

function values(mask: { data: Buffer }): number[] {
  return [...new Set(mask.data)].sort((a, b) => a - b);
}

async function assertSingleChannelPng(mask: Buffer): Promise<void> {
  const metadata = await sharp(mask).metadata();
  assert.equal(metadata.format, 'png');
  assert.equal(metadata.channels, 1);
  assert.equal(metadata.hasAlpha, false);
  assert.equal(metadata.depth, 'uchar');
}

describe('image/masks: from the image in msg.mask', () => {
  it('thresholds a grey ramp at 128 into a lossless single-channel PNG of 0 and 255 only', async () => {
    const ramp = Array.from({ length: 256 }, (_, x) => x);
    const mask = await fromGrey([...ramp, ...ramp], 256, 2)
      .png()
      .toBuffer();
    const image = await bluePng(256, 2);

    const result = await imagesSent(image, mask);

    assert.equal(result.maskSource, 'mask');
    await assertSingleChannelPng(result.mask);
    const decoded = await decodeMask(result.mask);
    assert.deepEqual(values(decoded), [0, 255]);
    for (let x = 0; x < 256; x += 1) {
      assert.equal(pixel(decoded, x, 0)[0], x >= 128 ? 255 : 0, `pixel ${x}`);
      assert.equal(pixel(decoded, x, 1)[0], x >= 128 ? 255 : 0, `pixel ${x}, second row`);
    }
  });

  it('thresholds the anti-aliased edge of a drawn shape', async () => {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">
      <rect width="100%" height="100%" fill="black"/><circle cx="32" cy="24" r="15.3" fill="white"/></svg>`;
    const mask = await sharp(Buffer.from(svg)).png().toBuffer();
    const drawn = await decodeMask(mask);
    assert.ok(values(drawn).length > 2, 'the fixture has grey edge pixels');

    const result = await imagesSent(await bluePng(), mask);

    const decoded = await decodeMask(result.mask);
    assert.deepEqual(values(decoded), [0, 255]);
    for (let i = 0; i < drawn.data.length; i += 1) {
      assert.equal(decoded.data[i], drawn.data[i]! >= 128 ? 255 : 0, `pixel ${i}`);
    }
    assert.equal(pixel(decoded, 32, 24)[0], 255);
    assert.equal(pixel(decoded, 2, 2)[0], 0);
  });

  it('cleans the grey noise of a JPEG mask', async () => {
    const rect = { left: 13, top: 7, width: 25, height: 23 };
    const mask = await fromGrey(maskPixels(W, H, [rect]), W, H)
      .jpeg({ quality: 40 })
      .toBuffer();
    assert.ok(values(await decodeMask(mask)).length > 2, 'the fixture has JPEG artefacts');

    const result = await imagesSent(await bluePng(), mask);

    const decoded = await decodeMask(result.mask);
    assert.deepEqual(values(decoded), [0, 255]);
    assert.equal(pixel(decoded, 28, 20)[0], 255);
    assert.equal(pixel(decoded, 2, 2)[0], 0);
    assert.equal(pixel(decoded, 60, 44)[0], 0);
  });

  it('reads a colour mask by its brightness', async () => {
    const data = rgbPixels(
      4,
      1,
      [0, 0, 0],
      [
        { left: 0, top: 0, width: 1, height: 1, colour: [255, 0, 0] }, // dark in greyscale
        { left: 1, top: 0, width: 1, height: 1, colour: [255, 255, 0] }, // bright
        { left: 2, top: 0, width: 1, height: 1, colour: [255, 255, 255] },
      ],
    );
    const mask = await fromRgb(data, 4, 1).png().toBuffer();

    const result = await imagesSent(await bluePng(4, 1), mask);

    assert.deepEqual([...(await decodeMask(result.mask)).data], [0, 255, 255, 0]);
  });

  it('treats transparent areas of an RGBA mask as black (keep)', async () => {
    // White everywhere, with alpha 0, 100, 200 and 255: flattened on black that is 0, 100, 200, 255.
    const alphas = [0, 100, 200, 255];
    const data = rgbaPixels(
      4,
      1,
      () => [255, 255, 255],
      (x) => alphas[x]!,
    );
    const mask = await fromRgba(data, 4, 1).png().toBuffer();

    const result = await imagesSent(await bluePng(4, 1), mask);

    assert.equal(result.maskSource, 'mask');
    await assertSingleChannelPng(result.mask);
    assert.deepEqual([...(await decodeMask(result.mask)).data], [0, 0, 255, 255]);
  });

  it('reads a 16-bit mask', async () => {
    const levels = new Uint16Array([0, 127 * 257, 128 * 257, 65535]);
    const mask = await sharp(levels, { raw: { width: 4, height: 1, channels: 1 } })
      .toColourspace('grey16')
      .png()
      .toBuffer();
    assert.equal((await sharp(mask).metadata()).depth, 'ushort');

    const result = await imagesSent(await bluePng(4, 1), mask);

    await assertSingleChannelPng(result.mask);
    assert.deepEqual([...(await decodeMask(result.mask)).data], [0, 0, 255, 255]);
  });

  it('accepts an all-white mask (fill everything)', async () => {
    const mask = await fromGrey(Buffer.alloc(W * H, 255), W, H)
      .png()
      .toBuffer();
    const result = await imagesSent(await bluePng(), mask);
    assert.deepEqual(values(await decodeMask(result.mask)), [255]);
  });

  it('refuses an all-black mask: nothing would be filled', async () => {
    const black = await fromGrey(Buffer.alloc(W * H), W, H)
      .png()
      .toBuffer();
    await assert.rejects(
      imagesSent(await bluePng(), black),
      invalidInputMatching(/^msg\.mask has no white pixel/, /nothing would be filled/, /Paint the area to fill white/),
    );
  });

  it('refuses a mask whose brightest grey is below 128', async () => {
    const dim = await fromGrey(Buffer.alloc(W * H, 127), W, H)
      .png()
      .toBuffer();
    await assert.rejects(imagesSent(await bluePng(), dim), invalidInputMatching(/^msg\.mask has no white pixel/));
  });

  it('refuses a mask that is white only where it is transparent', async () => {
    const data = rgbaPixels(
      W,
      H,
      () => [255, 255, 255],
      () => 0,
    );
    const mask = await fromRgba(data, W, H).png().toBuffer();
    await assert.rejects(imagesSent(await bluePng(), mask), invalidInputMatching(/^msg\.mask has no white pixel/));
  });

  it('refuses a mask of another size, naming both sizes and the fix', async () => {
    const mask = await fromGrey(Buffer.alloc(32 * 32, 255), 32, 32)
      .png()
      .toBuffer();
    await assert.rejects(
      imagesSent(await bluePng(), mask),
      invalidInputMatching(
        /^msg\.mask is 32×32 but msg\.payload is 64×48; they must be the same size\./,
        /Resize the mask to 64×48, or draw it on the upright image\./,
      ),
    );
  });

  it('refuses a mask sharp cannot decode, naming msg.mask', async () => {
    await assert.rejects(
      imagesSent(await bluePng(), Buffer.from('this is not a picture')),
      invalidInputMatching(/^msg\.mask is not an image sharp can decode: /),
    );
  });

  it('refuses a truncated mask', async () => {
    const mask = await fromGrey(maskPixels(W, H, [{ left: 0, top: 0, width: 10, height: 10 }]), W, H)
      .png()
      .toBuffer();
    await assert.rejects(
      imagesSent(await bluePng(), mask.subarray(0, mask.length - 30)),
      invalidInputMatching(/^msg\.mask is not an image sharp can decode: /),
    );
  });

  it('uses msg.mask, not the alpha channel, when the image has both', async () => {
    // Transparent on the left half, but the mask says: fill the right half.
    const image = await fromRgba(
      rgbaPixels(
        8,
        1,
        () => [10, 20, 30],
        (x) => (x < 4 ? 0 : 255),
      ),
      8,
      1,
    )
      .png()
      .toBuffer();
    const mask = await fromGrey([0, 0, 0, 0, 255, 255, 255, 255], 8, 1).png().toBuffer();

    const result = await imagesSent(image, mask);

    assert.equal(result.maskSource, 'mask');
    assert.deepEqual([...(await decodeMask(result.mask)).data], [0, 0, 0, 0, 255, 255, 255, 255]);
    const sent = await sharp(result.image).metadata();
    assert.equal(sent.hasAlpha, false);
    assert.equal(result.imageFormat, 'png');
  });
});

describe('image/masks: from the alpha channel', () => {
  it('fills where alpha is below 128 and sends the image without alpha, colours kept', async () => {
    // Alpha 0, 16, ..., 240 across the row; the RGB under it is a distinct colour per pixel.
    const data = rgbaPixels(
      16,
      2,
      (x) => [x * 10, 200, 30],
      (x) => x * 16,
    );
    const image = await fromRgba(data, 16, 2).png().toBuffer();

    const result = await imagesSent(image, undefined);

    assert.equal(result.maskSource, 'alpha');
    assert.equal(result.imageFormat, 'png');
    assert.equal(result.width, 16);
    assert.equal(result.height, 2);
    await assertSingleChannelPng(result.mask);
    const mask = await decodeMask(result.mask);
    for (let x = 0; x < 16; x += 1) assert.equal(pixel(mask, x, 0)[0], x * 16 < 128 ? 255 : 0, `alpha ${x * 16}`);

    const sent = await decodeRgb(result.image);
    assert.equal(sent.channels, 3);
    assert.equal((await sharp(result.image).metadata()).hasAlpha, false);
    // removeAlpha, not flatten: the original colour stays under fully transparent pixels.
    assert.deepEqual(pixel(sent, 0, 0), [0, 200, 30]);
    assert.deepEqual(pixel(sent, 5, 1), [50, 200, 30]);
  });

  it('treats msg.mask null like no mask', async () => {
    const image = await fromRgba(
      rgbaPixels(
        4,
        1,
        () => [1, 2, 3],
        (x) => (x === 0 ? 0 : 255),
      ),
      4,
      1,
    )
      .png()
      .toBuffer();
    const result = await imagesSent(image, null);
    assert.equal(result.maskSource, 'alpha');
    assert.deepEqual([...(await decodeMask(result.mask)).data], [255, 0, 0, 0]);
  });

  it('reads the alpha of a greyscale PNG with alpha', async () => {
    const image = await sharp(Buffer.from([0, 0, 50, 100, 100, 127, 200, 128, 255, 255, 0, 255]), {
      raw: { width: 6, height: 1, channels: 2 },
    })
      .toColourspace('b-w')
      .png()
      .toBuffer();
    assert.equal((await sharp(image).metadata()).channels, 2);

    const result = await imagesSent(image, undefined);

    assert.deepEqual([...(await decodeMask(result.mask)).data], [255, 255, 255, 0, 0, 0]);
    assert.equal((await sharp(result.image).metadata()).hasAlpha, false);
  });

  it('reads the transparency of a palette PNG', async () => {
    const data = rgbaPixels(
      4,
      1,
      () => [200, 0, 0],
      (x) => (x < 2 ? 0 : 255),
    );
    const image = await fromRgba(data, 4, 1).png({ palette: true }).toBuffer();
    assert.equal((await sharp(image).metadata()).isPalette, true);

    const result = await imagesSent(image, undefined);

    assert.deepEqual([...(await decodeMask(result.mask)).data], [255, 255, 0, 0]);
  });

  it('reads the alpha of a 16-bit PNG', async () => {
    const alphas = [0, 127 * 257, 128 * 257, 65535];
    const levels = new Uint16Array(4 * 4);
    alphas.forEach((alpha, x) => levels.set([65535, 1000, 0, alpha], x * 4));
    const image = await sharp(levels, { raw: { width: 4, height: 1, channels: 4 } })
      .toColourspace('rgb16')
      .png()
      .toBuffer();
    assert.equal((await sharp(image).metadata()).depth, 'ushort');

    const result = await imagesSent(image, undefined);

    assert.deepEqual([...(await decodeMask(result.mask)).data], [255, 255, 0, 0]);
  });

  it('uses the alpha of a WebP', async () => {
    const data = rgbaPixels(
      8,
      8,
      () => [0, 128, 255],
      (x, y) => (x < 4 && y < 4 ? 0 : 255),
    );
    const image = await fromRgba(data, 8, 8).webp({ lossless: true }).toBuffer();

    const result = await imagesSent(image, undefined);

    const mask = await decodeMask(result.mask);
    assert.equal(pixel(mask, 1, 1)[0], 255);
    assert.equal(pixel(mask, 6, 6)[0], 0);
    assert.equal(result.imageFormat, 'png');
  });

  it('refuses an alpha channel with no transparent pixel', async () => {
    const image = await fromRgba(
      rgbaPixels(
        W,
        H,
        () => [9, 9, 9],
        () => 128,
      ),
      W,
      H,
    )
      .png()
      .toBuffer();
    await assert.rejects(
      imagesSent(image, undefined),
      invalidInputMatching(
        /^msg\.payload has an alpha channel but no transparent pixel/,
        /or set msg\.mask \(a mask image, white = fill, or shapes\)/,
      ),
    );
  });

  it('refuses an image with neither alpha nor msg.mask, explaining both ways to give a mask', async () => {
    await assert.rejects(
      imagesSent(await bluePng(), undefined),
      invalidInputMatching(
        /^msg\.payload has no alpha channel and msg\.mask is not set/,
        /Set msg\.mask to a mask image of the same size \(white = fill, black = keep\) or to shapes/,
        /transparent pixels mark the area to fill/,
      ),
    );
  });
});

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

describe('image/masks: invert, grow, feather', () => {
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
