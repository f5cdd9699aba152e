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
  pngClaiming,
  rgbaPixels,
  rgbPixels,
} from './fixtures';

const W = 40;
const H = 30;

const pictureRgb = rgbPixels(W, H, [200, 180, 40], [{ left: 5, top: 5, width: 10, height: 10, colour: [20, 20, 220] }]);
const picture = () => fromRgb(pictureRgb, W, H);
const maskFor = (width = W, height = H) =>
  fromGrey(maskPixels(width, height, [{ left: 0, top: 0, width: 8, height: 8 }]), width, height)
    .png()
    .toBuffer();

describe('image/prepareFillImages: the image sent', () => {
  describe('sent as it is', () => {
    it('passes a JPEG through byte for byte, without a copy', async () => {
      const jpeg = await picture().jpeg({ quality: 80 }).toBuffer();
      const result = await prepareFillImages(jpeg, await maskFor());
      assert.equal(result.image, jpeg);
      assert.equal(result.imageFormat, 'jpeg');
      assert.equal(result.width, W);
      assert.equal(result.height, H);
    });

    it('passes a base64 or data URL JPEG through as its decoded bytes', async () => {
      const jpeg = await picture().jpeg().toBuffer();
      const mask = await maskFor();
      const fromBase64 = await prepareFillImages(jpeg.toString('base64'), mask.toString('base64'));
      assert.deepEqual(fromBase64.image, jpeg);
      const fromDataUrl = await prepareFillImages(
        `data:image/jpeg;base64,${jpeg.toString('base64')}`,
        `data:image/png;base64,${mask.toString('base64')}`,
      );
      assert.deepEqual(fromDataUrl.image, jpeg);
      assert.deepEqual(fromDataUrl.mask, fromBase64.mask);
    });

    it('passes a JPEG whose EXIF orientation is already upright (1)', async () => {
      const jpeg = await picture().withMetadata({ orientation: 1 }).jpeg().toBuffer();
      assert.equal((await sharp(jpeg).metadata()).orientation, 1);
      const result = await prepareFillImages(jpeg, await maskFor());
      assert.equal(result.image, jpeg);
    });

    it('passes an opaque PNG and an opaque WebP', async () => {
      const png = await picture().png().toBuffer();
      const webp = await picture().webp({ quality: 80 }).toBuffer();
      const fromPng = await prepareFillImages(png, await maskFor());
      assert.equal(fromPng.image, png);
      assert.equal(fromPng.imageFormat, 'png');
      const fromWebp = await prepareFillImages(webp, await maskFor());
      assert.equal(fromWebp.image, webp);
      assert.equal(fromWebp.imageFormat, 'webp');
    });

    it('still refuses a truncated JPEG it would have sent as it is', async () => {
      const jpeg = await fromRgb(rgbPixels(W, H, [1, 2, 3]), W, H)
        .composite([{ input: await picture().png().toBuffer(), blend: 'difference' }])
        .jpeg({ quality: 100 })
        .toBuffer();
      await assert.rejects(
        prepareFillImages(jpeg.subarray(0, Math.floor(jpeg.length * 0.6)), await maskFor()),
        invalidInputMatching(/^msg\.payload is not an image sharp can decode: .*JPEG/, /truncated download/),
      );
    });
  });

  describe('re-encoded', () => {
    it('turns a GIF into PNG', async () => {
      const gif = await picture().gif().toBuffer();
      const result = await prepareFillImages(gif, await maskFor());
      assert.equal(result.imageFormat, 'png');
      assert.equal((await sharp(result.image).metadata()).format, 'png');
      assert.equal(result.width, W);
    });

    it('turns a TIFF into PNG, losslessly', async () => {
      const tiff = await picture().tiff({ compression: 'lzw' }).toBuffer();
      const result = await prepareFillImages(tiff, await maskFor());
      assert.equal(result.imageFormat, 'png');
      const sent = await decodeRgb(result.image);
      assert.deepEqual(pixel(sent, 0, 0), [200, 180, 40]);
      assert.deepEqual(pixel(sent, 7, 7), [20, 20, 220]);
    });

    it('sends only the first frame of an animated WebP, as PNG', async () => {
      const frames = Buffer.concat([pictureRgb, rgbPixels(W, H, [0, 0, 0])]);
      const animated = await sharp(frames, { raw: { width: W, height: H * 2, channels: 3, pageHeight: H } })
        .webp({ lossless: true })
        .toBuffer();
      assert.equal((await sharp(animated).metadata()).pages, 2);

      const result = await prepareFillImages(animated, await maskFor());

      assert.equal(result.imageFormat, 'png');
      const sent = await decodeRgb(result.image);
      assert.equal(sent.height, H);
      assert.deepEqual(pixel(sent, 0, 0), [200, 180, 40]);
    });

    it('converts a CMYK JPEG to an RGB JPEG', async () => {
      const cmyk = await picture().toColourspace('cmyk').jpeg().toBuffer();
      assert.equal((await sharp(cmyk).metadata()).space, 'cmyk');
      const result = await prepareFillImages(cmyk, await maskFor());
      assert.equal(result.imageFormat, 'jpeg');
      const metadata = await sharp(result.image).metadata();
      assert.equal(metadata.space, 'srgb');
      assert.equal(metadata.channels, 3);
    });

    it('drops the alpha of a PNG that comes with a mask', async () => {
      const rgba = await fromRgba(
        rgbaPixels(
          W,
          H,
          () => [5, 6, 7],
          () => 255,
        ),
        W,
        H,
      )
        .png()
        .toBuffer();
      const result = await prepareFillImages(rgba, await maskFor());
      assert.equal(result.imageFormat, 'png');
      assert.equal((await sharp(result.image).metadata()).hasAlpha, false);
    });
  });
});

describe('image/prepareFillImages: refusals', () => {
  it('refuses bytes that are not an image, with sharp’s reason', async () => {
    await assert.rejects(
      prepareFillImages(Buffer.from('{"hello":"world"}'), await maskFor()),
      invalidInputMatching(/^msg\.payload is not an image sharp can decode: .*unsupported image format/),
    );
  });

  it('keeps the decoder error as the cause', async () => {
    await assert.rejects(prepareFillImages(Buffer.from('nope'), undefined), (err: Error) => {
      assert.ok(err.cause instanceof Error);
      return true;
    });
  });

  it('refuses wrong types naming the property and the type', async () => {
    await assert.rejects(
      prepareFillImages(12, undefined),
      invalidInputMatching(/^msg\.payload must be an image but is a number \(12\)/),
    );
    await assert.rejects(
      prepareFillImages(await picture().png().toBuffer(), { path: '/tmp/mask.png' }),
      invalidInputMatching(/^msg\.mask must be an image but is an object with keys path/),
    );
    await assert.rejects(
      prepareFillImages(undefined, undefined),
      invalidInputMatching(/^msg\.payload must be an image but is missing/),
    );
  });

  it('refuses an SVG rather than guess a size to render it at', async () => {
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><rect width="40" height="30"/></svg>',
    );
    await assert.rejects(
      prepareFillImages(svg, await maskFor()),
      invalidInputMatching(/^msg\.payload is an SVG \(vector\) image/, /Render it to a PNG/),
    );
    await assert.rejects(
      prepareFillImages(await picture().png().toBuffer(), `data:image/svg+xml;base64,${svg.toString('base64')}`),
      invalidInputMatching(/^msg\.mask is an SVG \(vector\) image/),
    );
  });

  it('refuses an image over the pixel limit, saying its size', async () => {
    await assert.rejects(
      prepareFillImages(await picture().png().toBuffer(), await maskFor(), { maxInputPixels: 1000 }),
      invalidInputMatching(
        /^msg\.payload is 40×30 pixels \(1200 pixels\), more than the 1000 pixels allowed/,
        /Downscale it/,
      ),
    );
  });

  it('refuses a decompression bomb from its header, without decoding it', async () => {
    const bomb = await pngClaiming(20_000, 20_000);
    assert.equal((await sharp(bomb, { limitInputPixels: false }).metadata()).width, 20_000);
    await assert.rejects(
      prepareFillImages(bomb, undefined),
      invalidInputMatching(/^msg\.payload is 20000×20000 pixels \(400 MP\), more than the 40 MP allowed/),
    );
  });

  it('applies the pixel limit to the mask too', async () => {
    await assert.rejects(
      prepareFillImages(await picture().png().toBuffer(), await maskFor(50, 50), { maxInputPixels: 2000 }),
      invalidInputMatching(/^msg\.mask is 50×50 pixels/),
    );
  });

  it('applies the byte limit to both inputs', async () => {
    const png = await picture().png().toBuffer();
    const mask = await maskFor();
    const limit = Math.max(mask.length, 100);
    assert.ok(png.length > limit);
    await assert.rejects(
      prepareFillImages(png, mask, { maxInputBytes: limit }),
      invalidInputMatching(/^msg\.payload is .* more than the .* allowed for one image/),
    );
    await assert.rejects(
      prepareFillImages(png, Buffer.concat([mask, Buffer.alloc(png.length)]), { maxInputBytes: png.length }),
      invalidInputMatching(/^msg\.mask is .* more than the .* allowed for one image/),
    );
  });

  it('checks the mask’s type before decoding anything', async () => {
    await assert.rejects(
      prepareFillImages(Buffer.from('not an image'), 5),
      invalidInputMatching(/^msg\.mask must be an image/),
    );
  });
});

describe('image/prepareFillImages: the mask sent', () => {
  it('is a single-channel PNG the size of the image', async () => {
    const result = await prepareFillImages(await picture().jpeg().toBuffer(), await maskFor());
    const metadata = await sharp(result.mask).metadata();
    assert.equal(metadata.format, 'png');
    assert.equal(metadata.channels, 1);
    assert.equal(metadata.width, W);
    assert.equal(metadata.height, H);
    const mask = await decodeMask(result.mask);
    assert.equal(pixel(mask, 3, 3)[0], 255);
    assert.equal(pixel(mask, 20, 20)[0], 0);
  });
});
