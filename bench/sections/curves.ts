/**
 * How the package's cost grows with the work: one job at 1, 4, 12 and 20 megapixels, JPEG in (wall time, peak RSS
 * growth, longest stall), and 1, 24, 100 and 1000 small messages queued at once (wall time over the ideal
 * ⌈n / 24⌉ × task time, peak RSS growth). Each point in a process of its own.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startEmulatorProcess } from '../support/emulator-process';
import { boxMaskPng, photoLikeJpeg, photoLikePng, sizeOf } from '../support/inputs';
import { runWorker } from '../support/workers';
import type { WorkerFigures } from '../worker';

export interface SizePoint {
  megapixels: number;
  wallMs: number;
  rssGrowthMB: number;
  maxStallMs: number;
}

export interface QueuePoint {
  messages: number;
  wallMs: number;
  ofIdeal: number;
  rssGrowthMB: number;
  ok: number;
}

/** `jpeg`: a photo-like PNG of 20 MP is more than the 50 MiB the node takes, a camera's JPEG is not. */
export async function writeInputs(
  dir: string,
  megapixels: number,
  format: 'png' | 'jpeg' = 'png',
): Promise<{ imagePath: string; maskPath: string }> {
  const { width, height } = sizeOf(megapixels);
  const imagePath = join(dir, `image-${megapixels}mp.${format}`);
  const maskPath = join(dir, `mask-${megapixels}mp.png`);
  await writeFile(imagePath, await (format === 'png' ? photoLikePng : photoLikeJpeg)(width, height));
  await writeFile(maskPath, await boxMaskPng(width, height));
  return { imagePath, maskPath };
}

function checked(figures: WorkerFigures, what: string): WorkerFigures {
  if (figures.errors.length > 0) throw new Error(`${what}: ${figures.errors.join('; ')}`);
  return figures;
}

export async function sizeCurve(dir: string, sizes: readonly number[], run: number): Promise<SizePoint[]> {
  const emulator = await startEmulatorProcess({ processingMs: 1_000 });
  try {
    const points: SizePoint[] = [];
    for (const megapixels of sizes) {
      const inputs = await writeInputs(dir, megapixels, 'jpeg');
      const key = `bfl_bench_size_${megapixels}_${run}`;
      const figures = checked(
        await runWorker({ mode: 'job', client: 'package', endpoint: emulator, key, ...inputs }),
        `${megapixels} MP`,
      );
      points.push({
        megapixels,
        wallMs: figures.wallMs,
        rssGrowthMB: figures.rssGrowthMB,
        maxStallMs: figures.maxStallMs ?? Number.NaN,
      });
    }
    return points;
  } finally {
    await emulator.stop();
  }
}

export async function queueCurve(
  dir: string,
  counts: readonly number[],
  processingMs: number,
  run: number,
  warmup: number,
): Promise<QueuePoint[]> {
  const inputs = await writeInputs(dir, 0.05);
  const emulator = await startEmulatorProcess({ processingMs });
  try {
    const points: QueuePoint[] = [];
    for (const messages of counts) {
      const key = `bfl_bench_queue_${messages}_${run}`;
      const figures = checked(
        await runWorker({
          mode: 'jobs',
          client: 'package',
          endpoint: emulator,
          key,
          ...inputs,
          count: messages,
          warmup,
        }),
        `${messages} messages`,
      );
      const idealMs = Math.ceil(messages / 24) * processingMs;
      points.push({
        messages,
        wallMs: figures.wallMs,
        ofIdeal: figures.wallMs / idealMs,
        rssGrowthMB: figures.rssGrowthMB,
        ok: figures.ok,
      });
    }
    return points;
  } finally {
    await emulator.stop();
  }
}
