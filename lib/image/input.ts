/**
 * The first stage: whatever a flow put in msg.payload / msg.mask turned into bytes (type checks, base64 and
 * data URLs, the byte limit), then opened with sharp (the decoder options every pipeline shares, the header
 * probe with its pixel limit, decoder failures as messages for the flow). Also the limits themselves and how
 * sizes are written in messages. Every refusal names the property, what it held and how to fix it.
 * All pixel work runs in sharp's worker threads; nothing here touches pixels in JavaScript.
 */
import { inspect } from 'node:util';
import sharp, { type Metadata, type Sharp, type SharpOptions } from 'sharp';
import { invalidInput, isBflError, type BflError } from '../errors';
import { text, type Text } from '../messages';
import { describeValue, isJsonBuffer } from '../values';
import type { ImageLimits, ResolvedLimits, SourceImage } from './types';

export const DEFAULT_MAX_INPUT_BYTES = 50 * 1024 * 1024;
export const DEFAULT_MAX_INPUT_PIXELS = 40_000_000;

/** Where the inputs come from, for messages. */
export const IMAGE_PROPERTY = 'msg.payload';
export const MASK_PROPERTY = 'msg.mask';

const HOW_TO_SEND = text('image.hint.howToSend');

// Node's base64 decoder silently skips characters outside the alphabet, so junk would otherwise turn into a
// corrupt image with a baffling decoder error. Both alphabets are allowed (Node decodes base64url too), and
// line breaks because MIME-wrapped base64 (the `base64` command) is common.
const NOT_BASE64 = /[^A-Za-z0-9+/=_\-\r\n]/;
// Checking the head of the string catches paths, URLs and text at once, without scanning megabytes.
const HEAD_LENGTH = 1024;
// MIME wraps lines at 76 characters, adding at most 2 line-break characters per line.
const WRAPPED_LINE_RATIO = 76 / 78;
// Only short strings are taken for paths: base64 JPEGs start with "/" too, and are long.
const MAX_PATH_LENGTH = 1024;
const LOOKS_LIKE_PATH = /^(\/|\.{1,2}[\\/]|~\/|[A-Za-z]:[\\/]|\\\\)|\.(png|jpe?g|webp|gif|tiff?|bmp|heic|avif)$/i;

// Vector input is refused, not rendered: the pixel size would be a guess (72 DPI makes most SVGs tiny) and a
// rendering the flow's author never saw would be inpainted and billed. Rasterising is their call.
const VECTOR_FORMATS: ReadonlySet<string> = new Set(['svg', 'pdf']);

/**
 * Limits come from the engine, not from the flow, so a bad value is a programming error: it is thrown as a
 * plain TypeError (sharp's style) rather than blamed on the message.
 */
export function resolveLimits(limits: ImageLimits = {}): ResolvedLimits {
  if (limits === null || typeof limits !== 'object') {
    throw new TypeError(`Expected an object for limits but received ${String(limits)}`);
  }
  return {
    maxInputBytes: positiveInteger('maxInputBytes', limits.maxInputBytes, DEFAULT_MAX_INPUT_BYTES),
    maxInputPixels: positiveInteger('maxInputPixels', limits.maxInputPixels, DEFAULT_MAX_INPUT_PIXELS),
  };
}

function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(`Expected a positive integer for limits.${name} but received ${inspect(value)}`);
  }
  return value;
}

/** A byte count for messages, e.g. "3.5 MiB". */
function formatBytes(bytes: number): Text {
  if (bytes < 1024) return text('size.bytes', { count: bytes });
  if (bytes < 1024 * 1024) return text('size.kib', { value: trimmed(bytes / 1024) });
  return text('size.mib', { value: trimmed(bytes / (1024 * 1024)) });
}

/** A pixel count for messages, e.g. "12 MP". */
export function formatPixels(pixels: number): Text {
  return pixels >= 1_000_000
    ? text('size.megapixels', { value: trimmed(pixels / 1_000_000) })
    : text('size.pixels', { count: pixels });
}

/** One decimal at most; a number, so the message writes it with its language's decimal separator. */
function trimmed(value: number): number {
  return Math.round(value * 10) / 10;
}

/**
 * Accepts a Buffer, a base64 string, or a data URL (data:image/...;base64,...). Anything else ->
 * BFL_INVALID_INPUT naming `property`.
 */
export function readImageInput(value: unknown, property: string, limits?: ImageLimits): Buffer {
  return readBytes(value, property, resolveLimits(limits));
}

export function readBytes(value: unknown, property: string, limits: ResolvedLimits): Buffer {
  if (typeof value === 'string') return fromString(value, property, limits);
  const bytes = asBuffer(value);
  if (bytes === undefined) {
    const hint = isJsonBuffer(value) ? text('image.hint.jsonBuffer', { property }) : HOW_TO_SEND;
    throw invalidInput(text('image.notAnImage', { property, value: describeValue(value), hint }));
  }
  if (bytes.length === 0) throw invalidInput(text('image.emptyBuffer', { property, hint: HOW_TO_SEND }));
  checkByteLimit(bytes.length, property, limits, false);
  return bytes;
}

/** Byte views are wrapped, not copied: inputs can be tens of megabytes. */
function asBuffer(value: unknown): Buffer | undefined {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  return undefined;
}

function fromString(value: string, property: string, limits: ResolvedLimits): Buffer {
  const trimmedValue = value.trim();
  if (trimmedValue.length === 0) throw invalidInput(text('image.emptyString', { property, hint: HOW_TO_SEND }));

  let base64 = trimmedValue;
  let dataUrl = false;
  if (trimmedValue.slice(0, 5).toLowerCase() === 'data:') {
    base64 = dataUrlPayload(trimmedValue, property);
    dataUrl = true;
  }

  const head = base64.slice(0, HEAD_LENGTH);
  if (NOT_BASE64.test(head)) throw notBase64(property, trimmedValue, head, dataUrl);

  // An upper bound known without decoding, so a huge string is refused before a huge Buffer is allocated.
  const decodedAtMost = Buffer.byteLength(base64, 'base64');
  if (decodedAtMost * WRAPPED_LINE_RATIO > limits.maxInputBytes) {
    checkByteLimit(decodedAtMost, property, limits, true);
  }

  const bytes = Buffer.from(base64, 'base64');
  if (skippedCharacters(base64, bytes.length, decodedAtMost) && NOT_BASE64.test(base64)) {
    throw notBase64(property, trimmedValue, base64, dataUrl);
  }
  if (bytes.length === 0) {
    throw invalidInput(text(dataUrl ? 'image.dataUrlEmpty' : 'image.base64Empty', { property, hint: HOW_TO_SEND }));
  }
  checkByteLimit(bytes.length, property, limits, false);
  return bytes;
}

/**
 * Whether the decoder skipped characters: line breaks (fine) or junk past the head. Only then is the whole
 * string scanned, which would stall the event loop for a while on a big input. Each skipped character costs
 * 6 bits, so two or more always shorten the output; a single one hides only in a length that leaves one
 * character over, which valid base64 never does.
 */
function skippedCharacters(base64: string, decoded: number, decodedAtMost: number): boolean {
  if (decoded !== decodedAtMost) return true;
  let length = base64.length;
  while (length > 0 && length > base64.length - 2 && base64.charCodeAt(length - 1) === 0x3d) length -= 1;
  return length % 4 === 1;
}

function dataUrlPayload(value: string, property: string): string {
  const comma = value.indexOf(',');
  if (comma === -1 || comma > HEAD_LENGTH) {
    throw invalidInput(text('image.notDataUrl', { property, hint: HOW_TO_SEND }));
  }
  const header = value.slice(5, comma);
  const parameters = header.split(';').slice(1);
  if (!parameters.some((parameter) => parameter.trim().toLowerCase() === 'base64')) {
    throw invalidInput(text('image.dataUrlNotBase64', { property, header }));
  }
  const payload = value.slice(comma + 1);
  if (payload.length === 0) {
    throw invalidInput(text('image.dataUrlNoData', { property, hint: HOW_TO_SEND }));
  }
  return payload;
}

function notBase64(property: string, value: string, searched: string, dataUrl: boolean): BflError {
  const at = searched.search(NOT_BASE64);
  const excerpt = JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  const params = { property, excerpt, hint: stringHint(value) };
  if (at === -1) return invalidInput(text(dataUrl ? 'image.dataUrlBadBase64' : 'image.notBase64', params));
  return invalidInput(
    text(dataUrl ? 'image.dataUrlBadBase64At' : 'image.notBase64At', {
      ...params,
      character: JSON.stringify(searched[at]),
      position: at + 1,
    }),
  );
}

function stringHint(value: string): Text {
  if (/^https?:\/\//i.test(value)) return text('image.hint.url');
  if (value.length <= MAX_PATH_LENGTH && LOOKS_LIKE_PATH.test(value)) return text('image.hint.path');
  return HOW_TO_SEND;
}

function checkByteLimit(bytes: number, property: string, limits: ResolvedLimits, estimated: boolean): void {
  if (bytes <= limits.maxInputBytes) return;
  throw invalidInput(
    text(estimated ? 'image.tooLargeAbout' : 'image.tooLarge', {
      property,
      size: formatBytes(bytes),
      limit: formatBytes(limits.maxInputBytes),
    }),
  );
}

/**
 * Reads the header only. Truncated or corrupt pixel data is not noticed here; `decode` and `verifyDecodes`
 * catch it.
 */
export async function probe(data: Buffer, property: string, limits: ResolvedLimits): Promise<SourceImage> {
  let metadata: Metadata;
  try {
    // No pixel limit on the header read: sharp would refuse without saying the size, and reading a header
    // costs nothing however large the image claims to be.
    metadata = await sharp(data, { failOn: 'error', limitInputPixels: false }).metadata();
  } catch (err) {
    throw decodeFailure(err, property, limits);
  }

  if (VECTOR_FORMATS.has(metadata.format)) {
    throw invalidInput(text('image.vector', { property, kind: text(`image.kind.${metadata.format}`) }));
  }

  const pixels = metadata.width * metadata.height;
  if (pixels > limits.maxInputPixels) {
    throw invalidInput(
      text('image.tooManyPixels', {
        property,
        width: metadata.width,
        height: metadata.height,
        pixels: formatPixels(pixels),
        limit: formatPixels(limits.maxInputPixels),
      }),
    );
  }

  return {
    data,
    property,
    limits,
    format: metadata.format,
    width: metadata.autoOrient.width,
    height: metadata.autoOrient.height,
    storedWidth: metadata.width,
    storedHeight: metadata.height,
    orientation: metadata.orientation ?? 1,
    hasAlpha: metadata.hasAlpha,
    pages: metadata.pages ?? 1,
    space: metadata.space,
    depth: metadata.depth,
  };
}

/**
 * The decoder options every pipeline over input shares. `failOn: 'error'` refuses truncated and broken data
 * but tolerates the warnings many phone and editor JPEGs carry; the pixel limit is a backstop to `probe`'s
 * check for anything that reaches the decoder.
 */
export function decoderOptions(maxInputPixels: number): SharpOptions {
  return { failOn: 'error', limitInputPixels: maxInputPixels };
}

/** A pipeline over the source with the shared decoder options. */
export function open(source: SourceImage): Sharp {
  return sharp(source.data, decoderOptions(source.limits.maxInputPixels));
}

/** Runs pixel work on the source, turning decoder failures into BFL_INVALID_INPUT. */
export async function decode<T>(source: SourceImage, work: (image: Sharp) => Promise<T>): Promise<T> {
  try {
    return await work(open(source));
  } catch (err) {
    throw decodeFailure(err, source.property, source.limits);
  }
}

/**
 * Decodes every pixel once without keeping them, for bytes that are sent as they are: a truncated download
 * is refused here rather than paid for at the API. A thumbnail still reads every row (JPEG shrink-on-load
 * still entropy-decodes every block) at a fraction of the memory and time of a full-size decode.
 */
export async function verifyDecodes(source: SourceImage): Promise<void> {
  await decode(source, (image) => image.resize(16, 16, { fit: 'fill' }).raw().toBuffer());
}

function decodeFailure(err: unknown, property: string, limits: ResolvedLimits): BflError {
  if (isBflError(err)) return err;
  const reason = sharpReason(err);
  if (/exceeds pixel limit/i.test(reason)) {
    return invalidInput(text('image.overPixelLimit', { property, limit: formatPixels(limits.maxInputPixels) }), err);
  }
  return invalidInput(text('image.undecodable', { property, reason }), err);
}

/** A decoder failure in one line: libvips reports one line per layer ("VipsJpeg: ...\nvips2png: ..."). */
export function sharpReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const oneLine = message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .join('; ')
    .replace(/[.;:\s]+$/, '');
  return oneLine.length > 300 ? `${oneLine.slice(0, 300)}…` : oneLine || 'unknown decoder error';
}
