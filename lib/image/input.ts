/**
 * Turning whatever a flow put in msg.payload / msg.mask into bytes, before any decoding: type checks, base64
 * and data URLs, and the byte limit. Every refusal names the property, what it held and how to fix it.
 */
import { invalidInput, type BflError } from '../errors';
import { text, type Text } from '../messages';
import { describeValue } from '../values';
import { formatBytes, resolveLimits, type ResolvedLimits } from './limits';
import type { ImageLimits } from './types';

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
    throw invalidInput(
      text('image.notAnImage', { property, value: describeValue(value), hint: hintFor(value, property) }),
    );
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
  const trimmed = value.trim();
  if (trimmed.length === 0) throw invalidInput(text('image.emptyString', { property, hint: HOW_TO_SEND }));

  let base64 = trimmed;
  let dataUrl = false;
  if (trimmed.slice(0, 5).toLowerCase() === 'data:') {
    base64 = dataUrlPayload(trimmed, property);
    dataUrl = true;
  }

  const head = base64.slice(0, HEAD_LENGTH);
  if (NOT_BASE64.test(head)) throw notBase64(property, trimmed, head, dataUrl);

  // An upper bound known without decoding, so a huge string is refused before a huge Buffer is allocated.
  const decodedAtMost = Buffer.byteLength(base64, 'base64');
  if (decodedAtMost * WRAPPED_LINE_RATIO > limits.maxInputBytes) {
    checkByteLimit(decodedAtMost, property, limits, true);
  }

  const bytes = Buffer.from(base64, 'base64');
  if (skippedCharacters(base64, bytes.length, decodedAtMost) && NOT_BASE64.test(base64)) {
    throw notBase64(property, trimmed, base64, dataUrl);
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
  const params = { property, excerpt: excerpt(value), hint: stringHint(value) };
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

function excerpt(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}

function hintFor(value: unknown, property: string): Text {
  const candidate = value as { type?: unknown; data?: unknown } | null;
  if (
    candidate !== null &&
    typeof candidate === 'object' &&
    candidate.type === 'Buffer' &&
    Array.isArray(candidate.data)
  ) {
    return text('image.hint.jsonBuffer', { property });
  }
  return HOW_TO_SEND;
}
