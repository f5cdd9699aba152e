/**
 * The image options of a fill: how the mask is shaped (invert, grow, feather), what part of the image is
 * sent and at what size (crop to the mask, megapixel cap), and whether the result is pasted back into the
 * original. The names are the bfl-fill node's property names. Values come from the node (possibly as
 * strings from the editor); anything unusable is a BFL_INVALID_INPUT naming the option.
 */
import { inspect } from 'node:util';
import { invalidInput } from './errors';
import { text, type Text } from './messages';
import type { ImageOptions } from './image/types';
import { isGiven, toNumber } from './values';

export interface FillImageOptions {
  /** Fill what the mask marks as keep, and keep what it marks as fill. Default false. */
  maskInvert?: unknown;
  /** Grow the area to fill by this many pixels (of the input image) in every direction. Default 0. */
  maskGrow?: unknown;
  /**
   * Blend the generated pixels in over a ramp this many pixels wide, inside the area to fill (the pixels
   * outside it stay untouched). Only for paste-back: the mask sent to the API stays black and white. Default 0.
   */
  maskFeather?: unknown;
  /** Compose the result so that every pixel outside the mask is the input's. Default true. */
  pasteBack?: unknown;
  /** Send only the mask's surroundings, at about 1 megapixel, and stitch the result back in. Default false. */
  cropToMask?: unknown;
  /** With cropToMask: pixels of context around the mask. Default 64. */
  cropMargin?: unknown;
  /**
   * Largest image sent, in megapixels; bigger images are downscaled before sending and the generated area
   * scaled back up. Empty or 0 (the default): no cap; images over the API's 20 MP are then refused.
   */
  maxMegapixels?: unknown;
}

export type ResolvedFillImageOptions = ImageOptions;

export const FILL_IMAGE_DEFAULTS: Readonly<ResolvedFillImageOptions> = Object.freeze({
  maskInvert: false,
  maskGrow: 0,
  maskFeather: 0,
  pasteBack: true,
  cropToMask: false,
  cropMargin: 64,
  maxMegapixels: 0,
});

export const FILL_IMAGE_LIMITS = Object.freeze({
  maskGrow: { min: 0, max: 1000 },
  maskFeather: { min: 0, max: 1000 },
  cropMargin: { min: 0, max: 10_000 },
  /** 0 turns the cap off; otherwise from 0.25 MP (512×512) to the API's 20 MP. */
  maxMegapixels: { min: 0.25, max: 20 },
});

type OptionName = keyof ResolvedFillImageOptions;

function shown(value: unknown): Text | string {
  if (typeof value === 'string') {
    return text('geometry.value.quoted', { text: value.length > 40 ? `${value.slice(0, 40)}…` : value });
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return inspect(value, { depth: 0, breakLength: Infinity }).slice(0, 60);
}

function booleanOption(name: OptionName, value: unknown, fallback: boolean): boolean {
  if (!isGiven(value)) return fallback;
  if (value === true || value === 'true' || value === 1) return true;
  if (value === false || value === 'false' || value === 0) return false;
  throw invalidInput(
    text('geometry.option.boolean', { name: text(`geometry.option.name.${name}`), value: shown(value) }),
  );
}

function wholeNumberOption(name: 'maskGrow' | 'maskFeather' | 'cropMargin', value: unknown, fallback: number): number {
  if (!isGiven(value)) return fallback;
  const { min, max } = FILL_IMAGE_LIMITS[name];
  const parsed = toNumber(value);
  if (parsed === undefined || !Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw invalidInput(
      text('geometry.option.wholeNumberRange', {
        name: text(`geometry.option.name.${name}`),
        min,
        max,
        value: shown(value),
      }),
    );
  }
  return parsed;
}

function megapixelOption(value: unknown, fallback: number): number {
  if (!isGiven(value)) return fallback;
  const { min, max } = FILL_IMAGE_LIMITS.maxMegapixels;
  const parsed = toNumber(value);
  if (parsed === undefined || !Number.isFinite(parsed) || (parsed !== 0 && (parsed < min || parsed > max))) {
    throw invalidInput(text('geometry.option.megapixels', { min, max, value: shown(value) }));
  }
  return parsed;
}

/** Fills in defaults and checks every option; `options` may be a node's raw property values. */
export function resolveImageOptions(options: FillImageOptions = {}): ResolvedFillImageOptions {
  const d = FILL_IMAGE_DEFAULTS;
  return {
    maskInvert: booleanOption('maskInvert', options.maskInvert, d.maskInvert),
    maskGrow: wholeNumberOption('maskGrow', options.maskGrow, d.maskGrow),
    maskFeather: wholeNumberOption('maskFeather', options.maskFeather, d.maskFeather),
    pasteBack: booleanOption('pasteBack', options.pasteBack, d.pasteBack),
    cropToMask: booleanOption('cropToMask', options.cropToMask, d.cropToMask),
    cropMargin: wholeNumberOption('cropMargin', options.cropMargin, d.cropMargin),
    maxMegapixels: megapixelOption(options.maxMegapixels, d.maxMegapixels),
  };
}
