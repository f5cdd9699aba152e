import assert from 'node:assert/strict';
import {
  API_MAX_PIXELS,
  WORKING_PIXELS,
  boxArea,
  checkSendable,
  expand,
  planSendArea,
  wholeImage,
} from '../../lib/image/geometry';
import type { Box } from '../../lib/image/types';
import { imageOptions as options, invalidInputMatching } from './fixtures';

/** Whether `inner` lies wholly inside `outer`. */
function contains(outer: Box, inner: Box): boolean {
  return (
    inner.left >= outer.left &&
    inner.top >= outer.top &&
    inner.left + inner.width <= outer.left + outer.width &&
    inner.top + inner.height <= outer.top + outer.height
  );
}

function assertMultiplesOf32(area: { width: number; height: number }): void {
  assert.equal(area.width % 32, 0, `width ${area.width}`);
  assert.equal(area.height % 32, 0, `height ${area.height}`);
}

describe('image/geometry: the part of the image sent, and its size', () => {
  describe('the whole image', () => {
    it('goes as it is with no cap (the default), and up to a cap', () => {
      const big = planSendArea(4000, 3000, { left: 0, top: 0, width: 5, height: 5 }, options());
      assert.deepEqual(big, { crop: wholeImage(4000, 3000), width: 4000, height: 3000, resampled: false });
      const area = planSendArea(3000, 1000, { left: 0, top: 0, width: 5, height: 5 }, options({ maxMegapixels: 4 }));
      assert.deepEqual(area, { crop: wholeImage(3000, 1000), width: 3000, height: 1000, resampled: false });
    });

    it('is downscaled over the cap, keeping its aspect, sides multiples of 32', () => {
      const area = planSendArea(4000, 3000, { left: 0, top: 0, width: 5, height: 5 }, options({ maxMegapixels: 4 }));
      assert.equal(area.resampled, true);
      assert.deepEqual(area.crop, wholeImage(4000, 3000));
      assertMultiplesOf32(area);
      assert.ok(area.width * area.height <= 4_000_000);
      assert.ok(area.width * area.height > 3_700_000, `${area.width}×${area.height} uses the cap`);
      assert.ok(Math.abs(area.width / area.height - 4 / 3) < 0.02);
      const one = planSendArea(4000, 3000, wholeImage(5, 5), options({ maxMegapixels: 1 }));
      assert.ok(one.width * one.height <= 1_000_000 && one.width * one.height > 900_000);
    });

    it('without a cap goes as it is up to the API limit of 20 MP, and is refused beyond', () => {
      const area = planSendArea(5000, 4000, wholeImage(5, 5), options({ maxMegapixels: 0 }));
      assert.equal(area.resampled, false);
      assert.equal(API_MAX_PIXELS, 20_000_000);
      assert.throws(
        () => planSendArea(6000, 4000, wholeImage(5, 5), options({ maxMegapixels: 0 })),
        invalidInputMatching(
          /^msg\.payload is 6000×4000 pixels \(24 MP\), more than the 20 MP the BFL API accepts for one image, and downscaling is off/,
        ),
      );
      assert.throws(() => checkSendable(6000, 4000, { maxMegapixels: 0 }), invalidInputMatching(/24 MP/));
      assert.doesNotThrow(() => checkSendable(6000, 4000, { maxMegapixels: 4 }));
    });
  });

  describe('crop to mask', () => {
    const image = wholeImage(4000, 3000);

    function check(mask: Box, margin = 64): ReturnType<typeof planSendArea> {
      const area = planSendArea(4000, 3000, mask, options({ cropToMask: true, cropMargin: margin }));
      assert.equal(area.resampled, true);
      assert.ok(contains(image, area.crop), 'inside the image');
      assert.ok(contains(area.crop, expand(mask, margin, image)), 'holds the mask and its margin');
      assertMultiplesOf32(area);
      const sent = area.width * area.height;
      assert.ok(Math.abs(sent - WORKING_PIXELS) < WORKING_PIXELS * 0.1, `${area.width}×${area.height} is about 1 MP`);
      const scale = Math.sqrt(sent / boxArea(area.crop));
      assert.ok(scale <= 2.05, `upscaled ${scale.toFixed(2)}×`);
      return area;
    }

    it('sends the mask and its margin scaled to about 1 MP', () => {
      const area = check({ left: 1000, top: 1000, width: 800, height: 600 });
      assert.deepEqual(area.crop, { left: 936, top: 936, width: 928, height: 728 });
    });

    it('gives a small mask more context rather than upscaling it more than 2×', () => {
      const area = check({ left: 2000, top: 1500, width: 40, height: 30 });
      assert.ok(boxArea(area.crop) >= WORKING_PIXELS / 4);
    });

    it('stays inside the image for a mask at a corner or an edge', () => {
      const corner = check({ left: 3990, top: 2990, width: 10, height: 10 });
      assert.equal(corner.crop.left + corner.crop.width, 4000);
      assert.equal(corner.crop.top + corner.crop.height, 3000);
      check({ left: 0, top: 1400, width: 30, height: 200 }, 0);
    });

    it('limits the crop to an aspect of 4:1, adding context on the short sides', () => {
      const area = check({ left: 100, top: 1500, width: 3500, height: 20 });
      assert.ok(area.crop.width <= 4 * area.crop.height + 1, `${area.crop.width}×${area.crop.height}`);
    });

    it('downscales a big crop, and stays under a smaller cap', () => {
      const big = check({ left: 200, top: 200, width: 3000, height: 2000 });
      assert.ok(big.width < big.crop.width);
      const capped = planSendArea(
        4000,
        3000,
        { left: 1000, top: 1000, width: 800, height: 600 },
        options({ cropToMask: true, maxMegapixels: 0.5 }),
      );
      assert.ok(capped.width * capped.height <= 500_000, `${capped.width}×${capped.height}`);
    });

    it('sends a small image as it is when the crop would take all of it', () => {
      const area = planSendArea(
        600,
        400,
        { left: 100, top: 100, width: 50, height: 50 },
        options({ cropToMask: true }),
      );
      assert.deepEqual(area, { crop: wholeImage(600, 400), width: 600, height: 400, resampled: false });
    });
  });
});
