/**
 * The bytes sent as `image`: upright, without alpha, in a format the API takes, re-encoded only when needed.
 */
import { decode, verifyDecodes, type SourceImage } from './decode';
import type { ImageFormat } from './types';

export interface EncodedImage {
  image: Buffer;
  imageFormat: ImageFormat;
  width: number;
  height: number;
}

const API_FORMATS: ReadonlySet<string> = new Set<ImageFormat>(['jpeg', 'png', 'webp']);

/**
 * Re-encoding costs time and, for JPEG, a generation of quality, so a file the API can take as it is goes
 * unchanged. Not as it is: EXIF-rotated (the server might not rotate, or rotate a second time), alpha (it
 * would act as a second mask), animations (only the first frame is meant), and CMYK (naive CMYK to RGB
 * conversion on the server shifts colours).
 */
export function canSendAsIs(source: SourceImage): boolean {
  return (
    API_FORMATS.has(source.format) &&
    source.orientation === 1 &&
    !source.hasAlpha &&
    source.pages === 1 &&
    source.space !== 'cmyk'
  );
}

export async function encodeImage(source: SourceImage): Promise<EncodedImage> {
  if (canSendAsIs(source)) {
    await verifyDecodes(source);
    const imageFormat = source.format as ImageFormat;
    return { image: source.data, imageFormat, width: source.width, height: source.height };
  }

  // sharp writes no metadata unless asked, so the EXIF orientation just applied cannot be applied again, and
  // converts to sRGB, dropping any ICC profile the server might ignore.
  // removeAlpha rather than flatten: the colours under transparent pixels are kept, which gives the model
  // the original picture as context; the area is regenerated anyway.
  const { data, info } = await decode(source, (image) => {
    const upright = image.autoOrient().removeAlpha();
    // A JPEG stays a JPEG, at a quality and without chroma subsampling that lose nothing visible; anything
    // else becomes PNG, which loses nothing at all.
    const encoded =
      source.format === 'jpeg' ? upright.jpeg({ quality: 95, chromaSubsampling: '4:4:4' }) : upright.png();
    return encoded.toBuffer({ resolveWithObject: true });
  });
  const imageFormat = info.format === 'jpeg' ? 'jpeg' : 'png';
  return { image: data, imageFormat, width: info.width, height: info.height };
}
