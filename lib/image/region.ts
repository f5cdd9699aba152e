/**
 * Masks as MaskRegions (see ./types): the box around the pixels to fill, plus that box's pixels. Conversions
 * to and from planes of any box, PNG, compact storage while a task runs, and resampling that keeps the mask
 * black and white, in sharp or in native searches of a row at a time; nothing here loops over pixels in
 * JavaScript.
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
  const box = filledBox(plane, at.width);
  if (!box) return undefined;
  const placed = { left: at.left + box.left, top: at.top + box.top, width: box.width, height: box.height };
  if (box.width === at.width && box.height === at.height) return { width, height, box: placed, data: plane };
  const data = Buffer.allocUnsafe(box.width * box.height);
  for (let y = 0; y < box.height; y += 1) {
    const start = (box.top + y) * at.width + box.left;
    plane.copy(data, y * box.width, start, start + box.width);
  }
  return { width, height, box: placed, data };
}

/**
 * The smallest box around a plane's filled pixels, undefined when there are none. memchr in native code
 * does the searching, a row at a time and only outside the box found so far, so each byte is looked at about
 * once: a few milliseconds for 12 MP, and far less than a sharp pipeline's fixed cost for a small mask.
 */
function filledBox(plane: Buffer, stride: number): Box | undefined {
  const first = plane.indexOf(FILL);
  if (first === -1) return undefined;
  const last = plane.lastIndexOf(FILL);
  const top = Math.floor(first / stride);
  const bottom = Math.floor(last / stride);
  let left = Math.min(first - top * stride, last - bottom * stride);
  let right = Math.max(first - top * stride, last - bottom * stride);
  for (let y = top; y <= bottom; y += 1) {
    const row = y * stride;
    if (left > 0) {
      const found = plane.subarray(row, row + left).indexOf(FILL);
      if (found !== -1) left = found;
    }
    if (right < stride - 1) {
      const found = plane.subarray(row + right + 1, row + stride).lastIndexOf(FILL);
      if (found !== -1) right += 1 + found;
    }
  }
  return { left, top, width: right - left + 1, height: bottom - top + 1 };
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
