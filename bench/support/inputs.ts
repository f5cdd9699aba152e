/** The bench's inputs: photo-like PNGs (noise compresses as badly as a photo) and a mask with one box. */
import sharp from 'sharp';

export async function photoLikePng(width: number, height: number): Promise<Buffer> {
  return sharp({
    create: { width, height, channels: 3, background: '#6080a0', noise: { type: 'gaussian', mean: 128, sigma: 40 } },
  })
    .png({ compressionLevel: 1 })
    .toBuffer();
}

/** A photo-like JPEG, as a camera or a snapshot node gives it. */
export async function photoLikeJpeg(width: number, height: number): Promise<Buffer> {
  return sharp({
    create: { width, height, channels: 3, background: '#6080a0', noise: { type: 'gaussian', mean: 128, sigma: 40 } },
  })
    .jpeg({ quality: 90 })
    .toBuffer();
}

export async function boxMaskPng(width: number, height: number): Promise<Buffer> {
  const svg =
    `<svg width="${width}" height="${height}"><rect width="100%" height="100%" fill="black"/>` +
    `<rect x="${width * 0.375}" y="${height / 3}" width="${width / 5}" height="${height / 5}" fill="white"/></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** Width and height of a 4:3 image of at most `megapixels` (20 MP is the most the API takes). */
export function sizeOf(megapixels: number): { width: number; height: number } {
  const width = Math.floor(Math.sqrt((megapixels * 1e6 * 4) / 3) / 8) * 8;
  return { width, height: Math.floor((width * 3) / 4 / 8) * 8 };
}
