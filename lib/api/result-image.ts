/**
 * Whether a downloaded result is a whole image. A delivery host can answer a complete-looking 200 of part of an
 * image (a blob stored short, with a Content-Length and MD5 of its own), and without paste-back or scaling those
 * bytes would go to the flow as they came. Only decoding shows it, so the bytes are decoded into a thumbnail:
 * sharp reads the header and every row off the main thread (JPEG and WebP shrink on load, so this is a fraction
 * of a full decode), and refuses truncated and broken data.
 */
import sharp from 'sharp';

/** Far more pixels than the API makes; a bigger image is not a result but a decompression bomb. */
const MAX_RESULT_PIXELS = 100_000_000;

/** Why `bytes` are not a whole image (the decoder's words, on one line), or undefined when they are one. */
export async function imageProblem(bytes: Buffer): Promise<string | undefined> {
  try {
    await sharp(bytes, { failOn: 'error', limitInputPixels: MAX_RESULT_PIXELS })
      .resize(16, 16, { fit: 'fill' })
      .raw()
      .toBuffer();
    return undefined;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const oneLine = message
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '')
      .join('; ');
    return oneLine.slice(0, 200) || 'undecodable';
  }
}
