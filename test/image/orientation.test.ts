import assert from 'node:assert/strict';
import sharp from 'sharp';
import { prepareFillImages } from '../../lib/image';
import {
  assertNotRedish,
  assertRedish,
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

// The upright picture, as a viewer shows it: 64×48, a red square in the top-left corner.
const W = 64;
const H = 48;
const CORNER = { left: 0, top: 0, width: 16, height: 16 };

/**
 * A phone photo: its pixels stored turned 90° anticlockwise (48×64), with EXIF orientation 6 telling viewers
 * to turn them 90° clockwise.
 */
async function phonePhoto(): Promise<Buffer> {
  const upright = await fromRgb(rgbPixels(W, H, [40, 90, 160], [{ ...CORNER, colour: [230, 20, 20] }]), W, H)
    .png()
    .toBuffer();
  const stored = await sharp(upright).rotate(-90).png().toBuffer();
  return sharp(stored).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer();
}

/** A mask drawn on the upright picture: the red corner is to be filled. */
function uprightMask(): Promise<Buffer> {
  return fromGrey(maskPixels(W, H, [CORNER]), W, H)
    .png()
    .toBuffer();
}

describe('image/EXIF orientation', () => {
  it('the fixture is what a phone writes: pixels stored sideways, orientation 6', async () => {
    const metadata = await sharp(await phonePhoto()).metadata();
    assert.equal(metadata.orientation, 6);
    assert.equal(metadata.width, H);
    assert.equal(metadata.height, W);
  });

  it('sends the photo upright, with the mask drawn on the upright picture lined up', async () => {
    const result = await prepareFillImages(await phonePhoto(), await uprightMask());

    assert.equal(result.width, W);
    assert.equal(result.height, H);
    assert.equal(result.imageFormat, 'jpeg');

    const sent = await decodeRgb(result.image);
    assert.equal(sent.width, W);
    assert.equal(sent.height, H);
    assertRedish(pixel(sent, 8, 8), 'the top-left corner');
    assertNotRedish(pixel(sent, 56, 8), 'the top-right corner');
    assertNotRedish(pixel(sent, 8, 40), 'the bottom-left corner');
    assertNotRedish(pixel(sent, 56, 40), 'the bottom-right corner');

    const mask = await decodeMask(result.mask);
    assert.equal(mask.width, W);
    assert.equal(mask.height, H);
    assert.equal(pixel(mask, 8, 8)[0], 255);
    assert.equal(pixel(mask, 56, 8)[0], 0);
    assert.equal(pixel(mask, 8, 40)[0], 0);
  });

  it('strips the orientation from the bytes sent, so the server cannot turn them again', async () => {
    const result = await prepareFillImages(await phonePhoto(), await uprightMask());
    const metadata = await sharp(result.image).metadata();
    assert.equal(metadata.orientation, undefined);
    assert.equal(metadata.exif, undefined);
    assert.equal(metadata.width, W);
  });

  it('re-encodes a JPEG as JPEG without chroma subsampling', async () => {
    const result = await prepareFillImages(await phonePhoto(), await uprightMask());
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

    const result = await prepareFillImages(await phonePhoto(), mask);

    const decoded = await decodeMask(result.mask);
    assert.equal(decoded.width, W);
    assert.equal(pixel(decoded, 8, 8)[0], 255);
    assert.equal(pixel(decoded, 56, 40)[0], 0);
  });

  it('explains a mask drawn on the stored pixels instead of the upright picture', async () => {
    const sideways = await fromGrey(maskPixels(H, W, [CORNER]), H, W)
      .png()
      .toBuffer();
    await assert.rejects(
      prepareFillImages(await phonePhoto(), sideways),
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
      W,
      H,
      () => [0, 120, 0],
      (x, y) => (x < 16 && y < 16 ? 0 : 255),
    );
    const stored = await fromRgba(upright, W, H).rotate(-90).png().toBuffer();
    const image = await sharp(stored).withMetadata({ orientation: 6 }).webp({ lossless: true }).toBuffer();
    assert.equal((await sharp(image).metadata()).orientation, 6);

    const result = await prepareFillImages(image, undefined);

    assert.equal(result.width, W);
    assert.equal(result.height, H);
    const mask = await decodeMask(result.mask);
    assert.equal(pixel(mask, 8, 8)[0], 255);
    assert.equal(pixel(mask, 56, 8)[0], 0);
    assert.equal(pixel(mask, 8, 40)[0], 0);
  });
});
