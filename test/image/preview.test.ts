import assert from 'node:assert/strict';
import sharp from 'sharp';
import { makePreview, PREVIEW_MAX_SIDE } from '../../lib/image';
import { gradientPng, rectangleMask } from '../support/emulator';

function decodeDataUrl(dataUrl: string): Buffer {
  const [head, data] = dataUrl.split(',');
  assert.equal(head, 'data:image/jpeg;base64');
  return Buffer.from(data!, 'base64');
}

describe('image/preview: the workspace preview', () => {
  it('is a small JPEG that keeps the aspect ratio and never exceeds the preview box', async () => {
    const preview = await makePreview(await gradientPng(1200, 600));
    assert.deepEqual([preview.width, preview.height], [PREVIEW_MAX_SIDE, PREVIEW_MAX_SIDE / 2]);
    const meta = await sharp(decodeDataUrl(preview.dataUrl)).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', PREVIEW_MAX_SIDE, PREVIEW_MAX_SIDE / 2]);
    assert.ok(preview.dataUrl.length < 20_000, `preview is ${preview.dataUrl.length} characters`);
  });

  it('does not enlarge a small result', async () => {
    const preview = await makePreview(await gradientPng(40, 30));
    assert.deepEqual([preview.width, preview.height], [40, 30]);
  });

  it('draws the outline of the mask and leaves its inside and outside alone', async () => {
    const image = await sharp({ create: { width: 160, height: 160, channels: 3, background: '#202020' } })
      .png()
      .toBuffer();
    const mask = await rectangleMask(160, 160, { left: 40, top: 40, width: 80, height: 80 });
    const preview = await makePreview(image, mask);
    const { data } = await sharp(decodeDataUrl(preview.dataUrl)).raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) => [...data.subarray((y * 160 + x) * 3, (y * 160 + x) * 3 + 3)];
    const [edgeRed] = at(40, 80);
    const [insideRed] = at(80, 80);
    const [outsideRed] = at(10, 10);
    assert.ok(edgeRed! > 180, `edge pixel red ${edgeRed}`);
    assert.ok(insideRed! < 80, `inside pixel red ${insideRed}`);
    assert.ok(outsideRed! < 80, `outside pixel red ${outsideRed}`);
  });
});
