import assert from 'node:assert/strict';
import sharp from 'sharp';
import { prepareFillImages } from '../../lib/image';
import {
  decodeMask,
  decodeRgb,
  fromGrey,
  fromRgb,
  fromRgba,
  invalidInputMatching,
  maskPixels,
  pixel,
  rgbaPixels,
  rgbPixels,
} from './fixtures';

const W = 64;
const H = 48;

function photo(width = W, height = H): Promise<Buffer> {
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

describe('image/mask from msg.mask', () => {
  it('thresholds a grey ramp at 128 into a lossless single-channel PNG of 0 and 255 only', async () => {
    const ramp = Array.from({ length: 256 }, (_, x) => x);
    const mask = await fromGrey([...ramp, ...ramp], 256, 2)
      .png()
      .toBuffer();
    const image = await photo(256, 2);

    const result = await prepareFillImages(image, mask);

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

    const result = await prepareFillImages(await photo(), mask);

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

    const result = await prepareFillImages(await photo(), mask);

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

    const result = await prepareFillImages(await photo(4, 1), mask);

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

    const result = await prepareFillImages(await photo(4, 1), mask);

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

    const result = await prepareFillImages(await photo(4, 1), mask);

    await assertSingleChannelPng(result.mask);
    assert.deepEqual([...(await decodeMask(result.mask)).data], [0, 0, 255, 255]);
  });

  it('accepts an all-white mask (fill everything)', async () => {
    const mask = await fromGrey(Buffer.alloc(W * H, 255), W, H)
      .png()
      .toBuffer();
    const result = await prepareFillImages(await photo(), mask);
    assert.deepEqual(values(await decodeMask(result.mask)), [255]);
  });

  it('refuses an all-black mask: nothing would be filled', async () => {
    const black = await fromGrey(Buffer.alloc(W * H), W, H)
      .png()
      .toBuffer();
    await assert.rejects(
      prepareFillImages(await photo(), black),
      invalidInputMatching(/^msg\.mask has no white pixel/, /nothing would be filled/, /Paint the area to fill white/),
    );
  });

  it('refuses a mask whose brightest grey is below 128', async () => {
    const dim = await fromGrey(Buffer.alloc(W * H, 127), W, H)
      .png()
      .toBuffer();
    await assert.rejects(prepareFillImages(await photo(), dim), invalidInputMatching(/^msg\.mask has no white pixel/));
  });

  it('refuses a mask that is white only where it is transparent', async () => {
    const data = rgbaPixels(
      W,
      H,
      () => [255, 255, 255],
      () => 0,
    );
    const mask = await fromRgba(data, W, H).png().toBuffer();
    await assert.rejects(prepareFillImages(await photo(), mask), invalidInputMatching(/^msg\.mask has no white pixel/));
  });

  it('refuses a mask of another size, naming both sizes and the fix', async () => {
    const mask = await fromGrey(Buffer.alloc(32 * 32, 255), 32, 32)
      .png()
      .toBuffer();
    await assert.rejects(
      prepareFillImages(await photo(), mask),
      invalidInputMatching(
        /^msg\.mask is 32×32 but msg\.payload is 64×48; they must be the same size\./,
        /Resize the mask to 64×48, or draw it on the upright image\./,
      ),
    );
  });

  it('refuses a mask sharp cannot decode, naming msg.mask', async () => {
    await assert.rejects(
      prepareFillImages(await photo(), Buffer.from('this is not a picture')),
      invalidInputMatching(/^msg\.mask is not an image sharp can decode: /),
    );
  });

  it('refuses a truncated mask', async () => {
    const mask = await fromGrey(maskPixels(W, H, [{ left: 0, top: 0, width: 10, height: 10 }]), W, H)
      .png()
      .toBuffer();
    await assert.rejects(
      prepareFillImages(await photo(), mask.subarray(0, mask.length - 30)),
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

    const result = await prepareFillImages(image, mask);

    assert.equal(result.maskSource, 'mask');
    assert.deepEqual([...(await decodeMask(result.mask)).data], [0, 0, 0, 0, 255, 255, 255, 255]);
    const sent = await sharp(result.image).metadata();
    assert.equal(sent.hasAlpha, false);
    assert.equal(result.imageFormat, 'png');
  });
});

describe('image/mask from the alpha channel', () => {
  it('fills where alpha is below 128 and sends the image without alpha, colours kept', async () => {
    // Alpha 0, 16, ..., 240 across the row; the RGB under it is a distinct colour per pixel.
    const data = rgbaPixels(
      16,
      2,
      (x) => [x * 10, 200, 30],
      (x) => x * 16,
    );
    const image = await fromRgba(data, 16, 2).png().toBuffer();

    const result = await prepareFillImages(image, undefined);

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
    const result = await prepareFillImages(image, null);
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

    const result = await prepareFillImages(image, undefined);

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

    const result = await prepareFillImages(image, undefined);

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

    const result = await prepareFillImages(image, undefined);

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

    const result = await prepareFillImages(image, undefined);

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
      prepareFillImages(image, undefined),
      invalidInputMatching(/^msg\.payload has an alpha channel but no transparent pixel/, /send a mask in msg\.mask/),
    );
  });

  it('refuses an image with neither alpha nor msg.mask, explaining both ways to give a mask', async () => {
    await assert.rejects(
      prepareFillImages(await photo(), undefined),
      invalidInputMatching(
        /^msg\.payload has no alpha channel and msg\.mask is not set/,
        /set msg\.mask to an image of the same size \(white = fill, black = keep\)/,
        /transparent pixels mark the area to fill/,
      ),
    );
  });
});
