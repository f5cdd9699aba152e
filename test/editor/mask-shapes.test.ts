/**
 * The mask painter's shapes (nodes/editor/mask-shapes.js), run as the editor runs them, in a VM: what the
 * painter writes is what the engine's shape parser reads, and moving and resizing keep shapes in the image.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { maskFromShapes } from '../../lib/image';
import { parseDrawnShapes } from '../../lib/image/shapes';

interface PainterShape {
  kind: string;
  x0?: number;
  y0?: number;
  x1?: number;
  y1?: number;
  points?: number[][];
}
interface MaskShapes {
  readList(value: unknown): PainterShape[] | null;
  writeList(shapes: PainterShape[]): unknown[];
  box(kind: string, x0: number, y0: number, x1: number, y1: number): PainterShape;
  normalised(shape: PainterShape): PainterShape;
  shapeAt(shapes: PainterShape[], x: number, y: number): number;
  handleAt(shape: PainterShape, x: number, y: number, width: number, height: number, reach: number): string | null;
  moved(shape: PainterShape, dx: number, dy: number): PainterShape;
  resized(shape: PainterShape, handle: string | number, x: number, y: number): PainterShape;
}

const source = readFileSync(join(__dirname, '..', '..', 'nodes', 'editor', 'mask-shapes.js'), 'utf8');
/** Through JSON: values made in the VM belong to another realm. */
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const Shapes = runInNewContext(`${source}\nBflMaskShapes`) as MaskShapes;

describe('editor/mask-shapes: the painter shapes', () => {
  const rect = Shapes.box('rect', 0.1, 0.2, 0.4, 0.6);
  const ellipse = Shapes.box('ellipse', 0.5, 0.5, 0.7, 0.9);
  const polygon = {
    kind: 'polygon',
    points: [
      [0.8, 0.1],
      [0.95, 0.1],
      [0.9, 0.3],
    ],
  };

  it('writes each kind in a form the engine parses, in fractions of the image', async () => {
    const stored = plain(Shapes.writeList([rect, ellipse, polygon]));
    assert.deepEqual(stored, [
      { x: 0.1, y: 0.2, width: 0.3, height: 0.4 },
      { cx: 0.6, cy: 0.7, rx: 0.1, ry: 0.2 },
      {
        points: [
          [0.8, 0.1],
          [0.95, 0.1],
          [0.9, 0.3],
        ],
      },
    ]);
    const specs = parseDrawnShapes(stored);
    assert.deepEqual(
      specs.map((spec) => [spec.kind, spec.relative]),
      [
        ['rectangle', true],
        ['ellipse', true],
        ['polygon', true],
      ],
    );
    // On a 100×50 image the rectangle covers 10..40 × 10..30.
    const mask = await maskFromShapes({ shapes: [stored[0]], relative: true }, 100, 50);
    assert.deepEqual(mask, await maskFromShapes([{ x: 10, y: 10, width: 30, height: 20 }], 100, 50));
  });

  it('reads back what it wrote, and the other forms of the README as rectangles', () => {
    const again = plain(Shapes.readList(Shapes.writeList([rect, ellipse, polygon])));
    assert.deepEqual(plain(Shapes.writeList(again!)), plain(Shapes.writeList([rect, ellipse, polygon])));
    const others = Shapes.readList([
      { x_min: 0.1, y_min: 0.2, x_max: 0.4, y_max: 0.6 },
      [0.1, 0.2, 0.3, 0.4],
      { bbox: [0.1, 0.2, 0.3, 0.4] },
      { box: [0.2, 0.1, 0.6, 0.4] },
    ]);
    for (const shape of plain(Shapes.writeList(others!))) {
      assert.deepEqual(shape, { x: 0.1, y: 0.2, width: 0.3, height: 0.4 });
    }
    assert.equal(Shapes.readList([{ x: 0.1 }]), null);
    assert.equal(Shapes.readList('not json'), null);
    assert.deepEqual(plain(Shapes.readList(undefined)), []);
  });

  it('keeps a shape in pixels as written', () => {
    const pixels = { x: 5, y: 5, width: 10, height: 10, relative: false };
    assert.deepEqual(plain(Shapes.writeList(Shapes.readList([pixels])!)), [pixels]);
  });

  it('finds the topmost shape under a point, and the handle near it', () => {
    assert.equal(Shapes.shapeAt([rect, ellipse], 0.2, 0.3), 0);
    assert.equal(Shapes.shapeAt([rect, ellipse], 0.6, 0.7), 1);
    assert.equal(Shapes.shapeAt([rect, ellipse], 0.51, 0.51), -1, 'inside the box, outside the ellipse');
    assert.equal(Shapes.shapeAt([polygon], 0.9, 0.15), 0);
    assert.equal(Shapes.handleAt(rect, 0.4, 0.6, 400, 300, 8), 'se');
    assert.equal(Shapes.handleAt(rect, 0.25, 0.2, 400, 300, 8), 'n');
    assert.equal(Shapes.handleAt(rect, 0.25, 0.4, 400, 300, 8), null);
    assert.equal(Shapes.handleAt(polygon, 0.95, 0.1, 400, 300, 8), 1);
  });

  it('moves a shape, but never out of the image', () => {
    assert.deepEqual(plain(Shapes.writeList([Shapes.moved(rect, 0.1, 0.1)])), [
      { x: 0.2, y: 0.3, width: 0.3, height: 0.4 },
    ]);
    assert.deepEqual(plain(Shapes.writeList([Shapes.moved(rect, 5, -5)])), [{ x: 0.7, y: 0, width: 0.3, height: 0.4 }]);
  });

  it('resizes by a handle, also across the opposite side, within the image', () => {
    const wider = Shapes.normalised(Shapes.resized(rect, 'e', 0.9, 0.99));
    assert.deepEqual(plain(Shapes.writeList([wider])), [{ x: 0.1, y: 0.2, width: 0.8, height: 0.4 }]);
    const flipped = Shapes.normalised(Shapes.resized(rect, 'nw', 0.6, 1.7));
    assert.deepEqual(plain(Shapes.writeList([flipped])), [{ x: 0.4, y: 0.6, width: 0.2, height: 0.4 }]);
    const corner = Shapes.resized(polygon, 2, -1, 0.5);
    assert.deepEqual(plain(corner.points), [
      [0.8, 0.1],
      [0.95, 0.1],
      [0, 0.5],
    ]);
  });
});
