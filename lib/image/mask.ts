/**
 * The bytes sent as `mask`: a single-channel PNG, 255 where the image is to be filled and 0 where it is
 * kept, nothing in between (the API's handling of grey is undocumented; reference/bfl-api.md §2).
 * Built from msg.mask, or from the image's alpha channel when there is no msg.mask.
 */
import sharp, { type OutputInfo } from 'sharp';
import { invalidInput } from '../errors';
import { text, type Text } from '../messages';
import { decode, type SourceImage } from './decode';

const FILL = 255;

interface RawPlane {
  data: Buffer;
  info: { width: number; height: number; channels: number };
}

/**
 * Both sizes are compared upright, so a mask drawn on the picture as viewers show it fits a phone photo
 * whose pixels are stored sideways.
 */
export function checkSameSize(mask: SourceImage, image: SourceImage): void {
  if (mask.width === image.width && mask.height === image.height) return;
  const params = {
    mask: mask.property,
    maskWidth: mask.width,
    maskHeight: mask.height,
    image: image.property,
    width: image.width,
    height: image.height,
  };
  if (image.orientation === 1) throw invalidInput(text('mask.sizeMismatch', params));
  const drawnOnStoredPixels = mask.width === image.storedWidth && mask.height === image.storedHeight;
  throw invalidInput(
    text(drawnOnStoredPixels ? 'mask.sizeMismatchStored' : 'mask.sizeMismatchOriented', {
      ...params,
      orientation: image.orientation,
    }),
  );
}

/**
 * Any decodable image: transparent areas count as black (keep), so a layer of white strokes on transparency
 * works as a mask; then greyscale, and 128 or brighter fills. sharp applies flatten, greyscale and threshold
 * in that order whatever the call order.
 */
export async function maskFromImage(mask: SourceImage): Promise<Buffer> {
  const binary = await decodeBinaryMask(mask);
  return encodeMask(binary, () => text('mask.noWhite', { property: mask.property }));
}

/** A mask image as one upright plane of 0 and 255, by the rule above. */
export function decodeBinaryMask(mask: SourceImage): Promise<{ data: Buffer; info: OutputInfo }> {
  return decode(mask, (image) =>
    image
      .autoOrient()
      .flatten({ background: '#000000' })
      .greyscale()
      .threshold(128)
      .toColourspace('b-w')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true }),
  );
}

/** Transparent (alpha below 128) fills. */
export async function maskFromAlpha(image: SourceImage): Promise<Buffer> {
  // sharp thresholds before it extracts a channel, so the alpha comes out first and is thresholded in a
  // step of its own. It comes out as 8 bits even from a 16-bit image (sharp converts to 8-bit sRGB before
  // extracting), and negated: 255 - alpha >= 128 exactly when alpha < 128.
  const inverseAlpha = await decode(image, (pipeline) =>
    pipeline
      .autoOrient()
      .extractChannel('alpha')
      .negate()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true }),
  );
  const binary = await threshold(inverseAlpha);
  return encodeMask(binary, () => text('mask.noTransparent', { property: image.property }));
}

async function threshold(plane: RawPlane): Promise<RawPlane> {
  const raw = singleChannel(plane);
  return sharp(plane.data, { raw }).threshold(128).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
}

async function encodeMask(binary: RawPlane, nothingToFill: () => Text): Promise<Buffer> {
  const raw = singleChannel(binary);
  // memchr in native code: a search of 40 MB takes milliseconds, no JavaScript loop over pixels.
  if (binary.data.indexOf(FILL) === -1) throw invalidInput(nothingToFill());
  return sharp(binary.data, { raw }).toColourspace('b-w').png().toBuffer();
}

function singleChannel(plane: RawPlane): { width: number; height: number; channels: 1 } {
  if (plane.info.channels !== 1) {
    throw new Error(`Internal error: expected one mask channel from sharp, got ${plane.info.channels}`);
  }
  return { width: plane.info.width, height: plane.info.height, channels: 1 };
}
