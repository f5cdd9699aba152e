/** Helpers for the shape, mask-operation, crop and paste-back tests: pictures and planes made with sharp. */
import assert from 'node:assert/strict';
import sharp, { type Sharp } from 'sharp';
import type { Box } from '../../lib/image/box';
import type { MaskRegion } from '../../lib/image/mask-region';

/**
 * A photo-like picture: Gaussian noise, slightly blurred, so every pixel differs from its neighbours and
 * JPEG has real work to do (a flat or gradient picture would compress to nothing).
 */
export function photo(width: number, height: number): Sharp {
  return sharp({
    create: { width, height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } },
  }).blur(1.2);
}

export async function photoPng(width: number, height: number): Promise<Buffer> {
  return photo(width, height).png().toBuffer();
}

/** A flat colour in `format` at width×height: what the tests use as the "generated" image. */
export async function flat(
  width: number,
  height: number,
  colour: { r: number; g: number; b: number },
  format: 'png' | 'jpeg' | 'webp' = 'png',
): Promise<Buffer> {
  const image = sharp({ create: { width, height, channels: 3, background: colour } });
  return (format === 'png' ? image.png() : format === 'jpeg' ? image.jpeg({ quality: 95 }) : image.webp()).toBuffer();
}

export const RED = { r: 255, g: 0, b: 0 };

export interface Rgb {
  data: Buffer;
  width: number;
  height: number;
}

/** 8-bit RGB pixels of an encoded image as sharp decodes it, upright, alpha dropped. */
export async function rgbOf(image: Buffer): Promise<Rgb> {
  const { data, info } = await sharp(image)
    .autoOrient()
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 3);
  return { data, width: info.width, height: info.height };
}

/** One byte per pixel of a mask PNG. */
export async function planeOf(png: Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

export function countFilled(plane: Buffer): number {
  let count = 0;
  for (const value of plane) if (value !== 0) count += 1;
  return count;
}

/** The set of filled pixels of a width-wide plane, as "x,y" strings. */
export function filledPixels(plane: Buffer, width: number): Set<string> {
  const pixels = new Set<string>();
  plane.forEach((value, index) => {
    if (value !== 0) pixels.add(`${index % width},${Math.floor(index / width)}`);
  });
  return pixels;
}

/** The "x,y" strings of every pixel of `box`. */
export function boxPixels(box: Box): Set<string> {
  const pixels = new Set<string>();
  for (let y = box.top; y < box.top + box.height; y += 1) {
    for (let x = box.left; x < box.left + box.width; x += 1) pixels.add(`${x},${y}`);
  }
  return pixels;
}

/** A full-size 0/255 plane with `fill(x, y)` deciding each pixel. */
export function planeFrom(width: number, height: number, fill: (x: number, y: number) => boolean): Buffer {
  const plane = Buffer.alloc(width * height);
  for (let y = 0; y < height; y += 1) for (let x = 0; x < width; x += 1) if (fill(x, y)) plane[y * width + x] = 255;
  return plane;
}

/** The region's mask expanded to a full-size plane (in JavaScript: test images are small). */
export function fullPlane(region: MaskRegion): Buffer {
  const plane = Buffer.alloc(region.width * region.height);
  const { box } = region;
  for (let y = 0; y < box.height; y += 1) {
    region.data.copy(plane, (box.top + y) * region.width + box.left, y * box.width, (y + 1) * box.width);
  }
  return plane;
}

/** Pixel offsets (pixel index) where a and b differ in any channel, given a per-pixel predicate to check. */
export function differingPixels(a: Rgb, b: Rgb, where: (x: number, y: number) => boolean): number {
  assert.equal(a.width, b.width);
  assert.equal(a.height, b.height);
  let count = 0;
  for (let y = 0; y < a.height; y += 1) {
    for (let x = 0; x < a.width; x += 1) {
      if (!where(x, y)) continue;
      const at = (y * a.width + x) * 3;
      if (a.data[at] !== b.data[at] || a.data[at + 1] !== b.data[at + 1] || a.data[at + 2] !== b.data[at + 2]) {
        count += 1;
      }
    }
  }
  return count;
}

/** Mean and largest absolute channel difference over the pixels `where` selects. */
export function channelDifference(
  a: Rgb,
  b: Rgb,
  where: (x: number, y: number) => boolean,
): { mean: number; max: number } {
  let sum = 0;
  let max = 0;
  let n = 0;
  for (let y = 0; y < a.height; y += 1) {
    for (let x = 0; x < a.width; x += 1) {
      if (!where(x, y)) continue;
      const at = (y * a.width + x) * 3;
      for (let c = 0; c < 3; c += 1) {
        const d = Math.abs(a.data[at + c]! - b.data[at + c]!);
        sum += d;
        max = Math.max(max, d);
        n += 1;
      }
    }
  }
  return { mean: n === 0 ? 0 : sum / n, max };
}

export function rgbAt(image: Rgb, x: number, y: number): [number, number, number] {
  const at = (y * image.width + x) * 3;
  return [image.data[at]!, image.data[at + 1]!, image.data[at + 2]!];
}
