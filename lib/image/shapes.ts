/**
 * msg.mask as shapes instead of an image: what a flow gets from an object detector or draws by numbers.
 * Recognising and checking the shapes, and placing them on an image in pixels; ./masks draws them.
 *
 * Accepted, as msg.mask:
 * - a list of shapes `[shape, ...]`;
 * - a holder `{ shapes: [shape, ...], relative?: boolean }` (relative applies to every shape that does not
 *   say otherwise itself);
 * - one shape on its own.
 *
 * A shape is one of:
 * - rectangle `{x, y, width, height}` (x, y: top left corner);
 * - ellipse `{cx, cy, rx, ry}`;
 * - polygon `{points: [[x, y], ...]}` (or `{x, y}` points; at least 3);
 * - corner box `{x_min, y_min, x_max, y_max}` (CodeProject.AI / DeepStack style);
 * - COCO box `[x, y, width, height]` as a bare list of 4 numbers, or `{bbox: [x, y, width, height]}`
 *   (tfjs coco-ssd style);
 * - TensorFlow box `{box: [y_min, x_min, y_max, x_max]}`: always fractions 0..1 of the image size.
 *
 * Coordinates are pixels of the upright image, or with `relative: true` (on the shape or the holder)
 * fractions 0..1 of its width (x, cx, rx, width) and height (y, cy, ry, height). Other fields (label, score,
 * class...) are ignored, so a detector's output can be passed on as it is.
 *
 * How ambiguous input is told apart:
 * - Buffers and strings are images, never shapes; `{type: 'Buffer', data: [...]}` (a Buffer that went
 *   through JSON) is left to the image reader, which explains it.
 * - A list whose items are all numbers is ONE COCO box (and must have exactly 4 of them); any other list is
 *   a list of shapes, in which a list of 4 numbers is a COCO box.
 * - An object with a `shapes` field is a holder; any other object is one shape.
 * - A shape's kind is chosen by its fields, never by its values: x/y/width/height rectangle, cx/cy/rx/ry
 *   ellipse, points polygon, x_min/y_min/x_max/y_max corner box, bbox COCO box, box TensorFlow box. An object
 *   with the fields of two kinds is refused rather than guessed at; so is a missing field.
 * - `box` is always TensorFlow's relative [y_min, x_min, y_max, x_max]; values outside 0..1 (say, pixel
 *   corners from another tool) are refused with a pointer to {x_min, ...}, never reinterpreted.
 * - A number is never taken for a fraction or for pixels by its size: `relative` decides. Only the error
 *   messages use the size as a hint (relative shapes that land outside the image with values over 2; pixel
 *   shapes that cover nothing with every value within 0..1).
 */
import { invalidInput, type BflError } from '../errors';
import { text, type Text } from '../messages';
import { describeValue, isJsonBuffer } from '../values';
import { MASK_PROPERTY } from './input';

/** Most shapes in one mask: more would be a mask image drawn by numbers. */
export const MAX_SHAPES = 1000;
const MAX_POLYGON_POINTS = 10_000;
/** How far outside the image (in pixels) a coordinate may lie; beyond it the renderer's fixed point overflows. */
const MAX_COORDINATE_DISTANCE = 1_000_000;

type ShapeKind = 'rectangle' | 'ellipse' | 'polygon' | 'corners' | 'coco' | 'tfBox';

/** A shape's geometry, in the units it was given in (pixels or fractions). */
type ShapeGeometry =
  | { type: 'rectangle'; x: number; y: number; width: number; height: number }
  | { type: 'ellipse'; cx: number; cy: number; rx: number; ry: number }
  | { type: 'polygon'; points: Array<[number, number]> };

/** A checked shape, not yet placed on an image. */
export interface ShapeSpec {
  /** Where it came from, e.g. "msg.mask[2]", for messages. */
  readonly path: string;
  readonly kind: ShapeKind;
  readonly relative: boolean;
  readonly geometry: ShapeGeometry;
  /** The numbers as given, for the hints in error messages. */
  readonly values: readonly number[];
}

/** A shape in pixels of a given image, with its bounds (not clipped to the image). */
export interface PlacedShape {
  readonly spec: ShapeSpec;
  readonly geometry: ShapeGeometry;
  readonly bounds: { x0: number; y0: number; x1: number; y1: number };
}

const SIGNATURES: ReadonlyArray<[ShapeKind, readonly string[]]> = [
  ['rectangle', ['x', 'y', 'width', 'height']],
  ['ellipse', ['cx', 'cy', 'rx', 'ry']],
  ['polygon', ['points']],
  ['corners', ['x_min', 'y_min', 'x_max', 'y_max']],
  ['coco', ['bbox']],
  ['tfBox', ['box']],
];

type Fields = Record<string, unknown>;

function isPlainObject(value: unknown): value is Fields {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    !ArrayBuffer.isView(value) &&
    !(value instanceof ArrayBuffer)
  );
}

/**
 * Whether msg.mask holds shapes rather than an image: any list, or an object other than a Buffer or a Buffer
 * that went through JSON. Buffers, strings, null and undefined are not shapes.
 */
export function isShapeMask(value: unknown): boolean {
  if (Array.isArray(value)) return true;
  return isPlainObject(value) && !isJsonBuffer(value);
}

function fail(key: string, params: Record<string, string | number | Text>): BflError {
  return invalidInput(text(`shapes.${key}`, params));
}

/** A refusal that names the shape at `path`: "Shape msg.mask[2]: ...". */
function failAt(path: string, key: string, params: Record<string, string | number | Text> = {}): BflError {
  return fail(key, { where: text('shapes.where', { path }), ...params });
}

/**
 * Checks msg.mask's shapes and returns them in the units given. Throws BFL_INVALID_INPUT naming the shape
 * (by its path, e.g. msg.mask[2]) and the field.
 */
export function parseShapes(value: unknown, property = MASK_PROPERTY): ShapeSpec[] {
  if (Array.isArray(value)) {
    // Walking a list costs its length, holes included (`[]` with length 1e9 is one line of a function node),
    // so one too long to be anything is refused from its length.
    if (value.length > MAX_SHAPES) {
      if (typeof value[0] === 'number') throw fail('numberList', { property, count: value.length });
      throw fail('tooMany', { property, count: value.length, max: MAX_SHAPES });
    }
    const list = dense(value);
    // A list of numbers is one COCO box, also with holes among them (then reported as missing values).
    const given = list.filter((item) => item !== undefined);
    if (given.length > 0 && given.every((item) => typeof item === 'number')) {
      if (list.length !== 4) throw fail('numberList', { property, count: list.length });
      return [parseShape(list, property, false)];
    }
    return parseList(list, property, false);
  }
  if (!isPlainObject(value)) throw failAt(property, 'notShape', { value: describeValue(value), forms: FORMS });
  if (Object.prototype.hasOwnProperty.call(value, 'shapes')) {
    const relative = relativeFlag(value.relative, property, false);
    if (!Array.isArray(value.shapes)) throw fail('holderNotList', { property, value: describeValue(value.shapes) });
    return parseList(value.shapes, `${property}.shapes`, relative);
  }
  return [parseShape(value, property, false)];
}

/**
 * The shapes of the node's maskShapes property (drawn in its dialog): a list, in fractions 0..1 of the image
 * unless a shape says `relative: false`. Refusals name the shape as maskShapes[2].
 */
export function parseDrawnShapes(list: readonly unknown[], property = DRAWN_PROPERTY): ShapeSpec[] {
  return parseList(dense(list), property, true);
}

/** How refusals name the node's own shapes. */
export const DRAWN_PROPERTY = 'maskShapes';

const FORMS = text('shapes.forms');

/** A list with its holes (`[1, , 3]`) as undefined: every and map skip holes, which would pass for numbers. */
function dense(list: readonly unknown[]): unknown[] {
  return Array.from(list);
}

function parseList(list: unknown[], path: string, relative: boolean): ShapeSpec[] {
  if (list.length === 0) throw fail('empty', { property: path });
  if (list.length > MAX_SHAPES) throw fail('tooMany', { property: path, count: list.length, max: MAX_SHAPES });
  return dense(list).map((item, index) => parseShape(item, `${path}[${index}]`, relative));
}

function relativeFlag(value: unknown, path: string, inherited: boolean): boolean {
  if (value === undefined) return inherited;
  if (typeof value !== 'boolean') throw failAt(path, 'relativeNotBoolean', { value: describeValue(value) });
  return value;
}

function parseShape(item: unknown, path: string, inheritedRelative: boolean): ShapeSpec {
  if (Array.isArray(item)) {
    const numbers = fourNumbers(item, path, 'coco', null);
    return coco(numbers, path, inheritedRelative);
  }
  if (!isPlainObject(item) || isJsonBuffer(item)) {
    throw failAt(path, 'notShape', { value: describeValue(item), forms: FORMS });
  }
  const kinds = SIGNATURES.filter(([, fields]) => fields.some((field) => item[field] !== undefined));
  if (kinds.length === 0) throw failAt(path, 'notShape', { value: describeValue(item), forms: FORMS });
  if (kinds.length > 1) {
    throw failAt(path, 'ambiguous', {
      first: text(`shapes.kind.${kinds[0]![0]}`),
      second: text(`shapes.kind.${kinds[1]![0]}`),
    });
  }
  const kind = kinds[0]![0];
  const relative = relativeFlag(item.relative, path, inheritedRelative);
  switch (kind) {
    case 'rectangle': {
      const [x, y] = [fieldNumber(item, 'x', path, kind), fieldNumber(item, 'y', path, kind)];
      const [width, height] = [size(item, 'width', path, kind), size(item, 'height', path, kind)];
      return {
        path,
        kind,
        relative,
        geometry: { type: 'rectangle', x, y, width, height },
        values: [x, y, width, height],
      };
    }
    case 'ellipse': {
      const [cx, cy] = [fieldNumber(item, 'cx', path, kind), fieldNumber(item, 'cy', path, kind)];
      const [rx, ry] = [size(item, 'rx', path, kind), size(item, 'ry', path, kind)];
      return { path, kind, relative, geometry: { type: 'ellipse', cx, cy, rx, ry }, values: [cx, cy, rx, ry] };
    }
    case 'polygon': {
      const points = polygonPoints(item.points, path);
      return { path, kind, relative, geometry: { type: 'polygon', points }, values: points.flat() };
    }
    case 'corners': {
      const [xMin, yMin] = [fieldNumber(item, 'x_min', path, kind), fieldNumber(item, 'y_min', path, kind)];
      const [xMax, yMax] = [fieldNumber(item, 'x_max', path, kind), fieldNumber(item, 'y_max', path, kind)];
      increasing(path, 'x_min', xMin, 'x_max', xMax);
      increasing(path, 'y_min', yMin, 'y_max', yMax);
      const geometry: ShapeGeometry = { type: 'rectangle', x: xMin, y: yMin, width: xMax - xMin, height: yMax - yMin };
      return { path, kind, relative, geometry, values: [xMin, yMin, xMax, yMax] };
    }
    case 'coco':
      return coco(fourNumbers(item.bbox, path, kind, 'bbox'), path, relative);
    case 'tfBox':
      return tfBox(item, path);
  }
}

function coco(numbers: number[], path: string, relative: boolean): ShapeSpec {
  const [x, y, width, height] = numbers as [number, number, number, number];
  positive(path, 'width', width);
  positive(path, 'height', height);
  return { path, kind: 'coco', relative, geometry: { type: 'rectangle', x, y, width, height }, values: numbers };
}

function tfBox(item: Fields, path: string): ShapeSpec {
  if (item.relative === false) throw failAt(path, 'tfBoxNotRelative');
  relativeFlag(item.relative, path, true);
  const numbers = fourNumbers(item.box, path, 'tfBox', 'box');
  const outside = numbers.find((value) => value < -1e-6 || value > 1 + 1e-6);
  if (outside !== undefined) throw failAt(path, 'tfBoxRange', { value: outside });
  const [yMin, xMin, yMax, xMax] = numbers as [number, number, number, number];
  increasing(path, 'box[0] (y_min)', yMin, 'box[2] (y_max)', yMax);
  increasing(path, 'box[1] (x_min)', xMin, 'box[3] (x_max)', xMax);
  return {
    path,
    kind: 'tfBox',
    relative: true,
    geometry: { type: 'rectangle', x: xMin, y: yMin, width: xMax - xMin, height: yMax - yMin },
    values: numbers,
  };
}

const ORDERS: Record<'coco' | 'tfBox', string> = {
  coco: '[x, y, width, height]',
  tfBox: '[y_min, x_min, y_max, x_max]',
};

function fourNumbers(value: unknown, path: string, kind: 'coco' | 'tfBox', field: string | null): number[] {
  if (!Array.isArray(value) || value.length !== 4) {
    // A bare list in a list of shapes can only be a COCO box.
    if (field === null) throw failAt(path, 'notCocoList', { value: describeValue(value) });
    throw failAt(path, 'notFourNumbers', { field, order: ORDERS[kind], value: describeValue(value) });
  }
  const names = kind === 'coco' ? ['x', 'y', 'width', 'height'] : ['y_min', 'x_min', 'y_max', 'x_max'];
  return dense(value).map((number, index) => {
    const name = field === null ? names[index]! : `${field}[${index}] (${names[index]})`;
    if (typeof number !== 'number' || !Number.isFinite(number)) {
      throw failAt(path, 'notNumber', { field: name, value: describeValue(number) });
    }
    return number;
  });
}

function fieldNumber(item: Fields, field: string, path: string, kind: ShapeKind): number {
  const value = item[field];
  if (value === undefined) {
    throw failAt(path, 'missing', { field, kind: text(`shapes.kind.${kind}`) });
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw failAt(path, 'notNumber', { field, value: describeValue(value) });
  }
  return value;
}

function size(item: Fields, field: string, path: string, kind: ShapeKind): number {
  const value = fieldNumber(item, field, path, kind);
  positive(path, field, value);
  return value;
}

function positive(path: string, field: string, value: number): void {
  if (!(value > 0)) throw failAt(path, 'notPositive', { field, value });
}

function increasing(path: string, low: string, lowValue: number, high: string, highValue: number): void {
  if (!(highValue > lowValue)) {
    throw failAt(path, 'notIncreasing', { low, lowValue, high, highValue });
  }
}

function polygonPoints(value: unknown, path: string): Array<[number, number]> {
  if (!Array.isArray(value)) throw failAt(path, 'pointsNotList', { value: describeValue(value) });
  if (value.length < 3) throw failAt(path, 'tooFewPoints', { count: value.length });
  if (value.length > MAX_POLYGON_POINTS) {
    throw failAt(path, 'tooManyPoints', { count: value.length, max: MAX_POLYGON_POINTS });
  }
  return dense(value).map((point, index): [number, number] => {
    let pair: unknown[] | undefined;
    if (Array.isArray(point) && point.length === 2) pair = point;
    else if (isPlainObject(point)) pair = [point.x, point.y];
    const [x, y] = pair ?? [];
    if (typeof x !== 'number' || typeof y !== 'number' || !Number.isFinite(x) || !Number.isFinite(y)) {
      throw failAt(path, 'badPoint', { index, value: describeValue(point) });
    }
    return [x, y];
  });
}

/** A field name, its value in pixels and the side of the image it runs along, for the distance check. */
type Checked = [field: string, value: number, extent: number];

/** The fields of rectangles and ellipses that run along x: fractions of the width, checked against it. */
const ALONG_X: ReadonlySet<string> = new Set(['x', 'width', 'cx', 'rx']);

/**
 * Converts checked shapes to pixels of a width×height image and refuses any that lie wholly outside it (or
 * so far from it that drawing them would overflow).
 */
export function placeShapes(specs: readonly ShapeSpec[], width: number, height: number): PlacedShape[] {
  return specs.map((spec) => placeShape(spec, width, height));
}

function placeShape(spec: ShapeSpec, width: number, height: number): PlacedShape {
  const geometry = spec.relative ? scaled(spec.geometry, width, height) : spec.geometry;
  for (const [field, value, extent] of coordinates(geometry, width, height)) {
    if (value < -MAX_COORDINATE_DISTANCE || value > extent + MAX_COORDINATE_DISTANCE) {
      throw failAt(spec.path, 'tooFar', { field, value: rounded(value), limit: MAX_COORDINATE_DISTANCE });
    }
  }
  const bounds = boundsOf(geometry);
  if (bounds.x1 <= 0 || bounds.y1 <= 0 || bounds.x0 >= width || bounds.y0 >= height) {
    const looksLikePixels = spec.relative && spec.values.some((value) => Math.abs(value) > 2);
    throw failAt(spec.path, looksLikePixels ? 'outsideRelative' : 'outside', {
      width,
      height,
      x0: rounded(bounds.x0),
      x1: rounded(bounds.x1),
      y0: rounded(bounds.y0),
      y1: rounded(bounds.y1),
    });
  }
  return { spec, geometry, bounds };
}

/** Relative geometry in pixels of a width×height image. */
function scaled(g: ShapeGeometry, width: number, height: number): ShapeGeometry {
  switch (g.type) {
    case 'rectangle':
      return { type: 'rectangle', x: g.x * width, y: g.y * height, width: g.width * width, height: g.height * height };
    case 'ellipse':
      return { type: 'ellipse', cx: g.cx * width, cy: g.cy * height, rx: g.rx * width, ry: g.ry * height };
    case 'polygon':
      return { type: 'polygon', points: g.points.map(([x, y]): [number, number] => [x * width, y * height]) };
  }
}

/** Every number of a shape in pixels, named for messages, with the side of the image it runs along. */
function coordinates(geometry: ShapeGeometry, width: number, height: number): Checked[] {
  if (geometry.type === 'polygon') {
    return geometry.points.flatMap(([x, y], index): Checked[] => [
      [`points[${index}]`, x, width],
      [`points[${index}]`, y, height],
    ]);
  }
  return Object.entries(geometry).flatMap(([field, value]): Checked[] =>
    typeof value === 'number' ? [[field, value, ALONG_X.has(field) ? width : height]] : [],
  );
}

function boundsOf(geometry: ShapeGeometry): PlacedShape['bounds'] {
  switch (geometry.type) {
    case 'rectangle':
      return {
        x0: geometry.x,
        y0: geometry.y,
        x1: geometry.x + geometry.width,
        y1: geometry.y + geometry.height,
      };
    case 'ellipse':
      return {
        x0: geometry.cx - geometry.rx,
        y0: geometry.cy - geometry.ry,
        x1: geometry.cx + geometry.rx,
        y1: geometry.cy + geometry.ry,
      };
    case 'polygon': {
      const xs = geometry.points.map(([x]) => x);
      const ys = geometry.points.map(([, y]) => y);
      return { x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) };
    }
  }
}

function rounded(value: number): string {
  return String(Math.round(value * 10) / 10);
}

/** For the "nothing to fill" message: pixel shapes whose numbers all lie within 0..1 were probably fractions. */
export function looksLikeFractions(specs: readonly ShapeSpec[]): boolean {
  return specs.every((spec) => !spec.relative && spec.values.every((value) => value >= 0 && value <= 1));
}
