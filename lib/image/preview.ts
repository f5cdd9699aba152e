/**
 * The workspace preview: a small JPEG of the result with the mask's outline drawn on it, sent to the editor
 * over its comms channel. It is never larger than the box it is shown in, so a busy flow does not push
 * megabytes through the editor's websocket.
 */
import sharp from 'sharp';

export const PREVIEW_MAX_SIDE = 160;
const OUTLINE_COLOUR = { r: 255, g: 64, b: 160 };

export interface Preview {
  /** data:image/jpeg;base64,... */
  dataUrl: string;
  width: number;
  height: number;
}

/** The mask's edge at thumbnail size, as an RGBA overlay (outline opaque, everything else transparent). */
async function outlineOverlay(mask: Buffer, width: number, height: number): Promise<Buffer> {
  const small = await sharp(mask)
    .greyscale()
    .resize(width, height, { fit: 'fill' })
    .threshold(128)
    .extractChannel(0)
    .raw()
    .toBuffer();
  const inside = (x: number, y: number): boolean =>
    x >= 0 && y >= 0 && x < width && y < height && small[y * width + x]! > 0;
  const overlay = Buffer.alloc(width * height * 4);
  // At most PREVIEW_MAX_SIDE² pixels, so a plain loop costs well under a millisecond.
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const edge = inside(x, y) && !(inside(x - 1, y) && inside(x + 1, y) && inside(x, y - 1) && inside(x, y + 1));
      if (!edge) continue;
      const offset = (y * width + x) * 4;
      overlay[offset] = OUTLINE_COLOUR.r;
      overlay[offset + 1] = OUTLINE_COLOUR.g;
      overlay[offset + 2] = OUTLINE_COLOUR.b;
      overlay[offset + 3] = 255;
    }
  }
  return sharp(overlay, { raw: { width, height, channels: 4 } })
    .png()
    .toBuffer();
}

/** A thumbnail of `image` fitting `maxSide`, with the outline of `mask` (any size; stretched to fit) on it. */
export async function makePreview(image: Buffer, mask?: Buffer, maxSide = PREVIEW_MAX_SIDE): Promise<Preview> {
  const { data: thumbnail, info } = await sharp(image)
    .autoOrient()
    .resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  let picture = sharp(thumbnail, { raw: { width: info.width, height: info.height, channels: info.channels } });
  if (mask) picture = picture.composite([{ input: await outlineOverlay(mask, info.width, info.height) }]);
  // No chroma subsampling: it would smear the one-pixel outline.
  const jpeg = await picture.jpeg({ quality: 70, chromaSubsampling: '4:4:4' }).toBuffer();
  return { dataUrl: `data:image/jpeg;base64,${jpeg.toString('base64')}`, width: info.width, height: info.height };
}

/** The painter's background in the editor: the input upright, at most `maxSide` a side, as a JPEG. */
export async function makeThumbnail(image: Buffer, maxSide: number): Promise<Buffer> {
  return (
    sharp(image)
      .autoOrient()
      .resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true })
      // Transparent parts (the area to fill, for an alpha mask) show as grey rather than black.
      .flatten({ background: '#808080' })
      .jpeg({ quality: 80 })
      .toBuffer()
  );
}
