/**
 * The sides an expand adds: from an aspect ratio and an anchor, and the checks that they fit what the API
 * takes. Plain integer arithmetic, no pixels.
 */
import { EXPAND_LIMITS } from '../api/models';
import { invalidInput } from '../errors';
import { text, type TextParams } from '../messages';
import { formatPixels } from './input';
import type { Anchor, Sides } from './types';

export const ANCHORS: readonly Anchor[] = [
  'center',
  'top',
  'bottom',
  'left',
  'right',
  'top-left',
  'top-right',
  'bottom-left',
  'bottom-right',
];

/** `added` pixels split around the original: all after it (anchored at the start), all before it, or halved. */
function split(added: number, at: 'start' | 'end' | 'middle'): [number, number] {
  if (at === 'start') return [0, added];
  if (at === 'end') return [added, 0];
  const before = Math.floor(added / 2);
  return [before, added - before];
}

/**
 * The sides that make a width×height image `ratio` wide, growing it in one direction only: wider when it is
 * too narrow, taller when it is too wide. The anchor says where the original stays.
 */
export function sidesForRatio(
  width: number,
  height: number,
  ratio: { width: number; height: number },
  anchor: Anchor,
): Sides {
  const target = ratio.width / ratio.height;
  const horizontal = anchor.includes('left') ? 'start' : anchor.includes('right') ? 'end' : 'middle';
  const vertical = anchor.startsWith('top') ? 'start' : anchor.startsWith('bottom') ? 'end' : 'middle';
  const sides: Sides = { top: 0, bottom: 0, left: 0, right: 0 };
  if (width / height < target) {
    [sides.left, sides.right] = split(Math.max(0, Math.round(height * target) - width), horizontal);
  } else {
    [sides.top, sides.bottom] = split(Math.max(0, Math.round(width / target) - height), vertical);
  }
  return sides;
}

/**
 * BFL_INVALID_INPUT unless the expand can be sent: something to add, each side within the API's range, an
 * input of at least 256 pixels a side and at most 20 MP, and an expanded picture of at most 20 MP.
 */
export function checkExpand(width: number, height: number, sides: Sides, property: string): void {
  const { maxSide, minInputSide, maxInputPixels, maxOutputPixels } = EXPAND_LIMITS;
  const refuse = (key: string, params: TextParams): never => {
    throw invalidInput(text(`expand.${key}`, { property, width, height, ...params }));
  };
  if (sides.top + sides.bottom + sides.left + sides.right === 0) refuse('nothingToAdd', {});
  for (const side of ['top', 'bottom', 'left', 'right'] as const) {
    const pixels = sides[side];
    if (pixels > maxSide) refuse('sideTooLarge', { side: text(`field.label.${side}`), pixels, max: maxSide });
  }
  if (Math.min(width, height) < minInputSide) refuse('inputTooSmall', { min: minInputSide });
  if (width * height > maxInputPixels) refuse('inputTooLarge', { limit: formatPixels(maxInputPixels) });
  const outWidth = width + sides.left + sides.right;
  const outHeight = height + sides.top + sides.bottom;
  if (outWidth * outHeight > maxOutputPixels) {
    refuse('outputTooLarge', {
      outWidth,
      outHeight,
      pixels: formatPixels(outWidth * outHeight),
      limit: formatPixels(maxOutputPixels),
    });
  }
}
