import assert from 'node:assert/strict';
import sharp from 'sharp';
import { resolveImageOptions } from '../../lib/fields';
import { maskFromShapes, planInputs } from '../../lib/image';
import {
  channelDifference,
  countFilled,
  decodeMask,
  filledPixels,
  fromGrey,
  fromRgba,
  invalidInputMatching,
  maskPixels,
  photo,
  photoPng,
  plan,
  pngClaiming,
  rgbaPixels,
  rgbOf,
} from './fixtures';

const W = 120;
const H = 90;
const BOX = { x: 30, y: 20, width: 40, height: 30 };

describe('image/plan: planInputs, what is sent', () => {
  describe('masks', () => {
    it('takes shapes for msg.mask and sends the image as it is', async () => {
      const jpeg = await photo(W, H).jpeg().toBuffer();
      const { images, geometry } = await plan(jpeg, [BOX]);
      assert.equal(images.image, jpeg, 'not re-encoded, not copied');
      assert.equal(images.imageFormat, 'jpeg');
      assert.equal(images.maskSource, 'mask');
      assert.deepEqual([images.width, images.height], [W, H]);
      assert.deepEqual(images.mask, await maskFromShapes([BOX], W, H));
      assert.equal(geometry.resampled, false);
      assert.deepEqual(geometry.crop, { left: 0, top: 0, width: W, height: H });
      assert.deepEqual(geometry.mask.box, { left: 30, top: 20, width: 40, height: 30 });
    });

    it('takes a mask image, and inverts it', async () => {
      const png = await photoPng(W, H);
      const maskPng = await fromGrey(maskPixels(W, H, [{ left: 30, top: 20, width: 40, height: 30 }]), W, H)
        .png()
        .toBuffer();
      const plain = await decodeMask((await plan(png, maskPng)).images.mask);
      assert.equal(countFilled(plain.data), 1200);
      const inverted = await decodeMask((await plan(png, maskPng, { maskInvert: true })).images.mask);
      assert.equal(countFilled(inverted.data), W * H - 1200);
      inverted.data.forEach((value, index) => assert.notEqual(value, plain.data[index]));
    });

    it('takes the alpha channel when there is no msg.mask', async () => {
      const rgba = await fromRgba(
        rgbaPixels(
          W,
          H,
          (x) => [x, 100, 200],
          (x, y) => (x >= 30 && x < 70 && y >= 20 && y < 50 ? 0 : 255),
        ),
        W,
        H,
      )
        .png()
        .toBuffer();
      const { images, geometry } = await plan(rgba, undefined);
      assert.equal(images.maskSource, 'alpha');
      assert.deepEqual(geometry.mask.box, { left: 30, top: 20, width: 40, height: 30 });
      assert.equal(geometry.flattenSource, true, 'the alpha must go before compositing');
      const sent = await sharp(images.image).metadata();
      assert.equal(sent.hasAlpha, false);
    });

    it('grows the mask that is sent', async () => {
      const { images } = await plan(await photoPng(W, H), [BOX], { maskGrow: 5 });
      const plane = await decodeMask(images.mask);
      const pixels = filledPixels(plane.data, W);
      assert.ok(pixels.has('25,35') && pixels.has('74,35') && pixels.has('50,15') && pixels.has('50,54'));
      assert.ok(!pixels.has('24,35') && !pixels.has('75,35') && !pixels.has('26,16'), 'a disc, not a square');
    });

    it('inverting a mask with nothing to fill fills everything; with everything, nothing', async () => {
      const png = await photoPng(W, H);
      const black = await fromGrey(new Uint8Array(W * H), W, H)
        .png()
        .toBuffer();
      const white = await fromGrey(new Uint8Array(W * H).fill(255), W, H)
        .png()
        .toBuffer();
      await assert.rejects(plan(png, black), invalidInputMatching(/^msg\.mask has no white pixel/));
      const all = await plan(png, black, { maskInvert: true });
      assert.equal(countFilled((await decodeMask(all.images.mask)).data), W * H);
      await assert.rejects(
        plan(png, white, { maskInvert: true }),
        invalidInputMatching(/^The inverted mask fills nothing: msg\.mask marks every pixel/),
      );
    });

    it('explains a missing mask, mentioning shapes', async () => {
      await assert.rejects(
        plan(await photoPng(W, H), undefined),
        invalidInputMatching(/^msg\.payload has no alpha channel and msg\.mask is not set.* or to shapes such as/),
      );
    });

    it('checks shapes before decoding anything', async () => {
      await assert.rejects(
        plan(Buffer.from('not an image at all'), [{ x: 1, y: 1, width: -1, height: 1 }]),
        invalidInputMatching(/^Shape msg\.mask\[0\]: width must be a positive number, got -1/),
      );
    });

    it('still explains a Buffer that went through JSON', async () => {
      await assert.rejects(plan(await photoPng(W, H), Buffer.from('png').toJSON()), invalidInputMatching(/JSON/));
    });
  });

  describe('options', () => {
    it('takes the options as the table of fields resolves a node’s values, strings included', async () => {
      const options = resolveImageOptions({
        maskInvert: 'false',
        maskGrow: '3',
        maskFeather: 2,
        pasteBack: 'true',
        cropToMask: false,
        cropMargin: '',
        maxMegapixels: '2.5',
      });
      const { geometry } = await planInputs(await photoPng(W, H), [BOX], options);
      assert.deepEqual(geometry.options, {
        maskInvert: false,
        maskGrow: 3,
        maskFeather: 2,
        pasteBack: true,
        cropToMask: false,
        cropMargin: 64,
        maxMegapixels: 2.5,
      });
    });
  });

  describe('sizes', () => {
    it('downscales an image over maxMegapixels, keeping every pixel to fill covered', async () => {
      const width = 1800;
      const height = 1200;
      const jpeg = await photo(width, height).jpeg({ quality: 90 }).toBuffer();
      const ellipse = { cx: 700, cy: 500, rx: 13, ry: 7 };
      const { images, geometry } = await plan(jpeg, [ellipse, [1790, 0, 10, 1]], { maxMegapixels: 0.5 });
      assert.equal(geometry.resampled, true);
      assert.equal(images.imageFormat, 'jpeg');
      assert.ok(images.width * images.height <= 500_000);
      assert.equal(images.width % 32, 0);
      assert.equal(images.height % 32, 0);
      const sent = await sharp(images.image).metadata();
      assert.deepEqual([sent.width, sent.height], [images.width, images.height]);
      const sentMask = await decodeMask(images.mask);
      assert.deepEqual([sentMask.width, sentMask.height], [images.width, images.height]);
      const full = await decodeMask(await maskFromShapes([ellipse, [1790, 0, 10, 1]], width, height));
      full.data.forEach((value, index) => {
        if (!value) return;
        const sx = Math.floor(((index % width) * images.width) / width);
        const sy = Math.floor((Math.floor(index / width) * images.height) / height);
        assert.equal(sentMask.data[sy * images.width + sx], 255, 'covered');
      });
      assert.ok(countFilled(sentMask.data) < 2 * (countFilled(full.data) * 0.25 + 60), 'and not much more');
    });

    it('refuses an image over the API limit with downscaling off, before decoding it', async () => {
      await assert.rejects(
        plan(await pngClaiming(6000, 4000), [BOX], { maxMegapixels: 0 }),
        invalidInputMatching(/^msg\.payload is 6000×4000 pixels \(24 MP\), more than the 20 MP the BFL API accepts/),
      );
    });

    it('crops to the mask: the sent image is the crop with its margin, scaled', async () => {
      const width = 2400;
      const height = 1600;
      const png = await photoPng(width, height);
      const { images, geometry } = await plan(png, [{ x: 1000, y: 700, width: 600, height: 400 }], {
        cropToMask: true,
        cropMargin: 100,
      });
      assert.equal(geometry.resampled, true);
      assert.deepEqual(geometry.crop, { left: 900, top: 600, width: 800, height: 600 }, 'mask and margin');
      assert.deepEqual([images.width, images.height], [1184, 896], 'about 1 MP, multiples of 32');
      assert.equal(images.imageFormat, 'png');
      const expected = await sharp(png)
        .extract(geometry.crop)
        .resize(images.width, images.height, { fit: 'fill' })
        .png()
        .toBuffer();
      const difference = channelDifference(await rgbOf(images.image), await rgbOf(expected), () => true);
      assert.equal(difference.max, 0, 'the same pixels');
      const mask = await decodeMask(images.mask);
      const filled = countFilled(mask.data);
      const expectedFilled = 600 * (1184 / 800) * 400 * (896 / 600);
      assert.ok(filled >= expectedFilled && filled < expectedFilled + 4000, `${filled} filled pixels`);
    });
  });
});
