/**
 * After downloading, the last stage of a fill: the generated image put back into the original, so that the
 * result has the input's size and, with paste-back, every pixel outside the mask is the input's own (after
 * EXIF orientation, as 8-bit sRGB the way sharp decodes it).
 *
 * - The generated image covers the crop that was sent, whatever size the API returned it at: it is scaled
 *   to the crop's size in the original (this also undoes the megapixel cap's downscaling).
 * - Paste-back on: only the mask's box is composited, through the mask (feathered inward when maskFeather
 *   is set), over the decoded original. Compositing is exact: alpha 0 keeps the original's value, alpha 255
 *   takes the generated one. PNG output therefore keeps every pixel outside the mask bit for bit; JPEG and
 *   WebP output (quality 90) are exact before encoding, and the lossy encoding then changes pixels slightly
 *   everywhere, as any JPEG re-encoding does.
 * - Paste-back off: without cropping or scaling, the API's image is returned as it came. With them, the
 *   generated crop (scaled back) replaces the whole crop box, and the rest is the original.
 * Memory: the original is decoded inside sharp's pipeline; only the patch (the mask's box) is held in
 * JavaScript.
 */
import sharp, { type Sharp } from 'sharp';
import { BflError, downloadError } from '../errors';
import { text } from '../messages';
import { relativeTo } from './geometry';
import { DEFAULT_MAX_INPUT_PIXELS, decoderOptions, open, sharpReason } from './input';
import { featherMask } from './masks';
import { loadRegion, rawMono } from './region';
import { FAITHFUL_JPEG } from './send';
import type { Box, FillGeometry, ImageFormat } from './types';

export interface ComposeOptions {
  /** The format the result is encoded in: the node's outputFormat. */
  outputFormat: ImageFormat;
  /** The task the image came from, for messages. */
  taskId?: string;
}

const WEBP_QUALITY = 90;

/** The result image for the flow, in `options.outputFormat` (or the API's bytes as they came, see above). */
export async function composeResult(
  generated: Buffer,
  geometry: FillGeometry,
  options: ComposeOptions,
): Promise<Buffer> {
  const { pasteBack, maskFeather } = geometry.options;
  if (!pasteBack && !geometry.resampled) return generated;

  const region = pasteBack ? await loadRegion(geometry.mask) : undefined;
  const patch = region ? region.box : geometry.crop;
  const rgb = await generatedPatch(generated, geometry.crop, patch, options.taskId);
  let overlay = rgb;
  let channels: 3 | 4 = 3;
  if (region) {
    const alpha = await featherMask(region, maskFeather);
    overlay = await sharp(rgb, { raw: { width: patch.width, height: patch.height, channels: 3 } })
      .joinChannel(alpha, rawMono(patch.width, patch.height))
      .raw()
      .toBuffer();
    channels = 4;
  }

  const base = await originalImage(geometry);
  const composed = base
    .composite([
      { input: overlay, raw: { width: patch.width, height: patch.height, channels }, left: patch.left, top: patch.top },
    ])
    .removeAlpha();
  return encode(composed, options).toBuffer();
}

/** The generated image scaled to the crop's size in the original, cut to `patch`, as raw 8-bit RGB. */
async function generatedPatch(generated: Buffer, crop: Box, patch: Box, taskId: string | undefined): Promise<Buffer> {
  try {
    // A resize to the size it already has does nothing, so a same-size result is used pixel for pixel.
    return await sharp(generated, decoderOptions(DEFAULT_MAX_INPUT_PIXELS))
      .removeAlpha()
      .resize(crop.width, crop.height, { fit: 'fill' })
      .extract(relativeTo(patch, crop))
      .toColourspace('srgb')
      .raw()
      .toBuffer();
  } catch (err) {
    const reason = text('geometry.resultUndecodable', { reason: sharpReason(err) });
    if (taskId !== undefined) throw downloadError(taskId, reason, undefined, err);
    throw new BflError('BFL_DOWNLOAD', reason, { cause: err });
  }
}

/** The upright original, ready to be composited over without changing a kept pixel. */
export async function originalImage(geometry: Pick<FillGeometry, 'source' | 'flattenSource'>): Promise<Sharp> {
  const upright = open(geometry.source).autoOrient();
  if (!geometry.flattenSource) return upright;
  // Alpha would be blended by the compositing and 16-bit or CMYK pixels converted after it: drop and convert
  // first. Costs one full-size RGB copy, for such inputs only.
  const { data, info } = await upright.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } });
}

export function encode(image: Sharp, options: ComposeOptions): Sharp {
  switch (options.outputFormat) {
    case 'png':
      return image.png();
    case 'webp':
      // Lossy: exact paste-back is what PNG output is for (lossless WebP took ten times as long for 12 MP).
      return image.webp({ quality: WEBP_QUALITY });
    case 'jpeg':
      return image.jpeg(FAITHFUL_JPEG);
  }
}
