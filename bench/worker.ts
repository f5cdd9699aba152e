/**
 * One measured run in a process of its own, so that its peak RSS is its own: the bench starts it with a JSON
 * plan as its only argument and reads one JSON line of figures from its stdout.
 *
 * - `job`: one fill by one client; figures: RSS growth (peak RSS, from the kernel, minus RSS before the job),
 *   the longest event-loop stall, wall time.
 * - `jobs`: `count` fills at once by one client (the queue curve, and one share of the scale-out case, which
 *   starts at `startAt` so that several processes start together); figures: wall time, peak RSS growth, how
 *   many ended well, how many saw a 429, submits accepted and distinct tasks, and whether the package kept
 *   the queue's order.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { makeClient, type ClientName, type ClientOptions, type JobRecord } from './support/clients';
import { Traffic } from './support/traffic';

export interface WorkerPlan {
  mode: 'job' | 'jobs';
  client: ClientName;
  endpoint: Pick<ClientOptions, 'apiUrl' | 'clusterUrl' | 'deliveryUrl'>;
  key: string;
  imagePath: string;
  maskPath: string;
  pasteBack?: boolean;
  count?: number;
  /** Jobs run before the measured ones, all at once: an account that has run before knows its tasks. */
  warmup?: number;
  maxConcurrent?: number;
  startAt?: number;
}

export interface WorkerFigures {
  wallMs: number;
  rssGrowthMB: number;
  maxStallMs?: number;
  ok: number;
  rateLimited: number;
  acceptedSubmits: number;
  distinctTasks: number;
  /** Package: every job was submitted in the order it was queued. */
  fifo?: boolean;
  errors: string[];
}

const MB = 1024 * 1024;

async function main(): Promise<void> {
  const plan = JSON.parse(process.argv[2] ?? '{}') as WorkerPlan;
  const image = await readFile(plan.imagePath);
  const mask = await readFile(plan.maskPath);
  // A running Node-RED has sharp's threads up already; the first operation starts them, so it is not the job's.
  await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } })
    .png()
    .toBuffer();
  const count = plan.mode === 'job' ? 1 : (plan.count ?? 1);
  const stateDir = await mkdtemp(join(tmpdir(), 'bfl-bench-worker-'));
  const client = makeClient(plan.client, {
    ...plan.endpoint,
    key: plan.key,
    maxConcurrent: plan.maxConcurrent ?? 24,
    maxQueued: Math.max(100, count),
    stateDir,
  });
  const input = { image, mask, prompt: 'bench', pasteBack: plan.pasteBack ?? true };
  await Promise.all(Array.from({ length: plan.warmup ?? 0 }, () => client.run(input)));
  const traffic = new Traffic();
  if (plan.startAt !== undefined) await sleep(Math.max(0, plan.startAt - Date.now()));
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  await sleep(20);
  const rssBefore = process.memoryUsage().rss;
  const started = Date.now();
  const records: JobRecord[] = await Promise.all(Array.from({ length: count }, () => client.run(input)));
  const wallMs = Date.now() - started;
  await sleep(10);
  histogram.disable();
  const peak = process.resourceUsage().maxRSS * 1024;
  await client.close();
  traffic.close();
  await rm(stateDir, { recursive: true, force: true });
  const order = records.map((r) => r.submittedAt ?? Number.POSITIVE_INFINITY);
  const figures: WorkerFigures = {
    wallMs,
    rssGrowthMB: Math.max(0, peak - rssBefore) / MB,
    maxStallMs: plan.mode === 'job' ? histogram.max / 1e6 : undefined,
    ok: records.filter((r) => r.ok).length,
    rateLimited: records.filter((r) => r.rateLimited).length,
    acceptedSubmits: traffic.acceptedSubmits,
    distinctTasks: new Set(records.map((r) => r.taskId).filter(Boolean)).size,
    fifo: plan.client === 'package' ? order.every((at, i) => i === 0 || at >= order[i - 1]!) : undefined,
    errors: [...new Set(records.filter((r) => !r.ok).map((r) => r.error ?? '?'))].slice(0, 3),
  };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
