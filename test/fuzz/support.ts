/**
 * What the fuzz tests share: the run settings, the one rule every outcome must follow, a watch for
 * unhandled rejections, sample files of every format sharp reads, and headers that claim absurd sizes.
 *
 * Runs are seeded (0x5eed), so a failure reproduces: fast-check prints the seed, the path and the shrunk
 * counterexample. The default numbers of runs keep the fuzz suite to about ten seconds of `npm test`. For a
 * longer hunt, FUZZ_RUNS sets the runs of every property and FUZZ_SEED another seed:
 *
 *   FUZZ_RUNS=5000 FUZZ_SEED=123 npx mocha --no-config --require tsx/cjs --extension ts --timeout 0 \
 *     'test/fuzz/*.test.ts'
 */
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import fc from 'fast-check';
import sharp, { type Sharp } from 'sharp';
import { isBflError, type BflError } from '../../lib/errors';
import { crc32, pngClaiming } from '../image/fixtures';
import {
  jfifWithThumbnail,
  privatePhoto,
  privatePngChunks,
  privateSegments,
  spliceJpeg,
  splicePng,
} from '../image/private';

const SEED = Number.parseInt(process.env.FUZZ_SEED ?? '', 10);
const RUNS = Number.parseInt(process.env.FUZZ_RUNS ?? '', 10);

/** A test's time limit: generous by default, none for a longer hunt. */
export const TIMEOUT = Number.isSafeInteger(RUNS) ? 0 : 120_000;

/** fast-check's settings for a property that runs `runs` times by default. */
export function settings(runs: number): fc.Parameters<unknown> {
  return {
    seed: Number.isSafeInteger(SEED) ? SEED : 0x5eed,
    numRuns: Number.isSafeInteger(RUNS) && RUNS > 0 ? RUNS : runs,
  };
}

/** Text that may show up in a message only as the flow's own value, never as a slip of the code. */
const SLIPS = /undefined|\[object |NaN NaN|__[a-zA-Z]+__|\n\s+at /;

/** Strings and object keys for the generators: anything but the slips themselves, so a hit is a slip. */
export const text = fc.string({ maxLength: 30, unit: 'binary' }).filter((value) => !SLIPS.test(value));

/**
 * The rule for every input: it is handled, or refused with BFL_INVALID_INPUT and a full sentence that ends
 * "Nothing was submitted." and holds no undefined, [object ...], placeholder or stack. Anything else thrown
 * fails the property with the error in full.
 */
export function assertRefusal(err: unknown): asserts err is BflError {
  if (!isBflError(err) || err.code !== 'BFL_INVALID_INPUT') {
    assert.fail(`expected a refusal (BFL_INVALID_INPUT) but got ${inspect(err)}`);
  }
  const { message } = err;
  assert.match(message, /^(msg\.|[A-Z"])/, `a sentence: ${message}`);
  assert.match(message, /\. Nothing was submitted\.$/, `ends "Nothing was submitted.": ${message}`);
  assert.doesNotMatch(message.replaceAll('missing (undefined)', ''), SLIPS, `no slip: ${message}`);
  assert.ok(message.length < 2000, `a short message: ${message.length} characters`);
}

/** The value, or the refusal (checked); any other outcome fails. */
export async function outcome<T>(run: () => Promise<T> | T): Promise<T | BflError> {
  try {
    return await run();
  } catch (err) {
    assertRefusal(err);
    return err;
  }
}

/** Fails the suite if any promise is rejected without a handler while it runs. */
export function watchUnhandledRejections(): void {
  const seen: unknown[] = [];
  const record = (reason: unknown): void => {
    seen.push(reason);
  };
  before(() => process.on('unhandledRejection', record));
  after(async () => {
    // Rejections are reported after the microtask queue drains; give them a turn.
    await new Promise((resolve) => setImmediate(resolve));
    process.off('unhandledRejection', record);
    assert.deepEqual(
      seen.map((reason) => inspect(reason)),
      [],
      'unhandled rejections',
    );
  });
}

export const WIDTH = 40;
export const HEIGHT = 30;

export interface Sample {
  name: string;
  bytes: Buffer;
}

function base(background = '#c8b428'): Sharp {
  return sharp({ create: { width: WIDTH, height: HEIGHT, channels: 3, background } }).composite([
    {
      input: { create: { width: 10, height: 10, channels: 3, background: '#1414dc' } },
      left: 5,
      top: 5,
    },
  ]);
}

/** One small file of every kind a flow may send, 40×30, built once. */
export async function samples(): Promise<Sample[]> {
  const png = await base().png().toBuffer();
  const other = await base('#30a050').png().toBuffer();
  const alpha = await base().ensureAlpha().png().toBuffer();
  const animated = await sharp([png, other], { join: { animated: true } })
    .gif()
    .toBuffer();
  const made: Array<[string, Promise<Buffer> | Buffer]> = [
    ['jpeg', base().jpeg().toBuffer()],
    ['jpeg progressive', base().jpeg({ progressive: true }).toBuffer()],
    [
      'jpeg with metadata',
      privatePhoto(WIDTH, HEIGHT)
        .jpeg()
        .toBuffer()
        .then((jpeg) => spliceJpeg(jpeg, [jfifWithThumbnail(), ...privateSegments()])),
    ],
    ['jpeg cmyk', base().toColourspace('cmyk').jpeg().toBuffer()],
    ['png', png],
    ['png with alpha', alpha],
    ['png palette', base().png({ palette: true }).toBuffer()],
    ['png 16-bit', base().toColourspace('rgb16').png().toBuffer()],
    [
      'png with metadata',
      privatePhoto(WIDTH, HEIGHT)
        .png()
        .toBuffer()
        .then((bytes) => splicePng(bytes, privatePngChunks())),
    ],
    ['webp', base().webp().toBuffer()],
    ['webp lossless', base().webp({ lossless: true }).toBuffer()],
    ['webp with alpha', sharp(alpha).webp().toBuffer()],
    ['webp with metadata', privatePhoto(WIDTH, HEIGHT).webp().toBuffer()],
    ['webp animated', sharp(animated, { pages: -1 }).webp().toBuffer()],
    ['gif', base().gif().toBuffer()],
    ['gif animated', animated],
    ['tiff', base().tiff().toBuffer()],
    ['tiff jpeg', base().tiff({ compression: 'jpeg' }).toBuffer()],
    ['avif', base().heif({ compression: 'av1' }).toBuffer()],
    ['svg', Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}"/>`)],
  ];
  return Promise.all(made.map(async ([name, bytes]) => ({ name, bytes: await bytes })));
}

/** How a flow may hand the bytes over: as they are, or in any of the forms the reader takes. */
export const ENCODINGS = {
  buffer: (bytes: Buffer): unknown => bytes,
  uint8array: (bytes: Buffer): unknown => new Uint8Array(bytes),
  arraybuffer: (bytes: Buffer): unknown => new Uint8Array(bytes).buffer,
  base64: (bytes: Buffer): unknown => bytes.toString('base64'),
  base64url: (bytes: Buffer): unknown => bytes.toString('base64url'),
  wrapped: (bytes: Buffer): unknown => bytes.toString('base64').replace(/.{76}/g, '$&\r\n'),
  dataUrl: (bytes: Buffer): unknown => `data:image/png;base64,${bytes.toString('base64')}`,
  jsonBuffer: (bytes: Buffer): unknown => bytes.toJSON(),
} as const;

export const encoding = fc.constantFrom(...(Object.keys(ENCODINGS) as Array<keyof typeof ENCODINGS>));

/** The first SOF marker's height and width set to `height`×`width` (at most 65535 each). */
function jpegClaiming(jpeg: Buffer, width: number, height: number): Buffer {
  const copy = Buffer.from(jpeg);
  const sof = [0xc0, 0xc1, 0xc2].map((marker) => copy.indexOf(Buffer.from([0xff, marker]))).find((at) => at > 0)!;
  copy.writeUInt16BE(height, sof + 5);
  copy.writeUInt16BE(width, sof + 7);
  return copy;
}

/** The logical screen and the first frame of a GIF set to `width`×`height`. */
function gifClaiming(gif: Buffer, width: number, height: number): Buffer {
  const copy = Buffer.from(gif);
  copy.writeUInt16LE(width, 6);
  copy.writeUInt16LE(height, 8);
  const frame = copy.indexOf(0x2c, 13);
  copy.writeUInt16LE(width, frame + 5);
  copy.writeUInt16LE(height, frame + 7);
  return copy;
}

/** A lossy WebP whose VP8 frame header (and VP8X canvas, if any) says `width`×`height` (at most 16383). */
function webpClaiming(webp: Buffer, width: number, height: number): Buffer {
  const copy = Buffer.from(webp);
  if (copy.toString('latin1', 12, 16) === 'VP8X') {
    copy.writeUIntLE(width - 1, 24, 3);
    copy.writeUIntLE(height - 1, 27, 3);
  }
  // The frame header: a 3-byte frame tag, the start code 9d 01 2a, then 14-bit width and height.
  const frame = copy.indexOf('VP8 ', 12, 'latin1') + 8;
  assert.deepEqual([...copy.subarray(frame + 3, frame + 6)], [0x9d, 0x01, 0x2a]);
  copy.writeUInt16LE(width, frame + 6);
  copy.writeUInt16LE(height, frame + 8);
  return copy;
}

/** A lossless WebP whose VP8L header says `width`×`height` (14-bit fields of size - 1). */
function webpLosslessClaiming(webp: Buffer, width: number, height: number): Buffer {
  const copy = Buffer.from(webp);
  assert.equal(copy.toString('latin1', 12, 16), 'VP8L');
  const bits = copy.readUInt32LE(21);
  copy.writeUInt32LE(((bits & ~0x0fffffff) | (width - 1) | ((height - 1) << 14)) >>> 0, 21);
  return copy;
}

/** ImageWidth and ImageLength of a little-endian TIFF's first directory set to `width`×`height`. */
function tiffClaiming(tiff: Buffer, width: number, height: number): Buffer {
  const copy = Buffer.from(tiff);
  const ifd = copy.readUInt32LE(4);
  for (let entry = 0; entry < copy.readUInt16LE(ifd); entry += 1) {
    const at = ifd + 2 + entry * 12;
    const tag = copy.readUInt16LE(at);
    if (tag !== 256 && tag !== 257) continue;
    copy.writeUInt16LE(4, at + 2); // LONG
    copy.writeUInt32LE(tag === 256 ? width : height, at + 8);
  }
  return copy;
}

/** The size in an AVIF's ispe box set to `width`×`height`. */
function avifClaiming(avif: Buffer, width: number, height: number): Buffer {
  const copy = Buffer.from(avif);
  const ispe = copy.indexOf('ispe');
  copy.writeUInt32BE(width, ispe + 8);
  copy.writeUInt32BE(height, ispe + 12);
  return copy;
}

/** A 1×1 PNG whose IHDR claims `width`×`height`, with the CRC to match. */
async function pngBomb(width: number, height: number): Promise<Buffer> {
  const png = await pngClaiming(width, height);
  assert.equal(crc32(png.subarray(12, 29)), png.readUInt32BE(29));
  return png;
}

export interface Bomb extends Sample {
  /** How it is refused: by the pixel limit, by the decoder reading the header, or as a vector image. */
  refusedBy: RegExp;
}

const PIXEL_LIMIT = /pixels \(.*\), more than the 40 MP allowed/;
const HEADER = /not an image sharp can decode: .*header/;

/**
 * Files that are valid but for their header, which claims more pixels than any machine should decode:
 * decompression bombs. They must be refused from the header alone.
 */
export async function bombs(all: readonly Sample[]): Promise<Bomb[]> {
  const sample = (name: string): Buffer => all.find((item) => item.name === name)!.bytes;
  const bomb = (name: string, bytes: Buffer, refusedBy = PIXEL_LIMIT): Bomb => ({ name, bytes, refusedBy });
  return [
    bomb('PNG 100000×100000', await pngBomb(100_000, 100_000)),
    bomb('PNG 7000×6000 (42 MP, just over the limit)', await pngBomb(7000, 6000)),
    bomb('PNG 2³¹-1 square', await pngBomb(0x7fffffff, 0x7fffffff), HEADER),
    // libjpeg takes sides up to 65500, and refuses more from the header itself.
    bomb('JPEG 65500×65500', jpegClaiming(sample('jpeg'), 65500, 65500)),
    bomb('progressive JPEG 65500×65500', jpegClaiming(sample('jpeg progressive'), 65500, 65500)),
    bomb('JPEG 65535×65535', jpegClaiming(sample('jpeg'), 65535, 65535), HEADER),
    bomb('GIF 65535×65535', gifClaiming(sample('gif'), 65535, 65535)),
    bomb('WebP 16383×16383', webpClaiming(sample('webp'), 16383, 16383)),
    bomb('WebP VP8X 16383×16383', webpClaiming(sample('webp with metadata'), 16383, 16383)),
    bomb('WebP VP8L 8192×8192', webpLosslessClaiming(sample('webp lossless'), 8192, 8192)),
    bomb('TIFF 100000×100000', tiffClaiming(sample('tiff'), 100_000, 100_000)),
    bomb('AVIF 100000×100000', avifClaiming(sample('avif'), 100_000, 100_000)),
    bomb(
      'SVG 100000×100000',
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"/>'),
      /the API needs pixels/,
    ),
  ];
}

/** A PNG header of 6000×6000 (36 MP, within the limit) over the data of one pixel. */
export function pngLiar(): Promise<Buffer> {
  return pngBomb(6000, 6000);
}

/** Resident memory in MB. */
export function rssMb(): number {
  return process.memoryUsage().rss / (1024 * 1024);
}
