/**
 * How much one big fill stalls the host's event loop (other flows run beside ours, often on a Pi).
 *
 * Runs a fill of a 12 MP photo-like PNG with a mask against the emulator on 127.0.0.1 (in a child process,
 * so its own JSON and base64 work does not count against us), the whole road a bfl-fill node takes (images
 * planned, task submitted, polled and downloaded, result composed back into the original), and records the
 * event-loop delay with perf_hooks while it runs. The baseline, measured in the same run, is the naive way
 * to build the same request: JSON.stringify of both images sent as base64 strings in one go. Reported: the
 * worst stall and the 99th percentile of each, and their ratios.
 *
 * Run: `npm run bench` (after `npm install`); `npm run bench -- --quick` uses a 3 MP image instead.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { emulatorEndpoint } from '../lib/api/regions';
import { fill } from '../lib/engine/fill';
import { FillService } from '../lib/engine/service';
import { resolveImageOptions } from '../lib/fields';
import { planInputs } from '../lib/image';
import { startEmulatorProcess } from './support/emulator-process';
import { boxMaskPng, photoLikePng } from './support/inputs';

const USAGE = 'usage: tsx bench/event-loop.ts [--quick]';
const KEY = 'bfl_bench_key_0001';

function parseArguments(args: readonly string[]): { quick: boolean } {
  const unknown = args.filter((arg) => arg !== '--quick');
  if (unknown.length > 0) {
    console.error(`unknown argument ${unknown[0]}\n${USAGE}`);
    process.exit(2);
  }
  return { quick: args.includes('--quick') };
}

const { quick } = parseArguments(process.argv.slice(2));
const WIDTH = quick ? 2000 : 4000;
const HEIGHT = quick ? 1500 : 3000;

async function measure<T>(work: () => Promise<T>): Promise<{ maxMs: number; p99Ms: number; result: T }> {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  // The first samples only start the clock: let the monitor tick before the work starts.
  await new Promise((resolve) => setTimeout(resolve, 20));
  const result = await work();
  // The histogram records a stall when the loop next turns; give it two turns before reading.
  await nextTurn();
  await new Promise((resolve) => setTimeout(resolve, 10));
  histogram.disable();
  return { maxMs: histogram.max / 1e6, p99Ms: histogram.percentile(99) / 1e6, result };
}

async function main(): Promise<void> {
  const emulator = await startEmulatorProcess({ processingMs: 200 });
  const service = new FillService({
    endpoint: emulatorEndpoint(emulator),
    apiKey: KEY,
    maxConcurrent: 1,
    pollSchedule: { initialMs: 50, maxMs: 100 },
  });
  try {
    const image = await photoLikePng(WIDTH, HEIGHT);
    const mask = await boxMaskPng(WIDTH, HEIGHT);
    // The bytes the node sends for these inputs with its default options, for the baseline only.
    const { images: prepared } = await planInputs(image, mask, resolveImageOptions());
    console.log(
      `input: ${WIDTH}x${HEIGHT} PNG, ${(image.length / 1e6).toFixed(1)} MB; mask ${(mask.length / 1e3).toFixed(1)} kB`,
    );

    const baseline = await measure(async () => {
      // What a naive client does; built and thrown away, never sent.
      const body = JSON.stringify({
        image: prepared.image.toString('base64'),
        mask: prepared.mask.toString('base64'),
        prompt: 'x',
      });
      return body.length;
    });
    const ours = await measure(() =>
      fill(
        service,
        { inputs: { prompt: 'bench', seed: 1, timeout: 120 }, fallbacks: {}, image, mask },
        new AbortController().signal,
      ),
    );
    console.log(
      `baseline (JSON.stringify of the body): worst stall ${baseline.maxMs.toFixed(1)} ms, p99 ${baseline.p99Ms.toFixed(1)} ms`,
    );
    console.log(
      `fill (plan, submit, poll, download, compose): worst stall ${ours.maxMs.toFixed(1)} ms, p99 ${ours.p99Ms.toFixed(1)} ms`,
    );
    console.log(`ratio of worst stalls (ours / baseline): ${(ours.maxMs / baseline.maxMs).toFixed(2)}`);
    console.log(`ratio of p99 stalls (ours / baseline): ${(ours.p99Ms / baseline.p99Ms).toFixed(2)}`);
  } finally {
    await service.close();
    await emulator.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
