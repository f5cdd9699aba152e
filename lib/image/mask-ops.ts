/**
 * What the node's mask options do to a mask: invert, grow (a morphological dilation with a disc) and feather
 * (a soft alpha ramp for pasting back). Invert and grow change the mask that is sent, which stays strictly
 * black and white; feather only makes the alpha used to blend the result into the original.
 * All pixel work runs in sharp; the work area is the mask's box (plus the growth), not the whole image.
 */
import sharp from 'sharp';
import { boxArea, expand, wholeImage } from './box';
import { rawMono, regionFromPlane, regionPlane, resampleMask, type MaskRegion } from './mask-region';

/** Above this many pixels of work area, or a growth beyond MAX_WORK_RADIUS, grow works on a smaller copy. */
const GROW_WORK_PIXELS = 1_000_000;
const MAX_WORK_RADIUS = 32;

/**
 * Discrete discs for the dilation passes. A disc of radius 3 (x² + y² <= 10) reaches 3 pixels along the axes
 * and 2.8 to 3.2 in other directions, so repeated passes stay close to a true disc: a growth of 20 reaches
 * exactly 20 along the axes, 19 to 21 elsewhere (18.4 on the exact diagonal, where pixels lie 1.41 apart).
 */
const DISC_3 = discKernel(3, 10);
const DISC_2 = discKernel(2, 5);
const CROSS = discKernel(1, 1);

interface Kernel {
  width: number;
  height: number;
  kernel: number[];
}

/** The value a blur turns solid 255 into (255, or a little less for some sigmas). */
async function blurredFull(blur: { sigma: number; minAmplitude: number }): Promise<number> {
  // The blur repeats the edge pixels past the border, so a tiny solid plane is solid everywhere.
  const solid = await sharp(Buffer.alloc(64, 255), rawMono(8, 8)).blur(blur).toColourspace('b-w').raw().toBuffer();
  return Math.max(1, solid[0]!);
}

function discKernel(radius: number, squaredReach: number): Kernel {
  const kernel: number[] = [];
  for (let y = -radius; y <= radius; y += 1) {
    for (let x = -radius; x <= radius; x += 1) kernel.push(x * x + y * y <= squaredReach ? 1 : 0);
  }
  return { width: 2 * radius + 1, height: 2 * radius + 1, kernel };
}

/**
 * Swaps fill and keep. Without a region (nothing to fill), the inverse fills the whole image. Undefined
 * when the inverse fills nothing (the mask filled every pixel).
 */
export async function invertMask(
  region: MaskRegion | undefined,
  width: number,
  height: number,
): Promise<MaskRegion | undefined> {
  const whole = wholeImage(width, height);
  if (!region) return { width, height, box: whole, data: Buffer.alloc(width * height, 255) };
  const { box } = region;
  // sharp negates after it extends, so the black border becomes the filled outside.
  const inverse = await sharp(region.data, rawMono(box.width, box.height))
    .extend({
      top: box.top,
      left: box.left,
      bottom: height - box.top - box.height,
      right: width - box.left - box.width,
      background: '#000000',
    })
    .negate()
    .toColourspace('b-w')
    .raw()
    .toBuffer();
  return regionFromPlane(inverse, whole, width, height);
}

/**
 * Grows the area to fill by `by` pixels in every direction (a dilation with a disc, clipped to the image).
 * The dilation runs as passes of small discs (sharp's convolve, then every sum above 0 is filled). A large
 * work area or growth is done on a copy scaled down to about 1 MP and 32 passes at most, scaled back up and
 * merged with the original, so the growth is then accurate to the scale factor (a few pixels) instead of one.
 */
export async function growMask(region: MaskRegion, by: number): Promise<MaskRegion> {
  if (by <= 0) return region;
  const area = expand(region.box, by, wholeImage(region.width, region.height));
  const plane = await regionPlane(region, area);
  const factor = Math.max(1, Math.sqrt(boxArea(area) / GROW_WORK_PIXELS), by / MAX_WORK_RADIUS);
  let grown: Buffer;
  if (factor <= 1) {
    grown = await dilate(plane, area.width, area.height, by);
  } else {
    const small = {
      width: Math.max(1, Math.round(area.width / factor)),
      height: Math.max(1, Math.round(area.height / factor)),
    };
    const radius = Math.max(1, Math.round((by * (small.width / area.width + small.height / area.height)) / 2));
    const coarse = await resampleMask(plane, area, small, 'any');
    const dilated = await dilate(coarse, small.width, small.height, radius);
    const back = await resampleMask(dilated, small, area, 'half');
    // The coarse copy may round a thin part away; the original pixels always stay filled.
    grown = await sharp(back, rawMono(area.width, area.height))
      .boolean(plane, 'or', rawMono(area.width, area.height))
      .toColourspace('b-w')
      .raw()
      .toBuffer();
  }
  return (await regionFromPlane(grown, area, region.width, region.height)) ?? region;
}

async function dilate(plane: Buffer, width: number, height: number, radius: number): Promise<Buffer> {
  const passes: Kernel[] = Array<Kernel>(Math.floor(radius / 3)).fill(DISC_3);
  if (radius % 3 === 2) passes.push(DISC_2);
  if (radius % 3 === 1) passes.push(CROSS);
  let data = plane;
  for (const kernel of passes) {
    // A filled pixel is 255, so any sum above 0 is at least 255, which uchar output clips to 255.
    data = await sharp(data, rawMono(width, height))
      .convolve({ ...kernel, scale: 1, offset: 0 })
      .toColourspace('b-w')
      .raw()
      .toBuffer();
  }
  return data;
}

/**
 * The alpha for pasting back: 0 outside the mask, rising from the mask's edge to 255 about `width` pixels
 * inside it (a Gaussian ramp: 95% at `width`). Where the mask meets the image border there is no ramp: the
 * border is not an edge between filled and kept pixels. Returns box-size bytes for `region.box`.
 */
export async function featherMask(region: MaskRegion, width: number): Promise<Buffer> {
  const { box } = region;
  if (width <= 0) return region.data;
  const sigma = width / 2;
  const pad = Math.ceil(3 * sigma) + 1;
  const padded = expand(box, pad, wholeImage(region.width, region.height));
  const plane = await regionPlane(region, padded);
  // Past the image border, repeat the border pixels instead of padding with keep.
  const copy = {
    top: pad - (box.top - padded.top),
    left: pad - (box.left - padded.left),
    bottom: pad - (padded.top + padded.height - box.top - box.height),
    right: pad - (padded.left + padded.width - box.left - box.width),
  };
  let pipeline = sharp(plane, rawMono(padded.width, padded.height));
  if (copy.top + copy.left + copy.bottom + copy.right > 0) pipeline = pipeline.extend({ ...copy, extendWith: 'copy' });
  // blurred = full * Phi(d / sigma) at a depth d inside a straight edge, so 2 * blurred / full - 1 is 0 at the
  // edge, 1 deep inside and below 0 (clipped to 0) outside; the AND below makes outside exactly 0 at corners
  // too. `full` is what the blur makes of solid 255: sharp's integer kernels do not always sum to exactly 1.
  const blur = { sigma, minAmplitude: 0.01 };
  const full = await blurredFull(blur);
  const ramp = await pipeline
    .blur(blur)
    .linear(510 / full, -255)
    .toColourspace('b-w')
    .raw()
    .toBuffer();
  return sharp(ramp, rawMono(box.width + 2 * pad, box.height + 2 * pad))
    .extract({ left: pad, top: pad, width: box.width, height: box.height })
    .boolean(region.data, 'and', rawMono(box.width, box.height))
    .toColourspace('b-w')
    .raw()
    .toBuffer();
}
