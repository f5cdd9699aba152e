/**
 * Boxes, and which part of the image is sent at what size: the whole image, downscaled only when it is over
 * the megapixel cap; or, with cropToMask, the mask's surroundings scaled to the model's working size. Plain
 * integer arithmetic on boxes, no pixels, so every later stage can use it.
 *
 * Sizes chosen here:
 * - API_MAX_PIXELS = 20 MP is the hard limit. BFL does not document one for FLUX.1 Fill; 20 MP is its
 *   documented input limit for FLUX.2 and what its own SDK enforces for the FLUX.1 tools it validates, so it
 *   is the largest size with evidence that the API takes it.
 * - There is no cap by default (the node's contract: an empty maxMegapixels means none), so an image goes as
 *   it is up to the hard limit. A cap of about 4 MP is a sensible choice for big snapshots: BFL's FLUX.1
 *   models output up to about 1.6 MP, so more detail than that is not generated anyway, and ComfyUI's
 *   official Fill node sends at most 2048×2048. With paste-back, the pixels outside the mask keep the input's
 *   full resolution whatever the cap.
 * - WORKING_PIXELS = 1024×1024 for crops: FLUX.1's native resolution. A crop is never upscaled more than 2×:
 *   a small mask gets more context (the crop grows to at least a quarter of the working size) instead. A crop
 *   that would take the whole image is no crop: the image is sent as without cropToMask.
 * - Sides of a resampled image are multiples of 32 (FLUX's latents are 1/8 of the image, packed in 2×2
 *   patches; FLUX.1's text-to-image sizes must be multiples of 32), so the server has nothing to crop or pad.
 */
import { invalidInput } from '../errors';
import { text } from '../messages';
import { formatPixels } from './input';
import type { Box, ImageOptions } from './types';

export const API_MAX_PIXELS = 20_000_000;
export const WORKING_PIXELS = 1024 * 1024;
/** A crop longer than this many times its width (or the other way round) gets more context on its short sides. */
const MAX_CROP_ASPECT = 4;
const SIDE_STEP = 32;

export function boxArea(box: Box): number {
  return box.width * box.height;
}

export function wholeImage(width: number, height: number): Box {
  return { left: 0, top: 0, width, height };
}

export function sameBox(a: Box, b: Box): boolean {
  return a.left === b.left && a.top === b.top && a.width === b.width && a.height === b.height;
}

/** The overlap of two boxes; width and height are 0 when they do not overlap. */
export function intersect(a: Box, b: Box): Box {
  const left = Math.max(a.left, b.left);
  const top = Math.max(a.top, b.top);
  const right = Math.min(a.left + a.width, b.left + b.width);
  const bottom = Math.min(a.top + a.height, b.top + b.height);
  return { left, top, width: Math.max(0, right - left), height: Math.max(0, bottom - top) };
}

/** `box` grown by `by` pixels on every side, then clipped to `within`. */
export function expand(box: Box, by: number, within: Box): Box {
  return intersect(
    { left: box.left - by, top: box.top - by, width: box.width + 2 * by, height: box.height + 2 * by },
    within,
  );
}

/** `box` relative to `origin`'s top left corner. */
export function relativeTo(box: Box, origin: Box): Box {
  return { left: box.left - origin.left, top: box.top - origin.top, width: box.width, height: box.height };
}

/**
 * A box of at least `width`×`height` (each no larger than `within`) that still holds `box`: grown evenly on
 * both sides, then shifted back inside `within` where it would stick out.
 */
function growTo(box: Box, width: number, height: number, within: Box): Box {
  const newWidth = Math.min(within.width, Math.max(box.width, Math.ceil(width)));
  const newHeight = Math.min(within.height, Math.max(box.height, Math.ceil(height)));
  const left = clamp(
    box.left - Math.floor((newWidth - box.width) / 2),
    within.left,
    within.left + within.width - newWidth,
  );
  const top = clamp(
    box.top - Math.floor((newHeight - box.height) / 2),
    within.top,
    within.top + within.height - newHeight,
  );
  return { left, top, width: newWidth, height: newHeight };
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}

export interface SendArea {
  /** The part of the upright image sent, in its pixels. */
  crop: Box;
  /** Size of the image sent. */
  width: number;
  height: number;
  /** Whether the image sent is cropped or scaled (false: the whole image at its own size). */
  resampled: boolean;
}

type AreaOptions = Pick<ImageOptions, 'cropToMask' | 'cropMargin' | 'maxMegapixels'>;

/**
 * `maskBox`: the filled pixels' box. BFL_INVALID_INPUT when the whole image would be sent and is over the
 * API's limit with the cap turned off.
 */
export function planSendArea(
  imageWidth: number,
  imageHeight: number,
  maskBox: Box,
  options: AreaOptions,
  property = 'msg.payload',
): SendArea {
  const image = wholeImage(imageWidth, imageHeight);
  const cap = options.maxMegapixels > 0 ? options.maxMegapixels * 1_000_000 : API_MAX_PIXELS;
  const crop = options.cropToMask
    ? cropAround(maskBox, options.cropMargin, image, Math.min(WORKING_PIXELS, cap))
    : image;

  // A crop that takes the whole image is no crop: the image goes as it is, or downscaled to the cap.
  if (sameBox(crop, image)) {
    checkSendable(imageWidth, imageHeight, options, property);
    if (boxArea(image) <= cap) return { crop: image, width: imageWidth, height: imageHeight, resampled: false };
    return { crop: image, ...scaledSize(image, cap, cap), resampled: true };
  }
  return { crop, ...scaledSize(crop, Math.min(WORKING_PIXELS, cap), cap), resampled: true };
}

/**
 * BFL_INVALID_INPUT when the whole image would go as it is and is over the API's limit: the cap is off
 * (maxMegapixels 0). With cropToMask a crop may still fit, so only planSendArea can tell then; without it,
 * this check needs no mask and runs before any decoding.
 */
export function checkSendable(
  imageWidth: number,
  imageHeight: number,
  options: Pick<ImageOptions, 'maxMegapixels'>,
  property = 'msg.payload',
): void {
  const pixels = imageWidth * imageHeight;
  if (options.maxMegapixels > 0 || pixels <= API_MAX_PIXELS) return;
  throw invalidInput(
    text('geometry.overApiLimit', {
      property,
      width: imageWidth,
      height: imageHeight,
      pixels: formatPixels(pixels),
      limit: formatPixels(API_MAX_PIXELS),
    }),
  );
}

/**
 * The mask's box plus `margin`, grown to at least a quarter of `target` pixels (so it is never upscaled more
 * than 2×) and to an aspect ratio of at most 4:1, within the image.
 */
function cropAround(maskBox: Box, margin: number, image: Box, target: number): Box {
  let crop = expand(maskBox, margin, image);
  const minArea = target / 4;
  if (boxArea(crop) < minArea) {
    const grow = Math.sqrt(minArea / boxArea(crop));
    crop = growTo(crop, crop.width * grow, crop.height * grow, image);
    // Grown against an image edge: the other side takes what is left.
    if (boxArea(crop) < minArea) crop = growTo(crop, minArea / crop.height, minArea / crop.width, image);
  }
  if (crop.width > MAX_CROP_ASPECT * crop.height) {
    crop = growTo(crop, crop.width, crop.width / MAX_CROP_ASPECT, image);
  } else if (crop.height > MAX_CROP_ASPECT * crop.width) {
    crop = growTo(crop, crop.height / MAX_CROP_ASPECT, crop.height, image);
  }
  return crop;
}

/** `box` scaled to about `target` pixels, sides rounded to multiples of 32, never over `cap`. */
function scaledSize(box: Box, target: number, cap: number): { width: number; height: number } {
  const scale = Math.sqrt(target / boxArea(box));
  let width = Math.max(SIDE_STEP, Math.round((box.width * scale) / SIDE_STEP) * SIDE_STEP);
  let height = Math.max(SIDE_STEP, Math.round((box.height * scale) / SIDE_STEP) * SIDE_STEP);
  if (width * height > cap) {
    width = Math.max(SIDE_STEP, Math.floor((box.width * scale) / SIDE_STEP) * SIDE_STEP);
    height = Math.max(SIDE_STEP, Math.floor((box.height * scale) / SIDE_STEP) * SIDE_STEP);
  }
  return { width, height };
}
