/** Test images made with sharp on the fly; no binary fixtures. */
import assert from 'node:assert/strict';
import sharp, { type Sharp } from 'sharp';
import { isBflError } from '../../lib/errors';

export type Rgb = [number, number, number];

export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** An opaque picture of `background` with optional filled rectangles, as raw RGB pixels. */
export function rgbPixels(
  width: number,
  height: number,
  background: Rgb,
  rects: Array<Rect & { colour: Rgb }> = [],
): Buffer {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const rect = rects.find((r) => x >= r.left && x < r.left + r.width && y >= r.top && y < r.top + r.height);
      const colour = rect ? rect.colour : background;
      data.set(colour, (y * width + x) * 3);
    }
  }
  return data;
}

export function fromRgb(data: Buffer, width: number, height: number): Sharp {
  return sharp(data, { raw: { width, height, channels: 3 } });
}

/** A greyscale picture from one value per pixel, e.g. a mask. */
export function fromGrey(values: ArrayLike<number>, width: number, height: number): Sharp {
  return sharp(Buffer.from(Array.from(values)), { raw: { width, height, channels: 1 } }).toColourspace('b-w');
}

/** A mask: black with white rectangles, at `width`×`height`. */
export function maskPixels(width: number, height: number, rects: Rect[]): Buffer {
  const data = Buffer.alloc(width * height);
  for (const r of rects) {
    for (let y = r.top; y < r.top + r.height; y += 1) data.fill(255, y * width + r.left, y * width + r.left + r.width);
  }
  return data;
}

/** RGBA pixels: `rgb` everywhere, alpha per pixel from `alpha(x, y)`. */
export function rgbaPixels(
  width: number,
  height: number,
  rgb: (x: number, y: number) => Rgb,
  alpha: (x: number, y: number) => number,
): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      data.set([...rgb(x, y), alpha(x, y)], (y * width + x) * 4);
    }
  }
  return data;
}

export function fromRgba(data: Buffer, width: number, height: number): Sharp {
  return sharp(data, { raw: { width, height, channels: 4 } });
}

export interface Decoded {
  data: Buffer;
  width: number;
  height: number;
  channels: number;
}

/** Pixels of an encoded image, as sharp decodes them (channels as stored, alpha kept). */
export async function decodeRgb(image: Buffer): Promise<Decoded> {
  const { data, info } = await sharp(image).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
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

function crc32(bytes: Buffer): number {
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
