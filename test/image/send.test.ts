import assert from 'node:assert/strict';
import sharp from 'sharp';
import {
  assertNotRedish,
  assertRedish,
  cornerMask,
  decodeMask,
  decodeRgb,
  fromGrey,
  fromRgb,
  fromRgba,
  invalidInputMatching,
  maskPixels,
  PICTURE,
  picture,
  pixel,
  rgbaPixels,
  rgbPixels,
  imagesSent,
} from './fixtures';

const { width: W, height: H } = PICTURE;

describe('image/send: the image sent', () => {
  describe('sent as it is', () => {
    it('passes a JPEG through byte for byte, without a copy', async () => {
      const jpeg = await picture().jpeg({ quality: 80 }).toBuffer();
      const result = await imagesSent(jpeg, await cornerMask());
      assert.equal(result.image, jpeg);
      assert.equal(result.imageFormat, 'jpeg');
      assert.equal(result.width, W);
      assert.equal(result.height, H);
    });

    it('passes a base64 or data URL JPEG through as its decoded bytes', async () => {
      const jpeg = await picture().jpeg().toBuffer();
      const mask = await cornerMask();
      const fromBase64 = await imagesSent(jpeg.toString('base64'), mask.toString('base64'));
      assert.deepEqual(fromBase64.image, jpeg);
      const fromDataUrl = await imagesSent(
        `data:image/jpeg;base64,${jpeg.toString('base64')}`,
        `data:image/png;base64,${mask.toString('base64')}`,
      );
      assert.deepEqual(fromDataUrl.image, jpeg);
      assert.deepEqual(fromDataUrl.mask, fromBase64.mask);
    });

    it('passes a JPEG whose EXIF orientation is already upright (1), without its EXIF', async () => {
      const jpeg = await picture().withMetadata({ orientation: 1 }).jpeg().toBuffer();
      assert.equal((await sharp(jpeg).metadata()).orientation, 1);
      const result = await imagesSent(jpeg, await cornerMask());
      assert.equal(result.image.length, jpeg.length - 2 - jpeg.readUInt16BE(4), 'only the APP1 segment left out');
      assert.ok(result.image.subarray(2).equals(jpeg.subarray(4 + jpeg.readUInt16BE(4))));
      assert.equal((await sharp(result.image).metadata()).exif, undefined);
    });

    it('passes an opaque PNG and an opaque WebP', async () => {
      const png = await picture().png().toBuffer();
      const webp = await picture().webp({ quality: 80 }).toBuffer();
      const fromPng = await imagesSent(png, await cornerMask());
      assert.equal(fromPng.image, png);
      assert.equal(fromPng.imageFormat, 'png');
      const fromWebp = await imagesSent(webp, await cornerMask());
      assert.equal(fromWebp.image, webp);
      assert.equal(fromWebp.imageFormat, 'webp');
    });

    it('still refuses a truncated JPEG it would have sent as it is', async () => {
      const jpeg = await fromRgb(rgbPixels(W, H, [1, 2, 3]), W, H)
        .composite([{ input: await picture().png().toBuffer(), blend: 'difference' }])
        .jpeg({ quality: 100 })
        .toBuffer();
      await assert.rejects(
        imagesSent(jpeg.subarray(0, Math.floor(jpeg.length * 0.6)), await cornerMask()),
        invalidInputMatching(/^msg\.payload is not an image sharp can decode: .*JPEG/, /truncated download/),
      );
    });
  });

  describe('re-encoded', () => {
    it('turns a GIF into PNG', async () => {
      const gif = await picture().gif().toBuffer();
      const result = await imagesSent(gif, await cornerMask());
      assert.equal(result.imageFormat, 'png');
      assert.equal((await sharp(result.image).metadata()).format, 'png');
      assert.equal(result.width, W);
    });

    it('turns a TIFF into PNG, losslessly', async () => {
      const tiff = await picture().tiff({ compression: 'lzw' }).toBuffer();
      const result = await imagesSent(tiff, await cornerMask());
      assert.equal(result.imageFormat, 'png');
      const sent = await decodeRgb(result.image);
      assert.deepEqual(pixel(sent, 0, 0), [200, 180, 40]);
      assert.deepEqual(pixel(sent, 7, 7), [20, 20, 220]);
    });

    it('sends only the first frame of an animated WebP, as PNG', async () => {
      const frames = Buffer.concat([PICTURE.rgb, rgbPixels(W, H, [0, 0, 0])]);
      const animated = await sharp(frames, { raw: { width: W, height: H * 2, channels: 3, pageHeight: H } })
        .webp({ lossless: true })
        .toBuffer();
      assert.equal((await sharp(animated).metadata()).pages, 2);

      const result = await imagesSent(animated, await cornerMask());

      assert.equal(result.imageFormat, 'png');
      const sent = await decodeRgb(result.image);
      assert.equal(sent.height, H);
      assert.deepEqual(pixel(sent, 0, 0), [200, 180, 40]);
    });

    it('converts a CMYK JPEG to an RGB JPEG', async () => {
      const cmyk = await picture().toColourspace('cmyk').jpeg().toBuffer();
      assert.equal((await sharp(cmyk).metadata()).space, 'cmyk');
      const result = await imagesSent(cmyk, await cornerMask());
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
      const result = await imagesSent(rgba, await cornerMask());
      assert.equal(result.imageFormat, 'png');
      assert.equal((await sharp(result.image).metadata()).hasAlpha, false);
    });
  });
});

describe('image/send: the mask sent', () => {
  it('is a single-channel PNG the size of the image', async () => {
    const result = await imagesSent(await picture().jpeg().toBuffer(), await cornerMask());
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

// The upright picture, as a viewer shows it: 64×48, a red square in the top-left corner.
const UPRIGHT_WIDTH = 64;
const UPRIGHT_HEIGHT = 48;
const CORNER = { left: 0, top: 0, width: 16, height: 16 };

/**
 * A phone photo: its pixels stored turned 90° anticlockwise (48×64), with EXIF orientation 6 telling viewers
 * to turn them 90° clockwise.
 */
async function phonePhoto(): Promise<Buffer> {
  const upright = await fromRgb(
    rgbPixels(UPRIGHT_WIDTH, UPRIGHT_HEIGHT, [40, 90, 160], [{ ...CORNER, colour: [230, 20, 20] }]),
    UPRIGHT_WIDTH,
    UPRIGHT_HEIGHT,
  )
    .png()
    .toBuffer();
  const stored = await sharp(upright).rotate(-90).png().toBuffer();
  return sharp(stored).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer();
}

/** A mask drawn on the upright picture: the red corner is to be filled. */
function uprightMask(): Promise<Buffer> {
  return fromGrey(maskPixels(UPRIGHT_WIDTH, UPRIGHT_HEIGHT, [CORNER]), UPRIGHT_WIDTH, UPRIGHT_HEIGHT)
    .png()
    .toBuffer();
}

describe('image/send: EXIF orientation', () => {
  it('the fixture is what a phone writes: pixels stored sideways, orientation 6', async () => {
    const metadata = await sharp(await phonePhoto()).metadata();
    assert.equal(metadata.orientation, 6);
    assert.equal(metadata.width, UPRIGHT_HEIGHT);
    assert.equal(metadata.height, UPRIGHT_WIDTH);
  });

  it('sends the photo upright, with the mask drawn on the upright picture lined up', async () => {
    const result = await imagesSent(await phonePhoto(), await uprightMask());

    assert.equal(result.width, UPRIGHT_WIDTH);
    assert.equal(result.height, UPRIGHT_HEIGHT);
    assert.equal(result.imageFormat, 'jpeg');

    const sent = await decodeRgb(result.image);
    assert.equal(sent.width, UPRIGHT_WIDTH);
    assert.equal(sent.height, UPRIGHT_HEIGHT);
    assertRedish(pixel(sent, 8, 8), 'the top-left corner');
    assertNotRedish(pixel(sent, 56, 8), 'the top-right corner');
    assertNotRedish(pixel(sent, 8, 40), 'the bottom-left corner');
    assertNotRedish(pixel(sent, 56, 40), 'the bottom-right corner');

    const mask = await decodeMask(result.mask);
    assert.equal(mask.width, UPRIGHT_WIDTH);
    assert.equal(mask.height, UPRIGHT_HEIGHT);
    assert.equal(pixel(mask, 8, 8)[0], 255);
    assert.equal(pixel(mask, 56, 8)[0], 0);
    assert.equal(pixel(mask, 8, 40)[0], 0);
  });

  it('strips the orientation from the bytes sent, so the server cannot turn them again', async () => {
    const result = await imagesSent(await phonePhoto(), await uprightMask());
    const metadata = await sharp(result.image).metadata();
    assert.equal(metadata.orientation, undefined);
    assert.equal(metadata.exif, undefined);
    assert.equal(metadata.width, UPRIGHT_WIDTH);
  });

  it('re-encodes a JPEG as JPEG without chroma subsampling', async () => {
    const result = await imagesSent(await phonePhoto(), await uprightMask());
    const metadata = await sharp(result.image).metadata();
    assert.equal(metadata.format, 'jpeg');
    assert.equal(metadata.chromaSubsampling, '4:4:4');
  });

  it('applies a mask’s own EXIF orientation too', async () => {
    const stored = await sharp(await uprightMask())
      .rotate(-90)
      .png()
      .toBuffer();
    const mask = await sharp(stored).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer();

    const result = await imagesSent(await phonePhoto(), mask);

    const decoded = await decodeMask(result.mask);
    assert.equal(decoded.width, UPRIGHT_WIDTH);
    assert.equal(pixel(decoded, 8, 8)[0], 255);
    assert.equal(pixel(decoded, 56, 40)[0], 0);
  });

  it('explains a mask drawn on the stored pixels instead of the upright picture', async () => {
    const sideways = await fromGrey(maskPixels(UPRIGHT_HEIGHT, UPRIGHT_WIDTH, [CORNER]), UPRIGHT_HEIGHT, UPRIGHT_WIDTH)
      .png()
      .toBuffer();
    await assert.rejects(
      imagesSent(await phonePhoto(), sideways),
      invalidInputMatching(
        /^msg\.mask is 48×64 but msg\.payload is 64×48 once its EXIF orientation \(6\) is applied/,
        /matches the image's pixels as stored/,
        /Resize the mask to 64×48, or draw it on the upright image/,
      ),
    );
  });

  it('turns the alpha mask with the image', async () => {
    // Upright: transparent top-left corner. Stored sideways as WebP with orientation 6.
    const upright = rgbaPixels(
      UPRIGHT_WIDTH,
      UPRIGHT_HEIGHT,
      () => [0, 120, 0],
      (x, y) => (x < 16 && y < 16 ? 0 : 255),
    );
    const stored = await fromRgba(upright, UPRIGHT_WIDTH, UPRIGHT_HEIGHT).rotate(-90).png().toBuffer();
    const image = await sharp(stored).withMetadata({ orientation: 6 }).webp({ lossless: true }).toBuffer();
    assert.equal((await sharp(image).metadata()).orientation, 6);

    const result = await imagesSent(image, undefined);

    assert.equal(result.width, UPRIGHT_WIDTH);
    assert.equal(result.height, UPRIGHT_HEIGHT);
    const mask = await decodeMask(result.mask);
    assert.equal(pixel(mask, 8, 8)[0], 255);
    assert.equal(pixel(mask, 56, 8)[0], 0);
    assert.equal(pixel(mask, 8, 40)[0], 0);
  });
});
