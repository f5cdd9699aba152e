/**
 * Drawing msg.mask's shapes: an SVG of only the shapes' bounding box (clipped to the image), rendered by
 * sharp and made black and white. A pixel is filled when the shapes cover at least half of it, so a
 * rectangle with whole-pixel edges fills exactly its pixels.
 */
import sharp from 'sharp';
import { invalidInput } from '../errors';
import { text } from '../messages';
import { wholeImage, type Box } from './box';
import { regionFromPlane, regionToPng, type MaskRegion } from './mask-region';
import { looksLikeFractions, parseShapes, placeShapes, type PlacedShape, type ShapeSpec } from './shapes';

/**
 * The shapes' mask over a width×height image, as a single-channel PNG the image's size (255 fill, 0 keep).
 * `shapes` is msg.mask's value (see shapes.ts for the forms accepted).
 */
export async function maskFromShapes(shapes: unknown, width: number, height: number): Promise<Buffer> {
  return regionToPng(await shapesRegion(parseShapes(shapes), width, height));
}

/** The checked shapes drawn over a width×height image; BFL_INVALID_INPUT when they fill no pixel. */
export async function shapesRegion(
  specs: readonly ShapeSpec[],
  width: number,
  height: number,
  property = 'msg.mask',
): Promise<MaskRegion> {
  const placed = placeShapes(specs, width, height);
  const area = drawingArea(placed, width, height);
  const region = area && (await regionFromPlane(await draw(placed, area), area, width, height));
  if (!region) {
    throw invalidInput(
      text(looksLikeFractions(specs) ? 'shapes.nothingToFillFractions' : 'shapes.nothingToFill', { property }),
    );
  }
  return region;
}

/** Whole pixels around every shape's bounds, within the image; undefined when that is empty. */
function drawingArea(placed: readonly PlacedShape[], width: number, height: number): Box | undefined {
  const image = wholeImage(width, height);
  const x0 = Math.max(image.left, Math.floor(Math.min(...placed.map((shape) => shape.bounds.x0))));
  const y0 = Math.max(image.top, Math.floor(Math.min(...placed.map((shape) => shape.bounds.y0))));
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
