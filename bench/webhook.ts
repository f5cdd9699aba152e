/**
 * What webhooks change for a job, against polling in the same run: the same fills through the engine's road
 * (submit, wait, download) on the built-in emulator (127.0.0.1), 24 at once, the tasks finishing 3 to 4 s after
 * their submits (spread evenly, as real tasks do not all end in the same millisecond).
 * Three rows: polling only (no webhook URL), webhooks (the emulator posts each task's end to a receiver served
 * as Node-RED's HTTP node server would), and webhooks that are all lost (`[emulate:webhook=drop]`), where the
 * default fallback (expected finish + margin) polls. Reported per row: polls per task, the time from the task's
 * end (or from its webhook's post) to the job's result, and the job's wall time against its timeout.
 *
 * Run: `npm run bench:webhook` (`-- --quick`: fewer tasks).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { emulatorEndpoint } from '../lib/api/regions';
import type { FillParameters } from '../lib/api/types';
import { BflEmulator, type WebhookScenario } from '../lib/emulator';
import { FillService } from '../lib/engine/service';
import { serveWebhook } from '../lib/engine/webhook-http';
import { WebhookReceiver, generateWebhookSecret } from '../lib/engine/webhooks';
import { resolveImageOptions } from '../lib/fields';
import { planInputs, type PreparedImages } from '../lib/image';
import sharp from 'sharp';

const KEY = 'bfl_bench_key_0001';
const quick = process.argv.includes('--quick');
const TASKS = quick ? 8 : 24;
const PROCESSING_MS = 3_000;
/** The tasks' finishes are spread over this long after PROCESSING_MS. */
const SPREAD_MS = 1_000;
const TIMEOUT_MS = 300_000;
const RECEIVER_PATH = '/bfl/webhook/bench';

const PARAMETERS: FillParameters = {
  prompt: 'a red ball',
  steps: 50,
  guidance: 60,
  seed: undefined,
  outputFormat: 'png',
  safetyTolerance: 2,
  promptUpsampling: false,
};

interface Row {
  name: string;
  pollsPerTask: number;
  /** ms from the task's end (polling) or from its webhook's post (webhooks) to the job's result. */
  afterNews: number[];
  wallMs: number[];
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function images(): Promise<PreparedImages> {
  const image = await sharp({ create: { width: 256, height: 192, channels: 3, background: '#6080a0' } })
    .png()
    .toBuffer();
  const svg = `<svg width="256" height="192"><rect width="100%" height="100%"/><rect x="64" y="48" width="64" height="48" fill="white"/></svg>`;
  const mask = await sharp(Buffer.from(svg)).png().toBuffer();
  return (await planInputs(image, mask, resolveImageOptions())).images;
}

async function receiverServer(secret: string): Promise<{ receiver: WebhookReceiver; close: () => Promise<void> }> {
  const served: { receiver?: WebhookReceiver } = {};
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const token = path.startsWith(`${RECEIVER_PATH}/`) ? path.slice(RECEIVER_PATH.length + 1) : undefined;
    serveWebhook(served.receiver ? [served.receiver] : [], token, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  served.receiver = new WebhookReceiver({ url: `http://127.0.0.1:${port}${RECEIVER_PATH}`, secret });
  return {
    receiver: served.receiver,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function runRow(
  name: string,
  emulator: BflEmulator,
  prepared: PreparedImages,
  receiver: WebhookReceiver | undefined,
  webhook: WebhookScenario = {},
): Promise<Row> {
  emulator.reset();
  for (let i = 0; i < TASKS; i += 1) {
    emulator.nextTask({ processingMs: PROCESSING_MS + (i * SPREAD_MS) / TASKS, webhook });
  }
  const service = new FillService({
    endpoint: emulatorEndpoint(emulator),
    apiKey: KEY,
    maxConcurrent: 24,
    webhooks: receiver,
  });
  const finished = new Map<string, number>();
  try {
    const results = await Promise.all(
      Array.from({ length: TASKS }, async () => {
        const begun = Date.now();
        const result = await service.run(
          { parameters: PARAMETERS, images: prepared, timeoutMs: TIMEOUT_MS },
          new AbortController().signal,
        );
        finished.set(result.metadata.id, Date.now());
        return { id: result.metadata.id, wall: Date.now() - begun };
      }),
    );
    const polls = emulator.requests.filter((r) => r.path === '/v1/get_result').length;
    const afterNews = results.map(({ id }) => {
      const webhook = emulator.webhooks.find((w) => w.taskId === id && !w.forged);
      const news = webhook ? webhook.sentAt : emulator.tasks.get(id)!.completedAt!;
      return finished.get(id)! - news;
    });
    return { name, pollsPerTask: polls / TASKS, afterNews, wallMs: results.map((r) => r.wall) };
  } finally {
    await service.close();
  }
}

async function main(): Promise<void> {
  const emulator = await BflEmulator.start({ processingMs: PROCESSING_MS, keys: { [KEY]: 1_000_000 } });
  const hooks = await receiverServer(generateWebhookSecret());
  const prepared = await images();
  try {
    const rows = [
      await runRow('polling', emulator, prepared, undefined),
      await runRow('webhooks', emulator, prepared, hooks.receiver),
      await runRow('webhooks, all lost', emulator, prepared, hooks.receiver, { drop: true }),
    ];
    console.log(
      `${TASKS} tasks at once per row, finishing ${PROCESSING_MS} to ${PROCESSING_MS + SPREAD_MS} ms after their submits; timeout ${TIMEOUT_MS / 1000} s`,
    );
    console.log('row                 polls/task  result after task end or webhook p50/p95/max ms  job wall p50/max ms');
    for (const row of rows) {
      const after = [50, 95, 100].map((p) => percentile(row.afterNews, p)).join(' / ');
      const wall = [50, 100].map((p) => percentile(row.wallMs, p)).join(' / ');
      console.log(
        `${row.name.padEnd(20)}${row.pollsPerTask.toFixed(2).padStart(10)}  ${after.padStart(46)}  ${wall.padStart(19)}`,
      );
    }
    const base = rows[0]!;
    const webhook = rows[1]!;
    console.log(
      `webhooks / polling: polls ${(webhook.pollsPerTask / base.pollsPerTask).toFixed(2)}, median wall ${(percentile(webhook.wallMs, 50) / percentile(base.wallMs, 50)).toFixed(2)}`,
    );
  } finally {
    await hooks.close();
    await emulator.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
