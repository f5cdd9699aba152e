/**
 * Masks as MaskRegions (see ./types): the box around the pixels to fill, plus that box's pixels. Conversions
 * to and from planes of any box, PNG, compact storage while a task runs, and resampling that keeps the mask
 * black and white, all in sharp; nothing here loops over pixels in JavaScript.
 */
import sharp, { type ExtendOptions, type Sharp } from 'sharp';
import { boxArea, intersect, relativeTo, sameBox } from './geometry';
import type { Box, MaskRegion, StoredMask } from './types';

const FILL = 255;
/** Largest shrink per resampling step that still lets a single filled pixel show in the smaller mask. */
const MAX_COVERAGE_SHRINK = 8;

export function rawMono(width: number, height: number): { raw: { width: number; height: number; channels: 1 } } {
  return { raw: { width, height, channels: 1 } };
}

/** A pipeline over a width×height plane of one byte per pixel. */
export function mono(plane: Buffer, width: number, height: number): Sharp {
  return sharp(plane, rawMono(width, height));
}

/** sharp's extend options that put a `box`-sized plane at `box` on a width×height canvas of keep (black). */
export function onCanvas(box: Box, width: number, height: number): ExtendOptions {
  return {
    top: box.top,
    left: box.left,
    bottom: height - box.top - box.height,
    right: width - box.left - box.width,
    background: '#000000',
  };
}

/**
 * The region of a 0/255 plane that covers `at` on a width×height canvas, cut to the smallest box holding
 * its filled pixels; undefined when nothing is filled.
 */
export async function regionFromPlane(
  plane: Buffer,
  at: Box,
  width: number,
  height: number,
): Promise<MaskRegion | undefined> {
  // memchr in native code: a search of 40 MB takes milliseconds, no JavaScript loop over pixels.
  if (plane.indexOf(FILL) === -1) return undefined;
  // sharp refuses to trim anything smaller than 3×3; such a plane is its own box.
  if (at.width < 3 && at.height < 3) return { width, height, box: { ...at }, data: plane };
  // lineArt: no median filter first, so a single filled pixel counts; threshold 0: any non-black pixel.
  const { data, info } = await mono(plane, at.width, at.height)
    .trim({ background: '#000000', threshold: 0, lineArt: true })
    .toColourspace('b-w')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const box = {
    left: at.left - (info.trimOffsetLeft ?? 0),
    top: at.top - (info.trimOffsetTop ?? 0),
    width: info.width,
    height: info.height,
  };
  return { width, height, box, data };
}

/** The mask's pixels over `box` (any box on the canvas), 0 wherever the region has none. */
export async function regionPlane(region: MaskRegion, box: Box): Promise<Buffer> {
  if (sameBox(box, region.box)) return region.data;
  const overlap = intersect(region.box, box);
  if (boxArea(overlap) === 0) return Buffer.alloc(boxArea(box));
  return mono(region.data, region.box.width, region.box.height)
    .extract(relativeTo(overlap, region.box))
    .extend(onCanvas(relativeTo(overlap, box), box.width, box.height))
    .toColourspace('b-w')
    .raw()
    .toBuffer();
}

/** The whole mask as a single-channel PNG, 0 keep and 255 fill. */
export async function regionToPng(region: MaskRegion): Promise<Buffer> {
  const { box } = region;
  return mono(region.data, box.width, box.height)
    .extend(onCanvas(box, region.width, region.height))
    .toColourspace('b-w')
    .png()
    .toBuffer();
}

export async function storeRegion(region: MaskRegion): Promise<StoredMask> {
  const png = await mono(region.data, region.box.width, region.box.height)
    .toColourspace('b-w')
    .png({ compressionLevel: 6 })
    .toBuffer();
  return { width: region.width, height: region.height, box: region.box, png };
}

export async function loadRegion(stored: StoredMask): Promise<MaskRegion> {
  const data = await sharp(stored.png).toColourspace('b-w').raw().toBuffer();
  return { width: stored.width, height: stored.height, box: stored.box, data };
}

/**
 * Resamples a 0/255 plane to another size and makes it black and white again.
 * - 'any': a pixel is filled when any filled pixel of the source touches it, so the smaller mask covers
 *   every filled pixel of the larger one (at most one target pixel more all round). Big shrinks go in steps,
 *   each small enough for one filled pixel to leave a trace.
 * - 'half': filled when at least half filled: the outline stays where it was, give or take half a pixel.
 */
export async function resampleMask(
  plane: Buffer,
  from: { width: number; height: number },
  to: { width: number; height: number },
  rule: 'any' | 'half',
): Promise<Buffer> {
  let data = plane;
  let { width, height } = from;
  for (;;) {
    const stepWidth = rule === 'any' ? Math.max(to.width, Math.ceil(width / MAX_COVERAGE_SHRINK)) : to.width;
    const stepHeight = rule === 'any' ? Math.max(to.height, Math.ceil(height / MAX_COVERAGE_SHRINK)) : to.height;
    data = await mono(data, width, height)
      .resize(stepWidth, stepHeight, { fit: 'fill', kernel: 'linear' })
      .threshold(rule === 'any' ? 1 : 128)
      .toColourspace('b-w')
      .raw()
      .toBuffer();
    width = stepWidth;
    height = stepHeight;
    if (width === to.width && height === to.height) return data;
  }
}
