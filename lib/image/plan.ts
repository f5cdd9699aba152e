/**
 * Before submitting, the one way images are prepared: from msg.payload and msg.mask (an image, shapes, or
 * the image's alpha) to the image and mask the API gets, and the geometry composeResult needs afterwards to
 * put the generated image back into the original. Everything that can be refused is refused here, before a
 * task exists, so bad input costs no credit.
 *
 * Steps: read both inputs -> the mask as a region -> invert -> grow -> choose the part of the image sent and
 * its size -> the sent mask and the sent image.
 */
import { invalidInput } from '../errors';
import { text } from '../messages';
import { checkSendable, planSendArea } from './geometry';
import { IMAGE_PROPERTY, MASK_PROPERTY, probe, readBytes, resolveLimits } from './input';
import { growMask, invertMask, readMask } from './masks';
import { loadRegion, regionToPng, storeRegion } from './region';
import { sentImage, sentMask } from './send';
import { DRAWN_PROPERTY, isShapeMask, parseDrawnShapes, parseShapes } from './shapes';
import type { FillGeometry, ImageLimits, ImageOptions, PreparedImages, SourceImage } from './types';

export interface PlannedInputs {
  /** What FillService.run submits. */
  images: PreparedImages;
  geometry: FillGeometry;
}

/**
 * image: msg.payload; mask: msg.mask (an image, shapes, or undefined/null for the image's alpha channel);
 * options: the node's image options, checked and complete.
 */
export async function planInputs(
  image: unknown,
  mask: unknown,
  options: ImageOptions,
  limits?: ImageLimits,
): Promise<PlannedInputs> {
  const resolvedLimits = resolveLimits(limits);
  // Everything checkable without decoding is checked first, so a wrong type is reported at once.
  const imageBytes = readBytes(image, IMAGE_PROPERTY, resolvedLimits);
  const noMask = mask === undefined || mask === null;
  // msg.mask wins over the node's drawn shapes; the alpha channel is the mask only without either.
  const drawn = noMask && options.maskShapes?.length ? options.maskShapes : undefined;
  const maskProperty = drawn ? DRAWN_PROPERTY : MASK_PROPERTY;
  const shapes = drawn
    ? parseDrawnShapes(drawn)
    : !noMask && isShapeMask(mask)
      ? parseShapes(mask, MASK_PROPERTY)
      : undefined;
  const maskBytes = noMask || shapes ? undefined : readBytes(mask, MASK_PROPERTY, resolvedLimits);
  const alpha = noMask && !drawn;

  const source = await probe(imageBytes, IMAGE_PROPERTY, resolvedLimits);
  const { width, height } = source;
  if (!options.cropToMask) checkSendable(width, height, options, IMAGE_PROPERTY);

  // The mask first: the cheaper half and the likelier to be refused, and one at a time leaves sharp's
  // threads to other flows.
  let region = await readMask(source, shapes, maskBytes, resolvedLimits, options.maskInvert, maskProperty);
  if (options.maskInvert) {
    region = await invertMask(region, width, height);
    if (!region) {
      throw invalidInput(text('geometry.invertedNothing', { property: alpha ? IMAGE_PROPERTY : maskProperty }));
    }
  }
  if (!region) throw new Error('Internal error: no mask region');
  region = await growMask(region, options.maskGrow);

  const area = planSendArea(width, height, region.box, options, IMAGE_PROPERTY);
  const maskPng = await sentMask(region, area);
  const sent = await sentImage(source, area);

  const geometry: FillGeometry = {
    width,
    height,
    crop: area.crop,
    sentWidth: sent.width,
    sentHeight: sent.height,
    resampled: area.resampled,
    mask: await storeRegion(region),
    source,
    flattenSource: needsFlattening(source),
    options,
  };
  return {
    images: {
      image: sent.image,
      imageFormat: sent.imageFormat,
      mask: maskPng,
      maskSource: alpha ? 'alpha' : 'mask',
      width: sent.width,
      height: sent.height,
    },
    geometry,
  };
}

/** The final mask at full size as a PNG (255 fill, 0 keep), e.g. for a preview. */
export async function geometryMaskPng(geometry: FillGeometry): Promise<Buffer> {
  return regionToPng(await loadRegion(geometry.mask));
}

/** Compositing over an 8-bit RGB image keeps its pixels exactly; alpha, 16 bits or CMYK must go first. */
export function needsFlattening(source: SourceImage): boolean {
  if (source.hasAlpha || source.space === 'cmyk') return true;
  return source.depth !== 'uchar' || (source.space !== 'srgb' && source.space !== 'b-w');
}
