/**
 * The node's own mask (maskShapes, drawn in its dialog): shapes in fractions of the image, the mask when
 * msg.mask is absent; msg.mask wins, and the alpha channel counts only when neither is given.
 */
import assert from 'node:assert/strict';
import { resolveImageOptions } from '../../lib/fields';
import { maskFromShapes } from '../../lib/image';
import { countFilled, decodeMask, fromRgba, invalidInputMatching, photoPng, plan, rgbaPixels } from './fixtures';

const W = 200;
const H = 100;
/** A quarter of the width and half of the height from (0.25, 0.2): pixels 50..100 × 20..70. */
const DRAWN = [{ x: 0.25, y: 0.2, width: 0.25, height: 0.5 }];

describe('image/plan: the shapes drawn on the node (maskShapes)', () => {
  it('are the mask when msg.mask is absent, in fractions of the image', async () => {
    const { images } = await plan(await photoPng(W, H), undefined, { maskShapes: DRAWN });
    assert.equal(images.maskSource, 'mask');
    assert.deepEqual(images.mask, await maskFromShapes([{ x: 50, y: 20, width: 50, height: 50 }], W, H));
  });

  it('draw every kind the painter makes: rectangle, ellipse and polygon', async () => {
    const shapes = [
      { x: 0, y: 0, width: 0.1, height: 0.2 },
      { cx: 0.5, cy: 0.5, rx: 0.1, ry: 0.2 },
      {
        points: [
          [0.8, 0.1],
          [0.95, 0.1],
          [0.95, 0.9],
        ],
      },
    ];
    const { images } = await plan(await photoPng(W, H), null, { maskShapes: shapes });
    const inPixels = [
      { x: 0, y: 0, width: 20, height: 20 },
      { cx: 100, cy: 50, rx: 20, ry: 20 },
      {
        points: [
          [160, 10],
          [190, 10],
          [190, 90],
        ],
      },
    ];
    assert.deepEqual(images.mask, await maskFromShapes(inPixels, W, H));
  });

  it('give way to msg.mask', async () => {
    const fromMessage = [{ x: 150, y: 10, width: 20, height: 20 }];
    const { images } = await plan(await photoPng(W, H), fromMessage, { maskShapes: DRAWN });
    assert.deepEqual(images.mask, await maskFromShapes(fromMessage, W, H));
  });

  it('win over the alpha channel, which counts only when neither is given', async () => {
    const transparentLeft = await fromRgba(
      rgbaPixels(
        W,
        H,
        () => [90, 120, 150],
        (x) => (x < 10 ? 0 : 255),
      ),
      W,
      H,
    )
      .png()
      .toBuffer();
    const drawn = await plan(transparentLeft, undefined, { maskShapes: DRAWN });
    assert.equal(countFilled((await decodeMask(drawn.images.mask)).data), 50 * 50);
    const alpha = await plan(transparentLeft, undefined, { maskShapes: [] });
    assert.equal(alpha.images.maskSource, 'alpha');
    assert.equal(countFilled((await decodeMask(alpha.images.mask)).data), 10 * H);
  });

  it('name a bad shape as maskShapes[i], before anything is sent', async () => {
    const png = await photoPng(W, H);
    await assert.rejects(
      plan(png, undefined, { maskShapes: [...DRAWN, { cx: 0.5, cy: 0.5, rx: 0.1 }] }),
      invalidInputMatching(/^Shape maskShapes\[1\]: ry is missing/),
    );
    await assert.rejects(
      plan(png, undefined, { maskShapes: [{ x: 2, y: 2, width: 0.1, height: 0.1 }] }),
      invalidInputMatching(/maskShapes\[0\]/),
    );
  });

  it('are a list: a JSON text of one is read, anything else refused with the field named', () => {
    assert.deepEqual(resolveImageOptions({ maskShapes: JSON.stringify(DRAWN) }).maskShapes, DRAWN);
    assert.equal(resolveImageOptions({ maskShapes: [] }).maskShapes, undefined);
    assert.equal(resolveImageOptions({ maskShapes: '' }).maskShapes, undefined);
    assert.throws(
      () => resolveImageOptions({ maskShapes: { x: 1 } }),
      invalidInputMatching(/^Drawn mask must be a list of shapes/),
    );
    assert.throws(
      () => resolveImageOptions({ maskShapes: '{nope' }),
      invalidInputMatching(/^Drawn mask must be a list/),
    );
  });
});
