/**
 * Opening bytes with sharp: the decoder options every pipeline shares, the header probe (format, upright
 * size, alpha, pixel limit) and the translation of decoder failures into messages for the flow.
 * All pixel work runs in sharp's worker threads; nothing here touches pixels in JavaScript.
 */
import sharp, { type Metadata, type Sharp } from 'sharp';
import { invalidInput, isBflError, type BflError } from '../errors';
import { text } from '../messages';
import { formatPixels, type ResolvedLimits } from './limits';

/** Bytes sharp can decode, and what their header says. */
export interface SourceImage {
  readonly data: Buffer;
  /** The msg property the bytes came from, for messages. */
  readonly property: string;
  readonly limits: ResolvedLimits;
  /** sharp's decoder name: jpeg, png, webp, gif, tiff, heif, ... */
  readonly format: string;
  /** Size once EXIF orientation is applied. */
  readonly width: number;
  readonly height: number;
  /** Size of the pixels as stored, before EXIF orientation. */
  readonly storedWidth: number;
  readonly storedHeight: number;
  /** EXIF orientation, 1 (upright) when absent. */
  readonly orientation: number;
  readonly hasAlpha: boolean;
  /** Frames or pages in the file; only the first is used. */
  readonly pages: number;
  /** sharp's colour space name, e.g. srgb, b-w, cmyk. */
  readonly space: string;
}

// Vector input is refused, not rendered: the pixel size would be a guess (72 DPI makes most SVGs tiny) and a
// rendering the flow's author never saw would be inpainted and billed. Rasterising is their call.
const VECTOR_FORMATS: ReadonlySet<string> = new Set(['svg', 'pdf']);

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
  };
}

/**
 * A pipeline over the source with the shared decoder options. `failOn: 'error'` refuses truncated and broken
 * data but tolerates the warnings many phone and editor JPEGs carry; the pixel limit is a backstop to
 * `probe`'s check for anything that reaches the decoder.
 */
export function open(source: SourceImage): Sharp {
  return sharp(source.data, { failOn: 'error', limitInputPixels: source.limits.maxInputPixels });
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
  const reason = describeSharpError(err);
  if (/exceeds pixel limit/i.test(reason)) {
    return invalidInput(text('image.overPixelLimit', { property, limit: formatPixels(limits.maxInputPixels) }), err);
  }
  return invalidInput(text('image.undecodable', { property, reason }), err);
}

/** libvips reports one line per layer ("VipsJpeg: ...\nvips2png: ..."): keep them all, on one line. */
function describeSharpError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const oneLine = message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .join('; ')
    .replace(/[.;:\s]+$/, '');
  return oneLine.length > 300 ? `${oneLine.slice(0, 300)}…` : oneLine || 'unknown decoder error';
}
