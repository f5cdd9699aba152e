/** Test images made with sharp on the fly (no binary fixtures), the node's image options, and pixel checks. */
import assert from 'node:assert/strict';
import sharp, { type Sharp } from 'sharp';
import { isBflError } from '../../lib/errors';
import { resolveImageOptions } from '../../lib/fields';
import {
  planInputs,
  type Box,
  type ImageLimits,
  type ImageOptions,
  type PlannedInputs,
  type PreparedImages,
} from '../../lib/image';
import type { MaskRegion } from '../../lib/image/types';

export type Rgb = [number, number, number];

/** The node's image options: its defaults, with `overrides`. */
export function imageOptions(overrides: Partial<ImageOptions> = {}): ImageOptions {
  return resolveImageOptions(overrides);
}

/** planInputs as the node calls it: its default options, with `overrides`. */
export function plan(
  image: unknown,
  mask: unknown,
  overrides: Partial<ImageOptions> = {},
  limits?: ImageLimits,
): Promise<PlannedInputs> {
  return planInputs(image, mask, imageOptions(overrides), limits);
}

/** What the node sends for msg.payload and msg.mask with its default options. */
export async function imagesSent(image: unknown, mask: unknown, limits?: ImageLimits): Promise<PreparedImages> {
  return (await plan(image, mask, {}, limits)).images;
}

/** A full-size 0/255 plane with `fill(x, y)` deciding each pixel. */
export function planeFrom(width: number, height: number, fill: (x: number, y: number) => boolean): Buffer {
  const plane = Buffer.alloc(width * height);
  for (let y = 0; y < height; y += 1) for (let x = 0; x < width; x += 1) if (fill(x, y)) plane[y * width + x] = 255;
  return plane;
}

function inBox(box: Box, x: number, y: number): boolean {
  return x >= box.left && x < box.left + box.width && y >= box.top && y < box.top + box.height;
}

/** A mask: black with white rectangles, at `width`×`height`. */
export function maskPixels(width: number, height: number, rects: Box[]): Buffer {
  return planeFrom(width, height, (x, y) => rects.some((rect) => inBox(rect, x, y)));
}

/** An opaque picture of `background` with optional filled rectangles, as raw RGB pixels. */
export function rgbPixels(
  width: number,
  height: number,
  background: Rgb,
  rects: Array<Box & { colour: Rgb }> = [],
): Buffer {
  return rgbaPixels(width, height, (x, y) => rects.find((rect) => inBox(rect, x, y))?.colour ?? background, null);
}

/** RGBA pixels: `rgb` everywhere, alpha per pixel from `alpha(x, y)` (null: RGB pixels, no alpha). */
export function rgbaPixels(
  width: number,
  height: number,
  rgb: (x: number, y: number) => Rgb,
  alpha: ((x: number, y: number) => number) | null,
): Buffer {
  const channels = alpha ? 4 : 3;
  const data = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      data.set(alpha ? [...rgb(x, y), alpha(x, y)] : rgb(x, y), (y * width + x) * channels);
    }
  }
  return data;
}

export function fromRgb(data: Buffer, width: number, height: number): Sharp {
  return sharp(data, { raw: { width, height, channels: 3 } });
}

export function fromRgba(data: Buffer, width: number, height: number): Sharp {
  return sharp(data, { raw: { width, height, channels: 4 } });
}

/** A greyscale picture from one value per pixel, e.g. a mask. */
export function fromGrey(values: ArrayLike<number>, width: number, height: number): Sharp {
  return sharp(Buffer.from(Array.from(values)), { raw: { width, height, channels: 1 } }).toColourspace('b-w');
}

/** A small opaque picture, 40×30: yellow with a blue 10×10 square at 5,5; `rgb` is its raw RGB pixels. */
export const PICTURE = {
  width: 40,
  height: 30,
  rgb: rgbPixels(40, 30, [200, 180, 40], [{ left: 5, top: 5, width: 10, height: 10, colour: [20, 20, 220] }]),
};

export function picture(): Sharp {
  return fromRgb(PICTURE.rgb, PICTURE.width, PICTURE.height);
}

/** A mask PNG for PICTURE (or another size) that fills the 8×8 top-left corner. */
export function cornerMask(width = PICTURE.width, height = PICTURE.height): Promise<Buffer> {
  return fromGrey(maskPixels(width, height, [{ left: 0, top: 0, width: 8, height: 8 }]), width, height)
    .png()
    .toBuffer();
}

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

export interface Decoded {
  data: Buffer;
  width: number;
  height: number;
  channels: number;
}

/** Pixels of an encoded image, as sharp decodes it (channels as stored, alpha kept). */
export async function decodeRgb(image: Buffer): Promise<Decoded> {
  const { data, info } = await sharp(image).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** 8-bit RGB pixels of an encoded image as sharp decodes it, upright, alpha dropped. */
export async function rgbOf(image: Buffer): Promise<Decoded> {
  const { data, info } = await sharp(image)
    .autoOrient()
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 3);
  return { data, width: info.width, height: info.height, channels: 3 };
}

/** The single channel of a mask PNG, one byte per pixel. */
export async function decodeMask(mask: Buffer): Promise<Decoded> {
  const { data, info } = await sharp(mask).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

export function pixel(image: Decoded, x: number, y: number): number[] {
  const at = (y * image.width + x) * image.channels;
  return Array.from(image.data.subarray(at, at + image.channels));
}

export function assertRedish(rgb: number[], where: string): void {
  assert.ok(rgb[0]! > 180 && rgb[1]! < 80 && rgb[2]! < 80, `expected red at ${where}, got ${rgb.join(',')}`);
}

export function assertNotRedish(rgb: number[], where: string): void {
  assert.ok(!(rgb[0]! > 180 && rgb[1]! < 80 && rgb[2]! < 80), `expected no red at ${where}, got ${rgb.join(',')}`);
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

/** The region's mask expanded to a full-size plane (in JavaScript: test images are small). */
export function fullPlane(region: MaskRegion): Buffer {
  const plane = Buffer.alloc(region.width * region.height);
  const { box } = region;
  for (let y = 0; y < box.height; y += 1) {
    region.data.copy(plane, (box.top + y) * region.width + box.left, y * box.width, (y + 1) * box.width);
  }
  return plane;
}

/** How many pixels of two RGB images differ in any channel, among those `where` selects. */
export function differingPixels(a: Decoded, b: Decoded, where: (x: number, y: number) => boolean): number {
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

/** Mean and largest absolute channel difference of two RGB images over the pixels `where` selects. */
export function channelDifference(
  a: Decoded,
  b: Decoded,
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

/** The error every refused input gives: BFL_INVALID_INPUT, nothing submitted, message matching all patterns. */
export function invalidInputMatching(...patterns: RegExp[]): (err: unknown) => true {
  return (err: unknown) => {
    assert.ok(isBflError(err), `expected a BflError, got ${String(err)}`);
    assert.equal(err.code, 'BFL_INVALID_INPUT');
    assert.match(err.message, /Nothing was submitted\.$/);
    for (const pattern of patterns) assert.match(err.message, pattern);
    return true;
  };
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** PNG's chunk checksum. */
export function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * A decompression bomb's header: a valid PNG whose IHDR claims `width`×`height`. Decoding it would need
 * gigabytes; only its header may be read.
 */
export async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(
    await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } })
      .png()
      .toBuffer(),
  );
  // Signature (8 bytes), then the IHDR chunk: length (4), type (4), data (13), CRC (4).
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}
