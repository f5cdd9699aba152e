import assert from 'node:assert/strict';
import { isBflError } from '../../lib/errors';
import { isShapeMask, maskFromShapes } from '../../lib/image';
import { parseShapes } from '../../lib/image/shapes';
import { ENGINE_CATALOGS, catalogTranslate, render } from '../../lib/messages';
import { boxPixels, countFilled, decodeMask, filledPixels, invalidInputMatching } from './fixtures';

const W = 10;
const H = 8;
/** Pixels 2..4 across, 1..2 down: the box every equivalent form below describes. */
const BOX = { left: 2, top: 1, width: 3, height: 2 };

async function filled(shapes: unknown, width = W, height = H): Promise<Set<string>> {
  const plane = await decodeMask(await maskFromShapes(shapes, width, height));
  assert.equal(plane.width, width);
  assert.equal(plane.height, height);
  assert.ok(
    plane.data.every((value) => value === 0 || value === 255),
    'the mask is black and white',
  );
  return filledPixels(plane.data, width);
}

describe('image/shapes: msg.mask as shapes', () => {
  describe('isShapeMask', () => {
    it('takes lists and plain objects for shapes', () => {
      assert.equal(isShapeMask([]), true);
      assert.equal(isShapeMask([1, 2, 3, 4]), true);
      assert.equal(isShapeMask({ x: 1, y: 1, width: 2, height: 2 }), true);
      assert.equal(isShapeMask({ shapes: [] }), true);
    });

    it('leaves images and missing masks to the image reader', () => {
      assert.equal(isShapeMask(Buffer.from('png')), false);
      assert.equal(isShapeMask(new Uint8Array(4)), false);
      assert.equal(isShapeMask(new ArrayBuffer(4)), false);
      assert.equal(isShapeMask('iVBORw0KGgo='), false);
      assert.equal(isShapeMask(undefined), false);
      assert.equal(isShapeMask(null), false);
      assert.equal(isShapeMask(Buffer.from('png').toJSON()), false, 'a Buffer that went through JSON');
    });
  });

  describe('every form, in pixels', () => {
    const expected = boxPixels(BOX);

    it('a rectangle {x, y, width, height} fills exactly its pixels', async () => {
      assert.deepEqual(await filled([{ x: 2, y: 1, width: 3, height: 2 }]), expected);
    });

    it('a single shape object, without a list', async () => {
      assert.deepEqual(await filled({ x: 2, y: 1, width: 3, height: 2 }), expected);
    });

    it("a corner box {x_min, y_min, x_max, y_max}, with a detector's other fields", async () => {
      assert.deepEqual(
        await filled([{ label: 'person', confidence: 0.8, x_min: 2, y_min: 1, x_max: 5, y_max: 3 }]),
        expected,
      );
    });

    it('a COCO box as a bare list [x, y, width, height]', async () => {
      assert.deepEqual(await filled([2, 1, 3, 2]), expected, 'alone');
      assert.deepEqual(await filled([[2, 1, 3, 2]]), expected, 'in a list');
    });

    it('a COCO box as {bbox: [x, y, width, height]} (tfjs coco-ssd)', async () => {
      assert.deepEqual(await filled([{ bbox: [2, 1, 3, 2], class: 'cat', score: 0.9 }]), expected);
    });

    it('a TensorFlow box {box: [y_min, x_min, y_max, x_max]} is relative', async () => {
      assert.deepEqual(await filled([{ box: [0.125, 0.2, 0.375, 0.5] }]), expected);
    });

    it('an ellipse {cx, cy, rx, ry}', async () => {
      const pixels = await filled([{ cx: 50, cy: 40, rx: 20, ry: 10 }], 100, 80);
      const area = Math.PI * 20 * 10;
      assert.ok(Math.abs(pixels.size - area) < area * 0.03, `${pixels.size} pixels, about ${Math.round(area)}`);
      assert.ok(pixels.has('50,40') && pixels.has('30,40') && pixels.has('69,40') && pixels.has('50,31'));
      assert.ok(!pixels.has('29,40') && !pixels.has('70,40') && !pixels.has('50,29') && !pixels.has('50,50'));
      assert.ok(!pixels.has('66,47'), 'the corners of its box stay empty');
    });

    it('a polygon {points: [[x, y], ...]} or with {x, y} points', async () => {
      const triangle = [
        [10, 10],
        [90, 10],
        [10, 70],
      ];
      const pixels = await filled([{ points: triangle }], 100, 80);
      assert.ok(Math.abs(pixels.size - 2400) < 60, `${pixels.size} pixels, about 2400`);
      assert.ok(pixels.has('20,20') && pixels.has('10,10') && !pixels.has('80,60') && !pixels.has('9,20'));
      const asObjects = await filled([{ points: triangle.map(([x, y]) => ({ x, y })) }], 100, 80);
      assert.deepEqual(asObjects, pixels);
    });

    it('fills the union of several shapes of different kinds', async () => {
      const pixels = await filled([
        { x: 0, y: 0, width: 2, height: 2 },
        [8, 6, 2, 2],
        { x_min: 0, y_min: 6, x_max: 1, y_max: 8 },
      ]);
      assert.deepEqual(
        pixels,
        new Set([
          ...boxPixels({ left: 0, top: 0, width: 2, height: 2 }),
          ...boxPixels({ left: 8, top: 6, width: 2, height: 2 }),
          ...boxPixels({ left: 0, top: 6, width: 1, height: 2 }),
        ]),
      );
    });
  });

  describe('relative coordinates', () => {
    const expected = boxPixels(BOX);

    it('relative: true on a shape takes fractions of the width (x, width) and height (y, height)', async () => {
      assert.deepEqual(await filled([{ x: 0.2, y: 0.125, width: 0.3, height: 0.25, relative: true }]), expected);
      assert.deepEqual(
        await filled([{ x_min: 0.2, y_min: 0.125, x_max: 0.5, y_max: 0.375, relative: true }]),
        expected,
      );
      assert.deepEqual(await filled([{ bbox: [0.2, 0.125, 0.3, 0.25], relative: true }]), expected);
    });

    it('relative: true on a holder applies to every shape that does not say otherwise', async () => {
      assert.deepEqual(await filled({ relative: true, shapes: [[0.2, 0.125, 0.3, 0.25]] }), expected);
      assert.deepEqual(
        await filled({
          relative: true,
          shapes: [
            { x: 0.2, y: 0.125, width: 0.1, height: 0.25 },
            { x: 3, y: 1, width: 2, height: 2, relative: false },
          ],
        }),
        expected,
      );
    });

    it('relative ellipses and polygons scale each axis by its own side', async () => {
      const ellipse = await filled([{ cx: 0.5, cy: 0.5, rx: 0.2, ry: 0.125, relative: true }], 100, 80);
      const pixelEllipse = await filled([{ cx: 50, cy: 40, rx: 20, ry: 10 }], 100, 80);
      assert.deepEqual(ellipse, pixelEllipse);
      const polygon = await filled(
        {
          relative: true,
          shapes: [
            {
              points: [
                [0.1, 0.125],
                [0.9, 0.125],
                [0.1, 0.875],
              ],
            },
          ],
        },
        100,
        80,
      );
      const pixelPolygon = await filled(
        [
          {
            points: [
              [10, 10],
              [90, 10],
              [10, 70],
            ],
          },
        ],
        100,
        80,
      );
      assert.deepEqual(polygon, pixelPolygon);
    });
  });

  describe('clipping', () => {
    it('clips shapes that extend past the image', async () => {
      assert.deepEqual(
        await filled([{ x: -10, y: -10, width: 12, height: 13 }]),
        boxPixels({ left: 0, top: 0, width: 2, height: 3 }),
      );
      assert.deepEqual(
        await filled([{ x_min: 7, y_min: 5, x_max: 400, y_max: 300 }]),
        boxPixels({ left: 7, top: 5, width: 3, height: 3 }),
      );
      const circle = await filled([{ cx: 0, cy: 0, rx: 30, ry: 30 }], 100, 80);
      assert.ok(Math.abs(circle.size - (Math.PI * 900) / 4) < 20, 'a quarter of the circle');
    });

    it('covers a pixel when shapes cover at least half of it', async () => {
      assert.deepEqual(
        await filled([{ x: 1.4, y: 1, width: 2.2, height: 1.4 }]),
        boxPixels({ left: 1, top: 1, width: 3, height: 1 }),
        '60% of the pixels at either end',
      );
      assert.deepEqual(
        await filled([{ x: 1.6, y: 1, width: 1.8, height: 1.6 }]),
        boxPixels({ left: 2, top: 1, width: 1, height: 2 }),
        '40% of the pixels at either end, 60% of the second row',
      );
    });
  });

  describe('bad shapes', () => {
    const refused = (shapes: unknown, ...patterns: RegExp[]) =>
      assert.rejects(maskFromShapes(shapes, 100, 80), invalidInputMatching(...patterns));

    it('names the shape and the field', async () => {
      await refused(
        [{ x: 0, y: 0, width: 10, height: 10 }, [0, 0, 5, 5], { x: 1, y: 1, width: -5, height: 3 }],
        /^Shape msg\.mask\[2\]: width must be a positive number, got -5\. /,
      );
      await refused([{ x: 1, y: 1, width: 5 }], /Shape msg\.mask\[0\]: height is missing \(a rectangle/);
      await refused(
        [{ cx: 1, cy: 1, rx: '5', ry: 2 }],
        /Shape msg\.mask\[0\]: rx must be a finite number, but it is "5"/,
      );
      await refused([{ cx: 1, cy: 1, rx: 0, ry: 2 }], /rx must be a positive number, got 0/);
      await refused(
        [{ x: Number.NaN, y: 1, width: 5, height: 5 }],
        /x must be a finite number, but it is a number \(NaN\)/,
      );
      await refused([[1, 2, 3, -4]], /Shape msg\.mask\[0\]: height must be a positive number, got -4/);
      await refused(
        { bbox: [1, 2, 'a', 4] },
        /^Shape msg\.mask: bbox\[2\] \(width\) must be a finite number, but it is "a"/,
      );
      await refused({ bbox: [1, 2, 3] }, /bbox must be a list of 4 numbers \[x, y, width, height\]/);
    });

    it('takes holes in lists for missing values, not for numbers or shapes (found by fuzzing)', async () => {
      const withHoles = (length: number, items: Record<number, unknown>): unknown[] => {
        const list: unknown[] = [];
        list.length = length;
        for (const [index, item] of Object.entries(items)) list[Number(index)] = item;
        return list;
      };
      const cocoHoles = withHoles(4, {});
      const cocoHole = withHoles(4, { 0: 1, 2: 3, 3: 4 });
      const shapeHole = withHoles(2, { 0: { x: 1, y: 1, width: 5, height: 5 } });
      const pointHole = withHoles(3, { 0: [0, 0], 2: [5, 5] });
      await refused(cocoHoles, /^Shape msg\.mask\[0\] is missing \(undefined\), which is not a shape\. /);
      await refused(cocoHole, /^Shape msg\.mask: y must be a finite number, but it is missing \(undefined\)\. /);
      await refused(shapeHole, /^Shape msg\.mask\[1\] is missing \(undefined\), which is not a shape\. /);
      await refused(
        { points: pointHole },
        /points\[1\] must be \[x, y\] or \{x, y\} with two numbers, but it is missing/,
      );
    });

    it('refuses a list too long to be anything from its length, without walking it', async () => {
      const huge = (first?: unknown): unknown[] => {
        const list: unknown[] = first === undefined ? [] : [first];
        list.length = 2 ** 32 - 1;
        return list;
      };
      const started = Date.now();
      await refused(huge(), /^msg\.mask has 4294967295 shapes, more than the 1000 allowed\./);
      await refused(huge(1), /^msg\.mask is a list of 4294967295 numbers, but a COCO box/);
      await refused({ shapes: huge() }, /^msg\.mask\.shapes has 4294967295 shapes/);
      await refused({ points: huge() }, /a polygon may have at most 10000 points, but it has 4294967295/);
      assert.ok(Date.now() - started < 1000, `refused in ${Date.now() - started} ms`);
    });

    it('names the path inside a holder', async () => {
      await refused(
        {
          shapes: [
            { x: 1, y: 1, width: 5, height: 5 },
            { x_min: 50, y_min: 0, x_max: 20, y_max: 30 },
          ],
        },
        /^Shape msg\.mask\.shapes\[1\]: x_max must be greater than x_min, but they are 20 and 50\./,
      );
      await refused({ shapes: 'all of it' }, /^msg\.mask\.shapes must be a list of shapes, but it is "all of it"/);
      await refused({ relative: 'yes', shapes: [] }, /relative must be true or false, but it is "yes"/);
    });

    it('refuses objects that are no shape, or two kinds at once', async () => {
      await refused(
        [{ foo: 1 }],
        /^Shape msg\.mask\[0\] is an object with keys foo, which is not a shape\. A shape is/,
      );
      await refused(
        [
          {
            x: 1,
            y: 1,
            width: 5,
            height: 5,
            points: [
              [0, 0],
              [1, 0],
              [0, 1],
            ],
          },
        ],
        /has fields of a rectangle \{x, y, width, height\} and of a polygon \{points\}/,
      );
      await refused(['box'], /Shape msg\.mask\[0\] is .*, which is not a shape/);
    });

    it('refuses empty and number lists that are no box', async () => {
      await refused([], /^msg\.mask is an empty list of shapes/);
      await refused([1, 2, 3, 4, 5], /^msg\.mask is a list of 5 numbers, but a COCO box .* has exactly 4/);
      await refused(
        [
          [10, 10],
          [90, 10],
          [10, 70],
        ],
        /^Shape msg\.mask\[0\] is an array of 2 items, but a list in a list of shapes is a COCO box .* Give a polygon as \{points/,
      );
    });

    it('refuses polygons without 3 good points', async () => {
      await refused(
        [
          {
            points: [
              [0, 0],
              [5, 5],
            ],
          },
        ],
        /a polygon needs at least 3 points, but it has 2/,
      );
      await refused([{ points: [[0, 0], [5], [5, 0]] }], /Shape msg\.mask\[0\]: points\[1\] must be \[x, y\]/);
      await refused([{ points: 'M 0 0' }], /points must be a list of \[x, y\] points/);
    });

    it('refuses TensorFlow boxes holding pixels instead of guessing', async () => {
      await refused(
        [{ box: [10, 20, 60, 90] }],
        /box holds fractions 0\.\.1 .* but 10 is outside 0\.\.1\. For corners in pixels use \{x_min/,
      );
      await refused([{ box: [0.1, 0.2, 0.6, 0.9], relative: false }], /always in fractions of the image size/);
      await refused([{ box: [0.5, 0.2, 0.1, 0.9] }], /box\[2\] \(y_max\) must be greater than box\[0\] \(y_min\)/);
    });

    it('refuses a shape entirely outside the image, naming it', async () => {
      await refused(
        [
          { x: 10, y: 10, width: 5, height: 5 },
          { x: 100, y: 10, width: 20, height: 20 },
        ],
        /^Shape msg\.mask\[1\] lies entirely outside the 100×80 image \(it spans x 100 to 120 and y 10 to 30/,
      );
      await refused([{ cx: -20, cy: 40, rx: 10, ry: 10 }], /lies entirely outside/);
    });

    it('hints at pixels given as relative, and fractions given as pixels', async () => {
      await refused(
        [{ x: 120, y: 10, width: 20, height: 20, relative: true }],
        /lies entirely outside .* look like pixels: leave relative out/,
      );
      await refused([{ x: 0.1, y: 0.1, width: 0.3, height: 0.3 }], /cover no pixel .* add relative: true/);
      await assert.rejects(maskFromShapes([{ x: 10.6, y: 10, width: 0.3, height: 5 }], 100, 80), (err: unknown) => {
        assert.ok(isBflError(err));
        assert.match(err.message, /cover no pixel/);
        assert.doesNotMatch(err.message, /relative/);
        return true;
      });
    });

    it('refuses coordinates too far from the image to draw', async () => {
      await refused([{ cx: 5e6, cy: 10, rx: 1e7, ry: 5 }], /cx is at 5000000 pixels, too far outside the image/);
      await refused([{ x: -2e6, y: 0, width: 3e6, height: 5 }], /x is at -2000000 pixels/);
    });

    it('renders in German too', async () => {
      await assert.rejects(
        maskFromShapes([[0, 0, 5, 5], [0, 0, 5, 5], { x: 0, y: 0, width: -5, height: 3 }], W, H),
        (err: unknown) => {
          assert.ok(isBflError(err) && err.text);
          assert.equal(
            render(err.text, catalogTranslate('de')),
            'Form msg.mask[2]: width muss eine positive Zahl sein, ist aber -5. Es wurde nichts übermittelt.',
          );
          return true;
        },
      );
    });

    it('has every message in English and German, with the same parameters', () => {
      type Tree = { [key: string]: string | Tree };
      const flatten = (tree: Tree, prefix = ''): Map<string, string> =>
        new Map(
          Object.entries(tree).flatMap(([key, value]) =>
            typeof value === 'string' ? [[prefix + key, value]] : [...flatten(value, `${prefix}${key}.`)],
          ),
        );
      const params = (template: string) => [...template.matchAll(/__([A-Za-z0-9]+)__/g)].map((m) => m[1]).sort();
      for (const group of ['shapes', 'geometry']) {
        const en = flatten(ENGINE_CATALOGS.en![group] as Tree);
        const de = flatten(ENGINE_CATALOGS.de![group] as Tree);
        assert.deepEqual([...de.keys()].sort(), [...en.keys()].sort(), group);
        for (const [key, template] of en) assert.deepEqual(params(de.get(key)!), params(template), key);
      }
    });

    it('checks the shapes without an image (parseShapes)', () => {
      const specs = parseShapes({
        relative: true,
        shapes: [{ x: 0.1, y: 0.1, width: 0.2, height: 0.2 }, [1, 2, 3, 4]],
      });
      assert.equal(specs.length, 2);
      assert.equal(specs[0]!.relative, true);
      assert.equal(specs[1]!.kind, 'coco');
      assert.equal(specs[1]!.path, 'msg.mask.shapes[1]');
    });
  });

  it("draws only the shapes' box: a small shape on a 12 MP image is quick and exact", async () => {
    const started = Date.now();
    const plane = await decodeMask(await maskFromShapes([{ x: 2000, y: 1500, width: 40, height: 30 }], 4000, 3000));
    assert.equal(countFilled(plane.data), 1200);
    assert.ok(Date.now() - started < 3000);
  });
});
