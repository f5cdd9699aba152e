/**
 * Before submitting: from msg.payload and msg.mask (an image, shapes, or the image's alpha) to the image and
 * mask the API gets, and the geometry that composeResult (paste-back.ts) needs afterwards to put the
 * generated image back into the original. Everything that can be refused is refused here, before a task
 * exists, so bad input costs no credit.
 *
 * Steps: read both inputs -> the mask as a region (mask-region.ts) -> invert -> grow -> choose the part of
 * the image sent and its size (crop.ts) -> the sent mask (black and white, covering every pixel to fill)
 * and the sent image.
 */
import sharp from 'sharp';
import { invalidInput } from '../errors';
import { text } from '../messages';
import { relativeTo, sameBox, wholeImage, type Box } from './box';
import { checkSendable, planSendArea, type SendArea } from './crop';
import { decode, probe, type SourceImage } from './decode';
import { resolveImageOptions, type FillImageOptions, type ResolvedFillImageOptions } from '../fields';
import { encodeImage } from './image';
import { readBytes } from './input';
import { resolveLimits, type ResolvedLimits } from './limits';
import { checkSameSize, decodeBinaryMask } from './mask';
import { growMask, invertMask } from './mask-ops';
import {
  loadRegion,
  rawMono,
  regionFromPlane,
  regionPlane,
  regionToPng,
  resampleMask,
  storeRegion,
  type MaskRegion,
  type StoredMask,
} from './mask-region';
import { shapesRegion } from './shape-mask';
import { isShapeMask, parseShapes, type ShapeSpec } from './shapes';
import type { ImageFormat, ImageLimits, PreparedImages } from './types';

const IMAGE_PROPERTY = 'msg.payload';
const MASK_PROPERTY = 'msg.mask';

/** What composeResult needs to know about a submitted job. Holds no decoded pixels of the full image. */
export interface FillGeometry {
  /** Size of the upright input image, and so of the composed result. */
  readonly width: number;
  readonly height: number;
  /** The part of the upright input that was sent. */
  readonly crop: Box;
  /** Size of the image that was sent. */
  readonly sentWidth: number;
  readonly sentHeight: number;
  /** Whether the image sent was cropped or scaled. */
  readonly resampled: boolean;
  /** The final mask (after invert and grow, before feathering) at full size, compressed. */
  readonly mask: StoredMask;
  /** The input image: the flow's own Buffer (not a copy) and what its header said. */
  readonly source: SourceImage;
  /** Whether the input must be turned into plain 8-bit RGB before compositing (alpha, 16 bits, CMYK). */
  readonly flattenSource: boolean;
  readonly options: ResolvedFillImageOptions;
}

export interface PlannedInputs {
  /** What FillService.run submits. */
  images: PreparedImages;
  geometry: FillGeometry;
}

/**
 * image: msg.payload; mask: msg.mask (an image, shapes, or undefined/null for the image's alpha channel);
 * options: the node's image options (defaults for anything not given).
 */
export async function planInputs(
  image: unknown,
  mask: unknown,
  options?: FillImageOptions,
  limits?: ImageLimits,
): Promise<PlannedInputs> {
  const resolvedLimits = resolveLimits(limits);
  const resolved = resolveImageOptions(options);
  // Everything checkable without decoding is checked first, so a wrong type is reported at once.
  const imageBytes = readBytes(image, IMAGE_PROPERTY, resolvedLimits);
  const noMask = mask === undefined || mask === null;
  const shapes = !noMask && isShapeMask(mask) ? parseShapes(mask, MASK_PROPERTY) : undefined;
  const maskBytes = noMask || shapes ? undefined : readBytes(mask, MASK_PROPERTY, resolvedLimits);

  const source = await probe(imageBytes, IMAGE_PROPERTY, resolvedLimits);
  const { width, height } = source;
  if (!resolved.cropToMask) checkSendable(width, height, resolved, IMAGE_PROPERTY);

  // The mask first: the cheaper half and the likelier to be refused.
  let region = await readMask(source, shapes, maskBytes, resolvedLimits, resolved.maskInvert);
  if (resolved.maskInvert) {
    region = await invertMask(region, width, height);
    if (!region) {
      throw invalidInput(
        text('geometry.invertedNothing', { property: maskBytes || shapes ? MASK_PROPERTY : IMAGE_PROPERTY }),
      );
    }
  }
  if (!region) throw new Error('Internal error: no mask region');
  region = await growMask(region, resolved.maskGrow);

  const area = planSendArea(width, height, region.box, resolved, IMAGE_PROPERTY);
  const maskPng = area.resampled ? await sentMask(region, area) : await regionToPng(region);
  const sent = area.resampled ? await sentImage(source, area) : await encodeImage(source);

  const geometry: FillGeometry = {
    width,
    height,
    crop: area.crop,
    sentWidth: sent.width,
    sentHeight: sent.height,
    resampled: area.resampled,
    mask: await storeRegion(region),
    source,
    flattenSource: await needsFlattening(source),
    options: resolved,
  };
  return {
    images: {
      image: sent.image,
      imageFormat: sent.imageFormat,
      mask: maskPng,
      maskSource: noMask ? 'alpha' : 'mask',
      width: sent.width,
      height: sent.height,
    },
    geometry,
  };
}

/** The final mask at full size as a PNG (255 fill, 0 keep), e.g. for a preview. */
export async function geometryMaskPng(geometry: FillGeometry): Promise<Buffer> {
  return regionToPng(await loadRegion(geometry.mask));
}

/** The mask as a region; undefined only when it fills nothing and `allowEmpty` (it is about to be inverted). */
async function readMask(
  source: SourceImage,
  shapes: ShapeSpec[] | undefined,
  maskBytes: Buffer | undefined,
  limits: ResolvedLimits,
  allowEmpty: boolean,
): Promise<MaskRegion | undefined> {
  const { width, height } = source;
  if (shapes) return shapesRegion(shapes, width, height, MASK_PROPERTY);

  let region: MaskRegion | undefined;
  if (maskBytes) {
    const maskSource = await probe(maskBytes, MASK_PROPERTY, limits);
    checkSameSize(maskSource, source);
    const { data, info } = await decodeBinaryMask(maskSource);
    region = await regionFromPlane(data, wholeImage(info.width, info.height), width, height);
    if (!region && !allowEmpty) throw invalidInput(text('geometry.maskEmpty', { property: MASK_PROPERTY }));
    return region;
  }

  if (!source.hasAlpha) {
    throw invalidInput(text('geometry.noMask', { image: IMAGE_PROPERTY, mask: MASK_PROPERTY }));
  }
  // sharp thresholds before it extracts a channel, so the alpha is thresholded in a second step; negated,
  // 255 - alpha >= 128 exactly when alpha < 128 (transparent fills).
  const inverseAlpha = await decode(source, (pipeline) =>
    pipeline
      .autoOrient()
      .extractChannel('alpha')
      .negate()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true }),
  );
  const { width: planeWidth, height: planeHeight } = inverseAlpha.info;
  const binary = await sharp(inverseAlpha.data, rawMono(planeWidth, planeHeight))
    .threshold(128)
    .toColourspace('b-w')
    .raw()
    .toBuffer();
  region = await regionFromPlane(binary, wholeImage(planeWidth, planeHeight), width, height);
  if (!region && !allowEmpty) throw invalidInput(text('geometry.alphaEmpty', { property: IMAGE_PROPERTY }));
  return region;
}

/** The mask over the crop at the sent size; every pixel to fill stays covered after scaling. */
async function sentMask(region: MaskRegion, area: SendArea): Promise<Buffer> {
  const plane = await regionPlane(region, area.crop);
  const scaled = await resampleMask(plane, area.crop, area, 'any');
  return sharp(scaled, rawMono(area.width, area.height)).toColourspace('b-w').png().toBuffer();
}

interface SentImage {
  image: Buffer;
  imageFormat: ImageFormat;
  width: number;
  height: number;
}

/**
 * JPEG quality for cropped or scaled images. They are context for the model, not pixels the flow gets back
 * (paste-back keeps the original's own), so they need not be near-lossless: quality 90 with the usual chroma
 * subsampling is half the bytes of quality 95 without, for no visible difference.
 */
const RESAMPLED_JPEG_QUALITY = 90;

/** The crop of the upright image at the sent size: a JPEG stays a JPEG, anything else becomes PNG. */
async function sentImage(source: SourceImage, area: SendArea): Promise<SentImage> {
  const whole = wholeImage(source.width, source.height);
  const { data, info } = await decode(source, (image) => {
    let pipeline = image.autoOrient().removeAlpha();
    // sharp applies the orientation before a pre-resize extract, so the crop is in upright pixels.
    if (!sameBox(area.crop, whole)) pipeline = pipeline.extract(relativeTo(area.crop, whole));
    pipeline = pipeline.resize(area.width, area.height, { fit: 'fill' });
    const encoded = source.format === 'jpeg' ? pipeline.jpeg({ quality: RESAMPLED_JPEG_QUALITY }) : pipeline.png();
    return encoded.toBuffer({ resolveWithObject: true });
  });
  return { image: data, imageFormat: info.format === 'jpeg' ? 'jpeg' : 'png', width: info.width, height: info.height };
}

/** Compositing over an 8-bit RGB image keeps its pixels exactly; alpha, 16 bits or CMYK must go first. */
async function needsFlattening(source: SourceImage): Promise<boolean> {
  if (source.hasAlpha || source.space === 'cmyk') return true;
  const { depth } = await sharp(source.data, { limitInputPixels: false }).metadata();
  return depth !== 'uchar' || (source.space !== 'srgb' && source.space !== 'b-w');
}
