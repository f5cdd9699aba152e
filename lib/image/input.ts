/**
 * Turning whatever a flow put in msg.payload / msg.mask into bytes, before any decoding: type checks, base64
 * and data URLs, and the byte limit. Every refusal names the property, what it held and how to fix it.
 */
import { invalidInput, type BflError } from '../bfl/errors';
import { formatBytes, resolveLimits, type ResolvedLimits } from './limits';
import type { ImageLimits } from './types';

const HOW_TO_SEND = 'Send the image as a Buffer, a base64 string or a data URL (data:image/png;base64,...).';

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
    throw invalidInput(`${property} must be an image but is ${describe(value)}. ${hintFor(value, property)}`);
  }
  if (bytes.length === 0) throw invalidInput(`${property} is an empty Buffer (0 bytes). ${HOW_TO_SEND}`);
  checkByteLimit(bytes.length, property, limits, '');
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
  const text = value.trim();
  if (text.length === 0) throw invalidInput(`${property} is an empty string. ${HOW_TO_SEND}`);

  let base64 = text;
  let kind = 'a base64 string';
  if (text.slice(0, 5).toLowerCase() === 'data:') {
    base64 = dataUrlPayload(text, property);
    kind = 'a data URL';
  }

  const head = base64.slice(0, HEAD_LENGTH);
  if (NOT_BASE64.test(head)) throw notBase64(property, text, head, kind);

  // An upper bound known without decoding, so a huge string is refused before a huge Buffer is allocated.
  const decodedAtMost = Buffer.byteLength(base64, 'base64');
  if (decodedAtMost * WRAPPED_LINE_RATIO > limits.maxInputBytes) {
    checkByteLimit(decodedAtMost, property, limits, 'about ');
  }

  const bytes = Buffer.from(base64, 'base64');
  if (skippedCharacters(base64, bytes.length, decodedAtMost) && NOT_BASE64.test(base64)) {
    throw notBase64(property, text, base64, kind);
  }
  if (bytes.length === 0) throw invalidInput(`${property} is ${kind} that decodes to 0 bytes. ${HOW_TO_SEND}`);
  checkByteLimit(bytes.length, property, limits, '');
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

function dataUrlPayload(text: string, property: string): string {
  const comma = text.indexOf(',');
  if (comma === -1 || comma > HEAD_LENGTH) {
    throw invalidInput(
      `${property} starts with "data:" but is not a data URL (no "," after the media type). ${HOW_TO_SEND}`,
    );
  }
  const header = text.slice(5, comma);
  const parameters = header.split(';').slice(1);
  if (!parameters.some((parameter) => parameter.trim().toLowerCase() === 'base64')) {
    throw invalidInput(
      `${property} is a data URL that is not base64-encoded ("data:${header},..."). ` +
        'Use a base64 data URL such as data:image/png;base64,... or send the image as a Buffer.',
    );
  }
  const payload = text.slice(comma + 1);
  if (payload.length === 0) {
    throw invalidInput(`${property} is a data URL with no data after the comma. ${HOW_TO_SEND}`);
  }
  return payload;
}

function notBase64(property: string, text: string, searched: string, kind: string): BflError {
  const at = searched.search(NOT_BASE64);
  const found = at === -1 ? '' : ` (found ${JSON.stringify(searched[at])} at character ${at + 1})`;
  const what =
    kind === 'a data URL' ? 'a data URL whose data is not valid base64' : 'a string but not base64 or a data URL';
  return invalidInput(`${property} is ${what}${found}: ${excerpt(text)}. ${stringHint(text)}`);
}

function stringHint(text: string): string {
  if (/^https?:\/\//i.test(text)) {
    return (
      'It looks like a URL: download the image first, e.g. with an http request node set to return ' +
      'a binary buffer.'
    );
  }
  if (text.length <= MAX_PATH_LENGTH && LOOKS_LIKE_PATH.test(text)) {
    return (
      'It looks like a file path: read the file first, e.g. with a read file node set to output ' +
      'a single Buffer object.'
    );
  }
  return HOW_TO_SEND;
}

function checkByteLimit(bytes: number, property: string, limits: ResolvedLimits, about: string): void {
  if (bytes <= limits.maxInputBytes) return;
  throw invalidInput(
    `${property} is ${about}${formatBytes(bytes)}, more than the ${formatBytes(limits.maxInputBytes)} ` +
      'allowed for one image. Downscale or recompress it (e.g. as JPEG) before this node.',
  );
}

function excerpt(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

function isJsonBuffer(value: object): boolean {
  const candidate = value as { type?: unknown; data?: unknown };
  return candidate.type === 'Buffer' && Array.isArray(candidate.data);
}

/** What the flow actually put there, in words, without dumping the value. */
export function describe(value: unknown): string {
  if (value === undefined) return 'missing (undefined)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length} item${value.length === 1 ? '' : 's'}`;
  switch (typeof value) {
    case 'number':
    case 'boolean':
    case 'bigint':
      return `a ${typeof value} (${String(value)})`;
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    case 'object': {
      if (isJsonBuffer(value)) return 'a JSON-serialised Buffer ({"type":"Buffer","data":[...]})';
      if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
      const keys = Object.keys(value);
      if (keys.length === 0) return 'an empty object';
      const shown = keys.slice(0, 5).join(', ');
      return `an object with keys ${shown}${keys.length > 5 ? ', …' : ''}`;
    }
    default:
      return `a ${typeof value}`;
  }
}

function hintFor(value: unknown, property: string): string {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && isJsonBuffer(value)) {
    return (
      'It went through JSON somewhere; turn it back into a Buffer first, e.g. in a function node: ' +
      `${property} = Buffer.from(${property}.data).`
    );
  }
  return HOW_TO_SEND;
}
