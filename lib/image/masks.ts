/**
 * The mask, as a region: made from msg.mask's image, from its shapes (drawn here), or from the image's
 * alpha channel; then what the node's mask options do to it: invert, grow (a morphological dilation with a
 * disc) and feather (a soft alpha ramp for pasting back). The mask sent stays strictly black and white: 255
 * where the image is to be filled, 0 where it is kept, nothing in between, because the API does not say
 * what it makes of grey. Feather only makes the alpha used to blend the result into the original.
 * All pixel work runs in sharp; the work area is the mask's box (plus the growth), not the whole image.
 */
import sharp from 'sharp';
import { invalidInput } from '../errors';
import { text } from '../messages';
import { boxArea, expand, wholeImage } from './geometry';
import { IMAGE_PROPERTY, MASK_PROPERTY, decode, probe } from './input';
import { mono, onCanvas, rawMono, regionFromPlane, regionPlane, regionToPng, resampleMask } from './region';
import { looksLikeFractions, parseShapes, placeShapes, type PlacedShape, type ShapeSpec } from './shapes';
import type { Box, MaskRegion, ResolvedLimits, SourceImage } from './types';

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

function discKernel(radius: number, squaredReach: number): Kernel {
  const kernel: number[] = [];
  for (let y = -radius; y <= radius; y += 1) {
    for (let x = -radius; x <= radius; x += 1) kernel.push(x * x + y * y <= squaredReach ? 1 : 0);
  }
  return { width: 2 * radius + 1, height: 2 * radius + 1, kernel };
}

/**
 * The mask of a fill as a region: msg.mask's shapes, else msg.mask's image, else the image's alpha
 * (transparent fills). Undefined only when it fills nothing and `allowEmpty` (it is about to be inverted).
 */
export async function readMask(
  source: SourceImage,
  shapes: readonly ShapeSpec[] | undefined,
  maskBytes: Buffer | undefined,
  limits: ResolvedLimits,
  allowEmpty: boolean,
  shapesProperty = MASK_PROPERTY,
): Promise<MaskRegion | undefined> {
  if (shapes) return shapesRegion(shapes, source.width, source.height, shapesProperty);
  if (maskBytes) {
    const mask = await probe(maskBytes, MASK_PROPERTY, limits);
    checkSameSize(mask, source);
    const region = await maskFromImage(mask);
    if (!region && !allowEmpty) throw invalidInput(text('geometry.maskEmpty', { property: MASK_PROPERTY }));
    return region;
  }
  if (!source.hasAlpha) {
    throw invalidInput(text('geometry.noMask', { image: IMAGE_PROPERTY, mask: MASK_PROPERTY }));
  }
  const region = await maskFromAlpha(source);
  if (!region && !allowEmpty) throw invalidInput(text('geometry.alphaEmpty', { property: IMAGE_PROPERTY }));
  return region;
}

/**
 * Both sizes are compared upright, so a mask drawn on the picture as viewers show it fits a phone photo
 * whose pixels are stored sideways.
 */
function checkSameSize(mask: SourceImage, image: SourceImage): void {
  if (mask.width === image.width && mask.height === image.height) return;
  const params = {
    mask: mask.property,
    maskWidth: mask.width,
    maskHeight: mask.height,
    image: image.property,
    width: image.width,
    height: image.height,
  };
  if (image.orientation === 1) throw invalidInput(text('mask.sizeMismatch', params));
  const drawnOnStoredPixels = mask.width === image.storedWidth && mask.height === image.storedHeight;
  throw invalidInput(
    text(drawnOnStoredPixels ? 'mask.sizeMismatchStored' : 'mask.sizeMismatchOriented', {
      ...params,
      orientation: image.orientation,
    }),
  );
}

/**
 * Any decodable image: transparent areas count as black (keep), so a layer of white strokes on transparency
 * works as a mask; then greyscale, and 128 or brighter fills. sharp applies flatten, greyscale and threshold
 * in that order whatever the call order. An image that also has alpha is sent without it: msg.mask is the
 * one mask that counts.
 */
async function maskFromImage(mask: SourceImage): Promise<MaskRegion | undefined> {
  const { data, info } = await decode(mask, (image) =>
    image
      .autoOrient()
      .flatten({ background: '#000000' })
      .greyscale()
      .threshold(128)
      .toColourspace('b-w')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true }),
  );
  return regionFromPlane(data, wholeImage(info.width, info.height), info.width, info.height);
}

/** Transparent (alpha below 128) fills. */
async function maskFromAlpha(image: SourceImage): Promise<MaskRegion | undefined> {
  // sharp thresholds before it extracts a channel, so the alpha comes out first and is thresholded in a
  // step of its own. It comes out as 8 bits even from a 16-bit image (sharp converts to 8-bit sRGB before
  // extracting), and negated: 255 - alpha >= 128 exactly when alpha < 128.
  const { data, info } = await decode(image, (pipeline) =>
    pipeline
      .autoOrient()
      .extractChannel('alpha')
      .negate()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true }),
  );
  const binary = await mono(data, info.width, info.height).threshold(128).toColourspace('b-w').raw().toBuffer();
  return regionFromPlane(binary, wholeImage(info.width, info.height), info.width, info.height);
}

/**
 * The mask of msg.mask's shapes (see ./shapes for the forms accepted) over a width×height image, as a
 * single-channel PNG the image's size (255 fill, 0 keep).
 */
export async function maskFromShapes(shapes: unknown, width: number, height: number): Promise<Buffer> {
  return regionToPng(await shapesRegion(parseShapes(shapes), width, height));
}

/**
 * The checked shapes drawn over a width×height image: an SVG of only the shapes' bounding box (clipped to
 * the image), rendered by sharp and made black and white. A pixel is filled when the shapes cover at least
 * half of it, so a rectangle with whole-pixel edges fills exactly its pixels. BFL_INVALID_INPUT when they
 * fill no pixel.
 */
async function shapesRegion(
  specs: readonly ShapeSpec[],
  width: number,
  height: number,
  property = MASK_PROPERTY,
): Promise<MaskRegion> {
  const placed = placeShapes(specs, width, height);
  const area = drawingArea(placed, width, height);
  const region = area && (await regionFromPlane(await draw(placed, area), area, width, height));
  if (!region) {
    const key = looksLikeFractions(specs) ? 'shapes.nothingToFillFractions' : 'shapes.nothingToFill';
    throw invalidInput(text(key, { property }));
  }
  return region;
}

/** Whole pixels around every shape's bounds, within the image; undefined when that is empty. */
function drawingArea(placed: readonly PlacedShape[], width: number, height: number): Box | undefined {
  const x0 = Math.max(0, Math.floor(Math.min(...placed.map((shape) => shape.bounds.x0))));
  const y0 = Math.max(0, Math.floor(Math.min(...placed.map((shape) => shape.bounds.y0))));
  const x1 = Math.min(width, Math.ceil(Math.max(...placed.map((shape) => shape.bounds.x1))));
  const y1 = Math.min(height, Math.ceil(Math.max(...placed.map((shape) => shape.bounds.y1))));
  return x1 > x0 && y1 > y0 ? { left: x0, top: y0, width: x1 - x0, height: y1 - y0 } : undefined;
}

/** At most 3 decimals, never exponent notation (coordinates are bounded by placeShapes). */
function n(value: number): string {
  return String(Math.round(value * 1000) / 1000);
}

function svgElement(shape: PlacedShape): string {
  const g = shape.geometry;
  switch (g.type) {
    case 'rectangle':
      return `<rect x="${n(g.x)}" y="${n(g.y)}" width="${n(g.width)}" height="${n(g.height)}"/>`;
    case 'ellipse':
      return `<ellipse cx="${n(g.cx)}" cy="${n(g.cy)}" rx="${n(g.rx)}" ry="${n(g.ry)}"/>`;
    case 'polygon':
      return `<polygon points="${g.points.map(([x, y]) => `${n(x)},${n(y)}`).join(' ')}"/>`;
  }
}

/** The shapes over `area`, as a 0/255 plane of area's size. */
async function draw(placed: readonly PlacedShape[], area: Box): Promise<Buffer> {
  const { left, top, width, height } = area;
  // The view box is the drawing area in image pixels, so shapes keep their image coordinates.
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="${left} ${top} ${width} ${height}">` +
    `<rect x="${left}" y="${top}" width="${width}" height="${height}" fill="#000"/>` +
    `<g fill="#fff" fill-rule="nonzero">${placed.map(svgElement).join('')}</g></svg>`;
  return sharp(Buffer.from(svg), { density: 72, limitInputPixels: false })
    .threshold(128)
    .extractChannel(0)
    .toColourspace('b-w')
    .raw()
    .toBuffer();
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
  const inverse = await mono(region.data, box.width, box.height)
    .extend(onCanvas(box, width, height))
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
    grown = await mono(back, area.width, area.height)
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
    data = await mono(data, width, height)
      .convolve({ ...kernel, scale: 1, offset: 0 })
      .toColourspace('b-w')
      .raw()
      .toBuffer();
  }
  return data;
}

/** The value a blur turns solid 255 into (255, or a little less for some sigmas). */
async function blurredFull(blur: { sigma: number; minAmplitude: number }): Promise<number> {
  // The blur repeats the edge pixels past the border, so a tiny solid plane is solid everywhere.
  const solid = await mono(Buffer.alloc(64, 255), 8, 8).blur(blur).toColourspace('b-w').raw().toBuffer();
  return Math.max(1, solid[0]!);
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
  let pipeline = mono(plane, padded.width, padded.height);
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
  return mono(ramp, box.width + 2 * pad, box.height + 2 * pad)
    .extract({ left: pad, top: pad, width: box.width, height: box.height })
    .boolean(region.data, 'and', rawMono(box.width, box.height))
    .toColourspace('b-w')
    .raw()
    .toBuffer();
}
