/**
 * Image work of the emulator: decoding the submitted base64 images and producing the "inpainted" result. The
 * result changes only the pixels the mask selects, so a client that inverts, resizes or drops its mask produces
 * visibly (and testably) wrong output. All pixel work runs in sharp's thread pool, never on the event loop.
 */
import { createHash } from 'node:crypto';
import sharp, { type Sharp } from 'sharp';
import type { EmulatorTask } from './types';
import type { ExpandSides, OutputFormat } from './validation';

export type InputField = 'image' | 'mask';

export type DecodedInputs =
  | { ok: true; image: Buffer; mask: Buffer | null; width: number; height: number; hasAlpha: boolean }
  | { ok: false; field: InputField; message: string };

const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp']);

function strictBase64(text: string): Buffer | null {
  if (text.length === 0 || text.length % 4 !== 0) return null;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const bytes = Buffer.from(text, 'base64');
  // Node skips characters outside the alphabet instead of failing; a short result gives them away.
  return bytes.length === (text.length / 4) * 3 - padding ? bytes : null;
}

/** Plain base64 (line breaks tolerated, as Python's decoder does); data URLs and URLs are refused. */
function decodeBase64(text: string): Buffer | null {
  return strictBase64(text) ?? (/\s/.test(text) ? strictBase64(text.replace(/\s+/g, '')) : null);
}

function base64Problem(text: string, what: string): string {
  if (/^data:[^,]*,/i.test(text))
    return `${what} must be plain base64, not a data URL (drop the "data:...;base64," prefix)`;
  if (/^https?:\/\//i.test(text)) return `${what} must be a base64-encoded image, not a URL`;
  return `${what} is not valid base64`;
}

async function decodeOne(
  text: string,
  field: InputField,
): Promise<
  | { ok: true; bytes: Buffer; width: number; height: number; hasAlpha: boolean }
  | { ok: false; field: InputField; message: string }
> {
  const what = field === 'image' ? 'Image' : 'Mask';
  const bytes = decodeBase64(text);
  if (!bytes) return { ok: false, field, message: base64Problem(text, what) };
  try {
    const meta = await sharp(bytes).metadata();
    if (!meta.format || !ACCEPTED_FORMATS.has(meta.format) || !meta.width || !meta.height) {
      return {
        ok: false,
        field,
        message: `${what} format ${meta.format ?? 'unknown'} is not supported; send PNG, JPEG or WebP`,
      };
    }
    return { ok: true, bytes, width: meta.width, height: meta.height, hasAlpha: meta.hasAlpha === true };
  } catch {
    return { ok: false, field, message: `${what} could not be decoded as an image` };
  }
}

export async function decodeInputs(imageText: string, maskText: string | null): Promise<DecodedInputs> {
  const [image, mask] = await Promise.all([
    decodeOne(imageText, 'image'),
    maskText === null ? Promise.resolve(null) : decodeOne(maskText, 'mask'),
  ]);
  if (!image.ok) return image;
  if (mask && !mask.ok) return mask;
  if (mask) {
    if (mask.width !== image.width || mask.height !== image.height) {
      return {
        ok: false,
        field: 'mask',
        message: `Mask size ${mask.width}x${mask.height} does not match image size ${image.width}x${image.height}; they must have the same dimensions`,
      };
    }
  } else if (!image.hasAlpha) {
    return {
      ok: false,
      field: 'mask',
      message:
        'No mask given and the image has no alpha channel: send a mask (white = fill, black = keep) or an image whose transparent pixels mark the area to fill',
    };
  }
  return {
    ok: true,
    image: image.bytes,
    mask: mask ? mask.bytes : null,
    width: image.width,
    height: image.height,
    hasAlpha: image.hasAlpha,
  };
}

/**
 * An expand's input as a fill's: the image on the expanded canvas (black where new, flattened onto black) and a
 * mask that is white exactly where the picture is new, so the result changes only the new area.
 */
export async function decodeExpandInput(imageText: string, sides: ExpandSides): Promise<DecodedInputs> {
  const image = await decodeOne(imageText, 'image');
  if (!image.ok) return image;
  const width = image.width + sides.left + sides.right;
  const height = image.height + sides.top + sides.bottom;
  const [canvas, mask] = await Promise.all([
    sharp(image.bytes)
      .flatten({ background: '#000000' })
      .extend({ ...sides, background: '#000000' })
      .png()
      .toBuffer(),
    sharp({ create: { width: image.width, height: image.height, channels: 3, background: '#000000' } })
      .extend({ ...sides, background: '#ffffff' })
      .toColourspace('b-w')
      .png()
      .toBuffer(),
  ]);
  return { ok: true, image: canvas, mask, width, height, hasAlpha: false };
}

/** What the result depends on: the submitted task's inputs. */
export type ComposeInput = Pick<
  EmulatorTask,
  'image' | 'mask' | 'width' | 'height' | 'resultWidth' | 'resultHeight' | 'seed' | 'prompt' | 'outputFormat'
>;

/** Two colours and a stripe width derived from seed and prompt: same request, same picture. */
function fillPattern(seed: number, prompt: string): { colours: [string, string]; stripe: number } {
  const digest = createHash('sha256').update(`${seed}\u0000${prompt}`).digest();
  const hex = (offset: number) => `#${digest.subarray(offset, offset + 3).toString('hex')}`;
  return { colours: [hex(0), hex(3)], stripe: 8 + (digest[6]! % 24) };
}

/**
 * The pattern over the whole picture: diagonal stripes from one small tile, repeated. A tile that repeats
 * exactly keeps the emulator quick at 20 MP (an SVG pattern rendered at full size took seconds there).
 */
async function patternPixels(width: number, height: number, seed: number, prompt: string): Promise<Buffer> {
  const { colours, stripe } = fillPattern(seed, prompt);
  const side = stripe * 2;
  // sharp composites nothing larger than the picture; a picture narrower than a tile needs no repeat that way.
  const tileWidth = Math.min(side, width);
  const tileHeight = Math.min(side, height);
  const rgb = colours.map((colour) => Buffer.from(colour.slice(1), 'hex'));
  const tile = Buffer.alloc(tileWidth * tileHeight * 3);
  for (let y = 0; y < tileHeight; y += 1) {
    for (let x = 0; x < tileWidth; x += 1) rgb[(x + y) % side < stripe ? 1 : 0]!.copy(tile, (y * tileWidth + x) * 3);
  }
  return sharp({ create: { width, height, channels: 3, background: colours[0] } })
    .composite([{ input: tile, raw: { width: tileWidth, height: tileHeight, channels: 3 }, tile: true }])
    .removeAlpha()
    .raw()
    .toBuffer();
}

/** 0 = keep, 255 = fill, one byte per pixel. Grey values are thresholded at 128, as are alpha values in alpha mode. */
async function fillMask(input: ComposeInput): Promise<Buffer> {
  const pipeline = input.mask
    ? sharp(input.mask).flatten({ background: '#000000' }).toColourspace('b-w')
    : sharp(input.image).ensureAlpha().extractChannel('alpha').negate();
  // No second extractChannel here: sharp keeps only the last one, which would replace the alpha extraction.
  const { data, info } = await pipeline.threshold(128).raw().toBuffer({ resolveWithObject: true });
  if (info.width !== input.width || info.height !== input.height || info.channels !== 1) {
    throw new Error(`mask decoded to an unexpected shape ${info.width}x${info.height}x${info.channels}`);
  }
  return data;
}

function encode(image: Sharp, format: OutputFormat): Sharp {
  if (format === 'png') return image.png();
  if (format === 'webp') return image.webp({ quality: 90 });
  return image.jpeg({ quality: 90 });
}

/**
 * The result: the input flattened onto black, with the masked pixels replaced by a pattern. For PNG output every
 * unmasked pixel is bit-identical to the flattened input (composite with 0/255 alpha is exact).
 */
export async function composeOutput(input: ComposeInput): Promise<Buffer> {
  const { width, height } = input;
  const [base, mask, fill] = await Promise.all([
    sharp(input.image)
      .flatten({ background: '#000000' })
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true }),
    fillMask(input),
    patternPixels(width, height, input.seed, input.prompt),
  ]);
  if (base.info.channels !== 3 || base.info.width !== width || base.info.height !== height) {
    throw new Error(
      `input decoded to an unexpected shape ${base.info.width}x${base.info.height}x${base.info.channels}`,
    );
  }
  const overlay = await sharp(fill, { raw: { width, height, channels: 3 } })
    .joinChannel(mask, { raw: { width, height, channels: 1 } })
    .raw()
    .toBuffer();
  const composed = await sharp(base.data, { raw: { width, height, channels: 3 } })
    .composite([{ input: overlay, raw: { width, height, channels: 4 } }])
    .raw()
    .toBuffer({ resolveWithObject: true });
  // Composite always adds an alpha band; the result image has none.
  let flat = sharp(composed.data, { raw: { width, height, channels: composed.info.channels } }).removeAlpha();
  if (input.resultWidth !== width || input.resultHeight !== height) {
    flat = flat.resize(input.resultWidth, input.resultHeight, { fit: 'fill' });
  }
  return encode(flat, input.outputFormat).toBuffer();
}
