/** Test helpers around the emulator: a fast emulator, fast services, and small images. */
import sharp from 'sharp';
import { BflEmulator, type EmulatorOptions } from '../../lib/emulator';
import { FillService, type FillServiceOptions } from '../../lib/engine/service';
import { emulatorEndpoint } from '../../lib/api/regions';
import type { FillParameters } from '../../lib/api/types';

export const TEST_KEY = 'bfl_test_key_0001';

/** A fill's parameters as the node's defaults make them, with PNG output. */
export const FILL_PARAMETERS: FillParameters = {
  prompt: 'a red ball',
  steps: 50,
  guidance: 60,
  seed: undefined,
  outputFormat: 'png',
  safetyTolerance: 2,
  promptUpsampling: false,
};

export function startEmulator(options: EmulatorOptions = {}): Promise<BflEmulator> {
  return BflEmulator.start({ processingMs: 30, keys: { [TEST_KEY]: 1000 }, ...options });
}

export function fastService(emulator: BflEmulator, options: Partial<FillServiceOptions> = {}): FillService {
  return new FillService({
    endpoint: emulatorEndpoint(emulator),
    apiKey: TEST_KEY,
    maxConcurrent: 24,
    retry: { baseDelayMs: 5, maxDelayMs: 20 },
    pollSchedule: { initialMs: 10, maxMs: 20, minIntervalMs: 10 },
    ...options,
  });
}

/** A w x h PNG with a colour gradient, so every pixel differs from its neighbours. */
export function gradientPng(width: number, height: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const offset = (y * width + x) * 3;
      raw[offset] = (x * 255) / Math.max(1, width - 1);
      raw[offset + 1] = (y * 255) / Math.max(1, height - 1);
      raw[offset + 2] = 128;
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/** A black mask with one white rectangle. */
export function rectangleMask(
  width: number,
  height: number,
  box: { left: number; top: number; width: number; height: number },
): Promise<Buffer> {
  const raw = Buffer.alloc(width * height);
  for (let y = box.top; y < box.top + box.height; y += 1) {
    raw.fill(255, y * width + box.left, y * width + box.left + box.width);
  }
  return sharp(raw, { raw: { width, height, channels: 1 } })
    .png()
    .toBuffer();
}
