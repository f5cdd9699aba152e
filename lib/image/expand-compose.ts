/**
 * After downloading an expand: the API's picture at the size asked for, (width + left + right) ×
 * (height + top + bottom), scaled to it when the API answered another size; with paste-back, the original's
 * own pixels put back inside it. A seam (seamFeather) blends the original's edges that meet new area into the
 * generated picture over a Gaussian ramp, as a fill's feather does; edges on the picture's border get none.
 * Without a seam every pixel of the original is the input's (bit for bit in PNG output).
 */
import sharp from 'sharp';
import { BflError, downloadError } from '../errors';
import { text } from '../messages';
import { composeResult, encode, originalImage, type ComposeOptions } from './compose';
import { DEFAULT_MAX_INPUT_PIXELS, decoderOptions, sharpReason } from './input';
import { featherMask } from './masks';
import { rawMono } from './region';
import type { ExpandGeometry, JobGeometry, MaskRegion } from './types';

export function isExpandGeometry(geometry: JobGeometry): geometry is ExpandGeometry {
  return 'kind' in geometry && geometry.kind === 'expand';
}

/** The result of either kind of job, by its geometry. */
export function composeJobResult(generated: Buffer, geometry: JobGeometry, options: ComposeOptions): Promise<Buffer> {
  return isExpandGeometry(geometry)
    ? composeExpanded(generated, geometry, options)
    : composeResult(generated, geometry, options);
}

export async function composeExpanded(
  generated: Buffer,
  geometry: ExpandGeometry,
  options: ComposeOptions,
): Promise<Buffer> {
  const { width, height } = geometry;
  const canvas = await generatedCanvas(generated, geometry, options.taskId);
  if (!geometry.options.pasteBack) {
    if (canvas.sameSize) return generated;
    return encode(sharp(canvas.rgb, { raw: { width, height, channels: 3 } }), options).toBuffer();
  }
  const { source, sides } = geometry;
  // The original as a region on the canvas: its feathered "fill" is the original's opacity over the canvas.
  const original: MaskRegion = {
    width,
    height,
    box: { left: sides.left, top: sides.top, width: source.width, height: source.height },
    data: Buffer.alloc(source.width * source.height, 255),
  };
  const [alpha, rgb] = await Promise.all([
    featherMask(original, geometry.options.seamFeather),
    (await originalImage(geometry)).removeAlpha().toColourspace('srgb').raw().toBuffer(),
  ]);
  const overlay = await sharp(rgb, { raw: { width: source.width, height: source.height, channels: 3 } })
    .joinChannel(alpha, rawMono(source.width, source.height))
    .raw()
    .toBuffer();
  const composed = sharp(canvas.rgb, { raw: { width, height, channels: 3 } })
    .composite([
      {
        input: overlay,
        raw: { width: source.width, height: source.height, channels: 4 },
        left: sides.left,
        top: sides.top,
      },
    ])
    .removeAlpha();
  return encode(composed, options).toBuffer();
}

/** The API's picture at the expanded size as raw 8-bit RGB, and whether it came at that size. */
async function generatedCanvas(
  generated: Buffer,
  geometry: ExpandGeometry,
  taskId: string | undefined,
): Promise<{ rgb: Buffer; sameSize: boolean }> {
  try {
    const { data, info } = await sharp(generated, decoderOptions(DEFAULT_MAX_INPUT_PIXELS))
      .removeAlpha()
      .resize(geometry.width, geometry.height, { fit: 'fill' })
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    const meta = await sharp(generated).metadata();
    return { rgb: data, sameSize: meta.width === info.width && meta.height === info.height };
  } catch (err) {
    const reason = text('geometry.resultUndecodable', { reason: sharpReason(err) });
    if (taskId !== undefined) throw downloadError(taskId, reason, undefined, err);
    throw new BflError('BFL_DOWNLOAD', reason, { cause: err });
  }
}
