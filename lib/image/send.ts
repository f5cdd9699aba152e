/**
 * What is sent: the bytes of `image` (upright, without alpha, in a format the API takes: the flow's own
 * bytes without their metadata when they can go as they are, else re-encoded, cropped or scaled) and of
 * `mask` (a single-channel PNG of the same size, covering every pixel to fill). Neither carries metadata
 * of the input: see ./metadata.
 */
import { sameBox, wholeImage, type SendArea } from './geometry';
import { decode, verifyDecodes } from './input';
import { stripMetadata } from './metadata';
import { mono, regionPlane, regionToPng, resampleMask } from './region';
import type { ImageFormat, MaskRegion, SourceImage } from './types';

interface SentImage {
  image: Buffer;
  imageFormat: ImageFormat;
  width: number;
  height: number;
}

const API_FORMATS: ReadonlySet<string> = new Set<ImageFormat>(['jpeg', 'png', 'webp']);

/**
 * A JPEG at a quality and without chroma subsampling that lose nothing visible: whole images, results. Its
 * Huffman tables are not optimised: that takes a second pass over every coefficient of the image, all held in
 * memory (over 100 MB for 12 MP), to save a few percent of the bytes.
 */
export const FAITHFUL_JPEG = { quality: 95, chromaSubsampling: '4:4:4', optimiseCoding: false } as const;
/**
 * A cropped or scaled JPEG: context for the model, not pixels the flow gets back (paste-back keeps the
 * original's own), so it need not be near-lossless: quality 90 with the usual chroma subsampling is half the
 * bytes of the above, for no visible difference.
 */
const RESAMPLED_JPEG = { quality: 90 } as const;

/**
 * Re-encoding costs time and, for JPEG, a generation of quality, so a file the API can take as it is goes
 * with its pixel data untouched, only its metadata removed. Not as it is: EXIF-rotated (the server might not
 * rotate, or rotate a second time), alpha (it would act as a second mask), animations (only the first frame
 * is meant), and CMYK (naive CMYK to RGB conversion on the server shifts colours).
 */
function canSendAsIs(source: SourceImage): boolean {
  return (
    API_FORMATS.has(source.format) &&
    source.orientation === 1 &&
    !source.hasAlpha &&
    source.pages === 1 &&
    source.space !== 'cmyk'
  );
}

/** The image sent for `area`: the source as it is (without metadata) when it can go so, else re-encoded. */
export async function sentImage(source: SourceImage, area: SendArea): Promise<SentImage> {
  const asIs = !area.resampled && canSendAsIs(source) ? await withoutMetadata(source) : undefined;
  if (asIs) {
    return { image: asIs, imageFormat: source.format as ImageFormat, width: source.width, height: source.height };
  }

  // sharp writes no metadata unless asked (no EXIF, XMP, IPTC or comments), so the EXIF orientation just
  // applied cannot be applied again, and converts to sRGB, dropping any ICC profile the server might ignore.
  // removeAlpha rather than flatten: the colours under transparent pixels are kept, which gives the model
  // the original picture as context; the area is regenerated anyway.
  const { data, info } = await decode(source, (image) => {
    let pipeline = image.autoOrient().removeAlpha();
    if (area.resampled) {
      // sharp applies the orientation before a pre-resize extract, so the crop is in upright pixels.
      if (!sameBox(area.crop, wholeImage(source.width, source.height))) pipeline = pipeline.extract(area.crop);
      pipeline = pipeline.resize(area.width, area.height, { fit: 'fill' });
    }
    // A JPEG stays a JPEG; anything else becomes PNG, which loses nothing at all.
    const encoded =
      source.format === 'jpeg' ? pipeline.jpeg(area.resampled ? RESAMPLED_JPEG : FAITHFUL_JPEG) : pipeline.png();
    return encoded.toBuffer({ resolveWithObject: true });
  });
  return { image: data, imageFormat: info.format === 'jpeg' ? 'jpeg' : 'png', width: info.width, height: info.height };
}

/**
 * The source's bytes without their metadata, decoded once to prove they are whole (a truncated download is
 * refused here rather than paid for at the API). Undefined when they are better re-encoded: a structure the
 * stripper does not understand, or stripped bytes that do not decode (the re-encoding then decodes the
 * original, and refuses it if it is broken).
 */
async function withoutMetadata(source: SourceImage): Promise<Buffer | undefined> {
  const clean = stripMetadata(source.data, source.format);
  if (clean === undefined) return undefined;
  if (clean === source.data) {
    await verifyDecodes(source);
    return clean;
  }
  try {
    await verifyDecodes({ ...source, data: clean });
    return clean;
  } catch {
    return undefined;
  }
}

/** The mask sent for `area`: the crop at the sent size; every pixel to fill stays covered after scaling. */
export async function sentMask(region: MaskRegion, area: SendArea): Promise<Buffer> {
  if (!area.resampled) return regionToPng(region);
  const plane = await regionPlane(region, area.crop);
  const scaled = await resampleMask(plane, area.crop, area, 'any');
  return mono(scaled, area.width, area.height).toColourspace('b-w').png().toBuffer();
}
