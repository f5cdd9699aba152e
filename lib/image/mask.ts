/**
 * The bytes sent as `mask`: a single-channel PNG, 255 where the image is to be filled and 0 where it is
 * kept, nothing in between (the API's handling of grey is undocumented; reference/bfl-api.md §2).
 * Built from msg.mask, or from the image's alpha channel when there is no msg.mask.
 */
import sharp from 'sharp';
import { invalidInput } from '../bfl/errors';
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
  const turned = image.orientation !== 1;
  const upright = turned ? ` once its EXIF orientation (${image.orientation}) is applied` : '';
  const drawnOnStoredPixels =
    turned && mask.width === image.storedWidth && mask.height === image.storedHeight
      ? " The mask matches the image's pixels as stored, before that orientation: draw it on the upright " +
        'picture, as image viewers show it.'
      : '';
  throw invalidInput(
    `${mask.property} is ${mask.width}×${mask.height} but ${image.property} is ${image.width}×${image.height}` +
      `${upright}; they must be the same size.${drawnOnStoredPixels} Resize the mask to ` +
      `${image.width}×${image.height}, or draw it on the upright image.`,
  );
}

/**
 * Any decodable image: transparent areas count as black (keep), so a layer of white strokes on transparency
 * works as a mask; then greyscale, and 128 or brighter fills. sharp applies flatten, greyscale and threshold
 * in that order whatever the call order.
 */
export async function maskFromImage(mask: SourceImage): Promise<Buffer> {
  const binary = await decode(mask, (image) =>
    image
      .autoOrient()
      .flatten({ background: '#000000' })
      .greyscale()
      .threshold(128)
      .toColourspace('b-w')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true }),
  );
  return encodeMask(
    binary,
    () =>
      `${mask.property} has no white pixel (none is 128 or brighter in greyscale), so nothing would be filled. ` +
      'Paint the area to fill white and the rest black.',
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
  return encodeMask(
    binary,
    () =>
      `${image.property} has an alpha channel but no transparent pixel (alpha below 128), so nothing would be ` +
      'filled. Make the area to fill transparent, or send a mask in msg.mask (white = fill, black = keep).',
  );
}

async function threshold(plane: RawPlane): Promise<RawPlane> {
  const raw = singleChannel(plane);
  return sharp(plane.data, { raw }).threshold(128).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
}

async function encodeMask(binary: RawPlane, nothingToFill: () => string): Promise<Buffer> {
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
