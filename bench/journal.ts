/**
 * What the job journal (bfl-config's resumeJobs) costs the hot path: the same fills of a big photo-like PNG,
 * the road a bfl-fill node takes (planned, submitted, polled, downloaded, composed), with the journal off and
 * on, alternating, in one run against the emulator (a child process on 127.0.0.1). The journal writes the
 * input image and a small entry while the task runs; reported are the medians of the job's wall time and of
 * its worst event-loop stall, and their ratios (on / off).
 *
 * Run: `npx tsx bench/journal.ts` (12 MP); `-- --quick` uses 3 MP and fewer rounds.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import sharp from 'sharp';
import { emulatorEndpoint } from '../lib/api/regions';
import { fill } from '../lib/engine/fill';
import { Journal } from '../lib/engine/journal';
import { FillService } from '../lib/engine/service';

const KEY = 'bfl_bench_key_0001';
const quick = process.argv.includes('--quick');
const [WIDTH, HEIGHT] = quick ? [2000, 1500] : [4000, 3000];
const ROUNDS = quick ? 3 : 5;

async function inputs(): Promise<{ image: Buffer; mask: Buffer }> {
  const image = await sharp({
    create: {
      width: WIDTH,
      height: HEIGHT,
      channels: 3,
      background: '#6080a0',
      noise: { type: 'gaussian', mean: 128, sigma: 40 },
    },
  })
    .png({ compressionLevel: 1 })
    .toBuffer();
  const svg = `<svg width="${WIDTH}" height="${HEIGHT}"><rect width="100%" height="100%"/><rect x="${WIDTH / 3}" y="${HEIGHT / 3}" width="${WIDTH / 5}" height="${HEIGHT / 5}" fill="white"/></svg>`;
  return { image, mask: await sharp(Buffer.from(svg)).png().toBuffer() };
}

async function emulatorProcess(): Promise<{ kill: () => Promise<void>; apiUrl: string; clusterUrl: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bin/bfl-emulator.ts', '--port', '0', '--processing-ms', '300', '--quiet', '--key', KEY],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const origins: Record<string, string> = {};
  for await (const line of createInterface({ input: child.stdout })) {
    const match = /^\s+(API|cluster)\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(line);
    if (match) origins[match[1]!] = match[2]!;
    if (origins.API && origins.cluster) break;
  }
  return {
    apiUrl: origins.API!,
    clusterUrl: origins.cluster!,
    kill: async () => {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const emulator = await emulatorProcess();
  const service = new FillService({
    endpoint: emulatorEndpoint(emulator),
    apiKey: KEY,
    maxConcurrent: 1,
    pollSchedule: { initialMs: 50, maxMs: 100 },
  });
  const dir = mkdtempSync(join(tmpdir(), 'bfl-bench-journal-'));
  const journal = new Journal({ dir, apiKey: KEY });
  await journal.entries();
  try {
    const { image, mask } = await inputs();
    console.log(`input: ${WIDTH}x${HEIGHT} PNG, ${(image.length / 1e6).toFixed(1)} MB; ${ROUNDS} rounds each`);
    const results: Record<'off' | 'on', { ms: number[]; stall: number[] }> = {
      off: { ms: [], stall: [] },
      on: { ms: [], stall: [] },
    };
    for (let round = 0; round < ROUNDS * 2; round += 1) {
      const mode = round % 2 === 0 ? 'off' : 'on';
      const histogram = monitorEventLoopDelay({ resolution: 5 });
      histogram.enable();
      const started = performance.now();
      await fill(
        service,
        {
          inputs: { prompt: 'bench', seed: 1, timeout: 120 },
          fallbacks: {},
          image,
          mask,
          journal:
            mode === 'on'
              ? {
                  begin: (settings, geometry) =>
                    journal.begin({
                      nodeId: 'bench',
                      parameters: settings.parameters,
                      timeoutMs: settings.timeoutMs,
                      msg: { topic: 'bench' },
                      geometry,
                    }),
                }
              : undefined,
        },
        new AbortController().signal,
      );
      results[mode].ms.push(performance.now() - started);
      histogram.disable();
      results[mode].stall.push(histogram.max / 1e6);
    }
    for (const mode of ['off', 'on'] as const) {
      console.log(
        `journal ${mode}: job ${median(results[mode].ms).toFixed(0)} ms, worst stall ${median(results[mode].stall).toFixed(1)} ms (medians)`,
      );
    }
    console.log(`ratio of job time (on / off): ${(median(results.on.ms) / median(results.off.ms)).toFixed(2)}`);
    console.log(
      `ratio of worst stall (on / off): ${(median(results.on.stall) / median(results.off.stall)).toFixed(2)}`,
    );
  } finally {
    await service.close();
    await emulator.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
