/** Composing an expand: the size asked for, the original pasted back, the soft seam only where new area meets it. */
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { planExpand, composeExpanded } from '../../lib/image';
import { gradientPng } from '../support/emulator';

async function pixel(image: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(image).raw().toBuffer({ resolveWithObject: true });
  const offset = (y * info.width + x) * info.channels;
  return [...data.subarray(offset, offset + 3)];
}

describe('composing an expand', () => {
  const sides = { top: 0, bottom: 0, left: 64, right: 0 };
  /** What a model might answer: the whole picture regenerated, here in one flat grey, at half the size. */
  const generated = () =>
    sharp({ create: { width: 160, height: 128, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();

  it('scales the API picture to the size asked for and pastes the original back exactly', async () => {
    const image = await gradientPng(256, 256);
    const { geometry } = await planExpand(image, { sides }, { pasteBack: true, seamFeather: 0 });
    const result = await composeExpanded(await generated(), geometry, { outputFormat: 'png' });
    const meta = await sharp(result).metadata();
    assert.deepEqual([meta.width, meta.height], [320, 256]);
    assert.deepEqual(await pixel(result, 10, 10), [128, 128, 128]);
    assert.deepEqual(await pixel(result, 64, 100), await pixel(image, 0, 100));
    assert.deepEqual(await pixel(result, 319, 255), await pixel(image, 255, 255));
  });

  it('blends the original into the new area over the seam, and not at the picture border', async () => {
    const image = await gradientPng(256, 256);
    const { geometry } = await planExpand(image, { sides }, { pasteBack: true, seamFeather: 16 });
    const result = await composeExpanded(await generated(), geometry, { outputFormat: 'png' });
    // At the seam the grey shows through; 40 pixels in, the original is exact.
    assert.notDeepEqual(await pixel(result, 64, 100), await pixel(image, 0, 100));
    assert.deepEqual(await pixel(result, 104, 100), await pixel(image, 40, 100));
    // The original's right edge is the picture's border: no seam there.
    assert.deepEqual(await pixel(result, 319, 100), await pixel(image, 255, 100));
  });
});
