/**
 * Before submitting an expand: msg.payload read and checked, the sides worked out (given, or from an aspect
 * ratio) and checked against the API's limits, and the image sent: as it is (without its metadata) or
 * re-encoded upright without alpha, exactly as a fill sends its image. Everything refusable is refused here.
 */
import { wholeImage } from './geometry';
import { IMAGE_PROPERTY, probe, readBytes, resolveLimits } from './input';
import { needsFlattening } from './plan';
import { sentImage } from './send';
import { checkExpand, sidesForRatio } from './sides';
import type { ExpandGeometry, ExpandLayout, ExpandOptions, ImageFormat, ImageLimits, Sides } from './types';

export interface PlannedExpand {
  /** What FillService.run submits: the image alone. */
  images: { image: Buffer; imageFormat: ImageFormat; width: number; height: number };
  sides: Sides;
  geometry: ExpandGeometry;
}

export async function planExpand(
  image: unknown,
  layout: ExpandLayout,
  options: ExpandOptions,
  limits?: ImageLimits,
): Promise<PlannedExpand> {
  const resolvedLimits = resolveLimits(limits);
  const source = await probe(readBytes(image, IMAGE_PROPERTY, resolvedLimits), IMAGE_PROPERTY, resolvedLimits);
  const { width, height } = source;
  const sides = 'sides' in layout ? layout.sides : sidesForRatio(width, height, layout.aspectRatio, layout.anchor);
  checkExpand(width, height, sides, IMAGE_PROPERTY);
  const sent = await sentImage(source, { crop: wholeImage(width, height), width, height, resampled: false });
  const geometry: ExpandGeometry = {
    kind: 'expand',
    width: width + sides.left + sides.right,
    height: height + sides.top + sides.bottom,
    sides,
    source,
    flattenSource: needsFlattening(source),
    options,
  };
  return { images: sent, sides, geometry };
}
