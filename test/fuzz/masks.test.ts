/**
 * Fuzzing msg.mask: every shape form of lib/image/shapes.ts (rectangle, ellipse, polygon, corner box, COCO
 * box bare and as bbox, TensorFlow box; alone, in lists, in holders, nested) with any numbers (NaN,
 * ±Infinity, -0, huge, fractions), relative flags of any type, holes, extra and mixed fields; and mask images
 * of every size. Each is drawn into a mask of the image's size or refused with BFL_INVALID_INPUT (see
 * ./support for the rule and for FUZZ_RUNS and FUZZ_SEED).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import sharp from 'sharp';
import { isBflError } from '../../lib/errors';
import { resolveImageOptions } from '../../lib/fields';
import { planInputs, type ImageOptions, type PlannedInputs } from '../../lib/image';
import {
  HEIGHT,
  WIDTH,
  ENCODINGS,
  encoding,
  outcome,
  settings,
  text,
  watchUnhandledRejections,
  TIMEOUT,
} from './support';

/** Any number a flow may compute, and the values that are not numbers at all. */
const wrongType = fc.oneof(
  text,
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.bigInt(),
  fc.constantFrom({}, [], '12', '0.5', new Date(0), Symbol('x')),
);
const number = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -20, max: WIDTH + 20 }) },
  { weight: 3, arbitrary: fc.double({ min: -0.5, max: 1.5, noNaN: true }) },
  { weight: 2, arbitrary: fc.double() },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      0,
      -0,
      Number.NaN,
      Infinity,
      -Infinity,
      1e308,
      -1e308,
      Number.MAX_SAFE_INTEGER,
      2 ** 53 + 2,
      Number.MIN_VALUE,
      Number.EPSILON,
      1e6,
      1e6 + WIDTH + 1,
      -1e6 - 1,
    ),
  },
  { weight: 1, arbitrary: wrongType },
);
const relative = fc.option(fc.oneof({ weight: 4, arbitrary: fc.boolean() }, { weight: 1, arbitrary: wrongType }), {
  nil: undefined,
});
/** Fields a detector adds, which are ignored. */
const extras = fc.record({ label: text, score: fc.double(), class: fc.integer() }, { requiredKeys: [] });

/** An object with `fields`, usually all of them, each any number. */
function fieldsOf(fields: readonly string[]): fc.Arbitrary<Record<string, unknown>> {
  const record = Object.fromEntries(fields.map((field) => [field, number]));
  return fc.oneof(
    { weight: 4, arbitrary: fc.record(record) },
    { weight: 1, arbitrary: fc.record(record, { requiredKeys: [] }) },
  );
}

/** A list of `length` numbers, sometimes with holes or of another length. */
function numberList(length: number): fc.Arbitrary<unknown[]> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.array(number, { minLength: length, maxLength: length }) },
    { weight: 1, arbitrary: fc.array(number, { maxLength: length + 2 }) },
    { weight: 1, arbitrary: fc.sparseArray(number, { minNumElements: 0, maxLength: length }) },
  );
}

const point = fc.oneof(
  fc.tuple(number, number),
  fc.record({ x: number, y: number }),
  fc.array(number, { maxLength: 3 }),
  wrongType,
);
const points = fc.oneof(
  { weight: 4, arbitrary: fc.array(point, { maxLength: 12 }) },
  { weight: 1, arbitrary: fc.sparseArray(point, { maxLength: 6 }) },
  { weight: 1, arbitrary: wrongType },
);

const shape: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fieldsOf(['x', 'y', 'width', 'height']) },
  { weight: 2, arbitrary: fieldsOf(['cx', 'cy', 'rx', 'ry']) },
  { weight: 2, arbitrary: fc.record({ points }) },
  { weight: 2, arbitrary: fieldsOf(['x_min', 'y_min', 'x_max', 'y_max']) },
  { weight: 2, arbitrary: numberList(4) },
  { weight: 1, arbitrary: fc.record({ bbox: fc.oneof(numberList(4), wrongType) }) },
  { weight: 1, arbitrary: fc.record({ box: fc.oneof(numberList(4), wrongType) }) },
  // Fields of two kinds.
  { weight: 1, arbitrary: fieldsOf(['x', 'y', 'width', 'height', 'cx', 'cy']) },
  { weight: 1, arbitrary: wrongType },
);

/** A shape with maybe a relative flag and a detector's fields. */
const placedShape = fc
  .tuple(shape, relative, extras)
  .map(([item, flag, more]) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? { ...more, ...(item as object), ...(flag === undefined ? {} : { relative: flag }) }
      : item,
  );

/** msg.mask as shapes: one, a list (with holes, empty, or nested holders), or a holder. */
const shapesMask: fc.Arbitrary<unknown> = fc.letrec<{ mask: unknown; holder: unknown }>((tie) => ({
  mask: fc.oneof(
    { weight: 3, arbitrary: placedShape },
    { weight: 3, arbitrary: fc.array(placedShape, { maxLength: 5 }) },
    { weight: 1, arbitrary: fc.sparseArray(placedShape, { maxLength: 5 }) },
    { weight: 2, arbitrary: tie('holder') },
    { weight: 1, arbitrary: numberList(4) },
  ),
  holder: fc.record(
    {
      shapes: fc.oneof(
        { weight: 4, arbitrary: fc.array(placedShape, { maxLength: 5 }) },
        { weight: 1, arbitrary: fc.array(tie('holder'), { maxLength: 2 }) },
        { weight: 1, arbitrary: wrongType },
      ),
      relative,
    },
    { requiredKeys: ['shapes'] },
  ),
}))['mask'];

/** Shapes as a detector or a flow would give them: in range, in pixels or in fractions. */
function plausibleShape(position: fc.Arbitrary<number>, size: fc.Arbitrary<number>): fc.Arbitrary<unknown> {
  const box = fc.tuple(position, position, size, size);
  return fc.oneof(
    box.map(([x, y, width, height]) => ({ x, y, width, height })),
    box.map(([cx, cy, rx, ry]) => ({ cx, cy, rx, ry })),
    fc.record({ points: fc.array(fc.tuple(position, position), { minLength: 3, maxLength: 8 }) }),
    fc.record({ points: fc.array(fc.record({ x: position, y: position }), { minLength: 3, maxLength: 8 }) }),
    box.map(([x, y, width, height]) => ({ x_min: x, y_min: y, x_max: x + width, y_max: y + height })),
    box,
    box.map((bbox) => ({ bbox, label: 'cat', score: 0.9 })),
  );
}

const PIXELS = plausibleShape(fc.integer({ min: -10, max: WIDTH + 5 }), fc.integer({ min: 1, max: 30 }));
const FRACTIONS = plausibleShape(
  fc.double({ min: -0.2, max: 1.1, noNaN: true }),
  fc.double({ min: 0.01, max: 0.6, noNaN: true }),
);
const fractionPair = fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }));
const tfBox = fc
  .tuple(fractionPair, fractionPair)
  .map(([[y0, y1], [x0, x1]]) => ({ box: [Math.min(y0, y1), Math.min(x0, x1), Math.max(y0, y1), Math.max(x0, x1)] }));

const plausibleMask: fc.Arbitrary<unknown> = fc.oneof(
  PIXELS,
  fc.array(fc.oneof(PIXELS, tfBox), { minLength: 1, maxLength: 4 }),
  fc.record({ relative: fc.constant(true), shapes: fc.array(FRACTIONS, { minLength: 1, maxLength: 4 }) }),
  FRACTIONS.map((item) => (Array.isArray(item) ? item : { ...(item as object), relative: true })),
  tfBox,
);

/** `value` with its `index`-th number (counting every number in it, modulo their count) made `replacement`. */
function spoiled(value: unknown, index: number, replacement: unknown): unknown {
  let count = 0;
  const countNumbers = (item: unknown): void => {
    if (typeof item === 'number') count += 1;
    else if (item !== null && typeof item === 'object') Object.values(item).forEach(countNumbers);
  };
  countNumbers(value);
  let at = count === 0 ? -1 : index % count;
  const replace = (item: unknown): unknown => {
    if (typeof item === 'number') return at-- === 0 ? replacement : item;
    if (Array.isArray(item)) return item.map(replace);
    if (item !== null && typeof item === 'object') {
      return Object.fromEntries(Object.entries(item).map(([key, field]) => [key, replace(field)]));
    }
    return item;
  };
  return replace(value);
}

/** A plausible mask, sometimes with one number made NaN, infinite, -0, huge or not a number. */
const nearlyPlausibleMask = fc
  .tuple(plausibleMask, fc.option(fc.tuple(fc.nat(), number), { freq: 2, nil: undefined }))
  .map(([mask, spoil]) => (spoil === undefined ? mask : spoiled(mask, ...spoil)));

const options = fc
  .record({
    maskInvert: fc.boolean(),
    maskGrow: fc.integer({ min: 0, max: 40 }),
    maskFeather: fc.integer({ min: 0, max: 10 }),
    cropToMask: fc.boolean(),
    cropMargin: fc.integer({ min: 0, max: 100 }),
  })
  .map((values) => resolveImageOptions(values));

/** A handled mask: black and white, the image's size, and something to fill. */
async function checkMask(planned: PlannedInputs | Error): Promise<void> {
  if (isBflError(planned)) return;
  assert.ok(!(planned instanceof Error));
  const { images } = planned;
  const metadata = await sharp(images.mask).metadata();
  assert.deepEqual([metadata.width, metadata.height, metadata.channels], [images.width, images.height, 1]);
  const data = await sharp(images.mask).extractChannel(0).raw().toBuffer();
  assert.ok(
    data.every((value) => value === 0 || value === 255),
    'black and white',
  );
  assert.ok(data.includes(255), 'something to fill');
}

describe('fuzz: msg.mask', function () {
  this.timeout(TIMEOUT);
  watchUnhandledRejections();
  let image: Buffer;
  let transparent: Buffer;

  before(async () => {
    const create = { width: WIDTH, height: HEIGHT, channels: 3 as const, background: '#c8b428' };
    image = await sharp({ create }).png().toBuffer();
    transparent = await sharp({ create: { ...create, channels: 4, background: { r: 9, g: 9, b: 9, alpha: 0.2 } } })
      .png()
      .toBuffer();
  });

  it('shapes of every form with any numbers and flags', async () => {
    const masks = fc.oneof({ weight: 1, arbitrary: shapesMask }, { weight: 2, arbitrary: nearlyPlausibleMask });
    await fc.assert(
      fc.asyncProperty(masks, options, async (mask, imageOptions: ImageOptions) => {
        await checkMask(await outcome(() => planInputs(image, mask, imageOptions)));
      }),
      settings(400),
    );
  });

  it('shapes in fractions that land inside the image are drawn', async () => {
    const fraction = fc.double({ min: 0, max: 0.5, noNaN: true });
    const size = fc.double({ min: 0.2, max: 0.5, noNaN: true });
    await fc.assert(
      fc.asyncProperty(fraction, fraction, size, size, async (x, y, width, height) => {
        const mask = { relative: true, shapes: [{ x, y, width, height }, { box: [y, x, y + height, x + width] }] };
        const planned = await outcome(() => planInputs(image, mask, resolveImageOptions({})));
        assert.ok(!isBflError(planned), isBflError(planned) ? planned.message : '');
        await checkMask(planned);
      }),
      settings(40),
    );
  });

  it('lists too long to walk are refused from their length at once', async () => {
    for (const length of [1001, 1e6, 2 ** 32 - 1]) {
      const holes: unknown[] = [];
      holes.length = length;
      const numbers: unknown[] = [1, 2];
      numbers.length = length;
      const points: unknown[] = [];
      points.length = length;
      for (const mask of [holes, numbers, { shapes: holes }, { points }]) {
        const started = Date.now();
        const result = await outcome(() => planInputs(image, mask, resolveImageOptions({})));
        assert.ok(isBflError(result));
        assert.ok(Date.now() - started < 500, `refused in ${Date.now() - started} ms`);
      }
    }
  });

  it('mask images of any size, content and format, in every encoding', async () => {
    const maskImage = fc.record({
      width: fc.oneof(fc.constant(WIDTH), fc.integer({ min: 1, max: 80 })),
      height: fc.oneof(fc.constant(HEIGHT), fc.integer({ min: 1, max: 80 })),
      fill: fc.constantFrom('black', 'white', 'box', 'grey', 'transparent'),
      format: fc.constantFrom('png', 'jpeg', 'webp', 'gif', 'tiff'),
      how: encoding,
      invert: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(maskImage, async ({ width, height, fill, format, how, invert }) => {
        const background = { black: '#000', white: '#fff', box: '#000', grey: '#808080', transparent: '#0000' }[fill];
        let pipeline = sharp({ create: { width, height, channels: 4, background } });
        if (fill === 'box') {
          const box = { width: Math.ceil(width / 2), height: Math.ceil(height / 2), channels: 4 as const };
          pipeline = pipeline.composite([{ input: { create: { ...box, background: '#fff' } } }]);
        }
        const bytes = await pipeline.toFormat(format).toBuffer();
        const result = await outcome(() =>
          planInputs(image, ENCODINGS[how](bytes), resolveImageOptions({ maskInvert: invert })),
        );
        await checkMask(result);
        const sameSize = width === WIDTH && height === HEIGHT;
        if (!sameSize || how === 'jsonBuffer') assert.ok(isBflError(result), 'refused');
        if (isBflError(result) && !sameSize && how !== 'jsonBuffer') assert.match(result.message, /same size/);
      }),
      settings(150),
    );
  });

  it('no mask: the alpha channel, with any options', async () => {
    await fc.assert(
      fc.asyncProperty(options, fc.constantFrom(undefined, null), async (imageOptions, mask) => {
        await checkMask(await outcome(() => planInputs(transparent, mask, imageOptions)));
        const opaque = await outcome(() => planInputs(image, mask, imageOptions));
        assert.ok(isBflError(opaque), 'an opaque image without a mask is refused');
      }),
      settings(40),
    );
  });
});
