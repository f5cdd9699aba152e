/**
 * Which part of the image is sent, and at what size: the whole image, downscaled only when it is over the
 * megapixel cap; or, with cropToMask, the mask's surroundings scaled to the model's working size. Plain
 * arithmetic on boxes; no pixels.
 *
 * Sizes chosen here:
 * - API_MAX_PIXELS = 20 MP is the hard limit. BFL does not document one for FLUX.1 Fill; 20 MP is its
 *   documented input limit for FLUX.2 and what its own SDK enforces for the FLUX.1 tools it validates
 *   (reference/bfl-api.md §9), so it is the largest size with evidence that the API takes it.
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
import { boxArea, expand, growTo, sameBox, wholeImage, type Box } from './box';
import type { ResolvedFillImageOptions } from '../fields';
import { formatPixels } from './limits';

export const API_MAX_PIXELS = 20_000_000;
export const WORKING_PIXELS = 1024 * 1024;
/** A crop longer than this many times its width (or the other way round) gets more context on its short sides. */
const MAX_CROP_ASPECT = 4;
const SIDE_STEP = 32;

export interface SendArea {
  /** The part of the upright image sent, in its pixels. */
  crop: Box;
  /** Size of the image sent. */
  width: number;
  height: number;
  /** Whether the image sent is cropped or scaled (false: the whole image at its own size). */
  resampled: boolean;
}

type AreaOptions = Pick<ResolvedFillImageOptions, 'cropToMask' | 'cropMargin' | 'maxMegapixels'>;

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
  options: Pick<ResolvedFillImageOptions, 'maxMegapixels'>,
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
