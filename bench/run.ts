/**
 * The bench: this package's road side by side with the naive loop of BFL's docs and the Vercel AI SDK provider,
 * in one run, against the emulator in a separate process on 127.0.0.1. Sections: latency and polls, one big
 * image (memory and event loop), throughput, the size and queue curves, and several processes on one key.
 * Prints the tables (medians of repeats, min–max) and writes every figure as JSON.
 *
 * Run: `npm run bench` (full: 3 repeats, about 11 minutes on a 2-core machine), `npm run bench -- --quick`
 * (1 repeat, smaller curves, about 2.5 minutes); `-- --only latency,throughput` runs some sections;
 * `-- --out file.json`.
 * Never part of `npm test`: benchmarks measure, tests do not time things.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLIENTS, type ClientName } from './support/clients';
import { startEmulatorProcess } from './support/emulator-process';
import { summarise, type Summary } from './support/stats';
import { runWorker } from './support/workers';
import { latencyRun } from './sections/latency';
import { queueCurve, sizeCurve, writeInputs, type QueuePoint, type SizePoint } from './sections/curves';
import { scaleOutRun } from './sections/scale-out';
import { throughputRun, type ThroughputFigures } from './sections/throughput';

const SECTIONS = ['latency', 'big-image', 'throughput', 'curves', 'scale-out'] as const;
type Section = (typeof SECTIONS)[number];

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string', default: 'bench/results/latest.json' },
  },
});
const quick = args.quick === true;
const only = new Set((args.only ?? SECTIONS.join(',')).split(',') as Section[]);
for (const section of only) if (!SECTIONS.includes(section)) throw new Error(`unknown section ${section}`);
const REPEATS = quick ? 1 : 3;

/** One measure for each client over the repeats, and its ratio to the naive loop's in the same repeat. */
type ByClient = Partial<Record<ClientName | 'package-no-paste-back', number[]>>;

interface Row {
  measure: string;
  values: Record<string, Summary>;
  ratios: Record<string, Summary>;
  unit: string;
}

function row(measure: string, unit: string, runs: ByClient, withRatios = true): Row {
  const values: Record<string, Summary> = {};
  const ratios: Record<string, Summary> = {};
  const naive = runs.naive ?? [];
  for (const [client, series] of Object.entries(runs)) {
    values[client] = summarise(series);
    if (withRatios && client !== 'naive' && naive.length === series.length) {
      ratios[client] = summarise(series.map((value, i) => value / naive[i]!));
    }
  }
  return { measure, values, ratios, unit };
}

const push = (runs: ByClient, client: keyof ByClient, value: number) => (runs[client] ??= []).push(value);

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '–');
const range = (s: Summary, digits: number) =>
  s.runs.length > 1 ? ` (${fmt(s.min, digits)}–${fmt(s.max, digits)})` : '';

function markdown(rows: Row[]): string {
  const columns = ['naive', 'ai-sdk', 'package', 'package-no-paste-back'];
  const lines = [
    '| measure | naive loop | AI SDK | this package | this package, no paste-back |',
    '|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const cells = columns.map((client) => {
      const value = r.values[client];
      if (!value) return '';
      const digits = r.unit === '×' ? 2 : value.median < 10 ? 1 : 0;
      const ratio = r.ratios[client];
      const ratioText = ratio ? ` (${fmt(ratio.median, 2)}×${range(ratio, 2)})` : '';
      return `${fmt(value.median, digits)} ${r.unit}${ratioText}`;
    });
    lines.push(`| ${r.measure} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

async function latency(rows: Row[]): Promise<void> {
  const polls: ByClient = {};
  const lagMean: ByClient = {};
  const lagP90: ByClient = {};
  for (let run = 0; run < REPEATS; run += 1) {
    const figures = await latencyRun({
      processingMs: 10_000,
      spread: 0.1,
      warmup: 3,
      measured: quick ? 6 : 12,
      staggerMs: 300,
    });
    for (const client of CLIENTS) {
      push(polls, client, figures[client].pollsPerTask);
      push(lagMean, client, figures[client].lagMeanMs);
      push(lagP90, client, figures[client].lagP90Ms);
    }
    console.log(`latency run ${run + 1}: ${JSON.stringify(figures)}`);
  }
  rows.push(row('polls per task, 10 s ± 10% tasks', '', polls));
  rows.push(row('detection lag (Ready → seen), mean', 'ms', lagMean));
  rows.push(row('detection lag, p90', 'ms', lagP90));
}

async function bigImage(dir: string, rows: Row[]): Promise<void> {
  const inputs = await writeInputs(dir, 12);
  const rss: ByClient = {};
  const stall: ByClient = {};
  const emulator = await startEmulatorProcess({ processingMs: quick ? 200 : 1_000 });
  try {
    for (let run = 0; run < REPEATS; run += 1) {
      const jobs = [
        ['naive', 'naive', true],
        ['ai-sdk', 'ai-sdk', true],
        ['package', 'package', true],
        ['package-no-paste-back', 'package', false],
      ] as const;
      for (const [label, client, pasteBack] of jobs) {
        const key = `bfl_bench_big_${label}_${run}`;
        const figures = await runWorker({ mode: 'job', client, endpoint: emulator, key, ...inputs, pasteBack });
        if (figures.ok !== 1) throw new Error(`12 MP job of ${label} failed: ${figures.errors.join('; ')}`);
        push(rss, label, figures.rssGrowthMB);
        push(stall, label, figures.maxStallMs!);
        console.log(`big image run ${run + 1}, ${label}: ${JSON.stringify(figures)}`);
      }
    }
  } finally {
    await emulator.stop();
  }
  rows.push(row('12 MP PNG job: peak RSS growth', 'MB', rss));
  rows.push(row('12 MP PNG job: longest event-loop stall', 'ms', stall));
}

async function throughput(dir: string, rows: Row[], extra: Record<string, unknown>): Promise<void> {
  const inputs = await writeInputs(dir, 0.05);
  const ok: ByClient = {};
  const ofIdeal: ByClient = {};
  const coldOfIdeal: ByClient = {};
  const surfaced: ByClient = {};
  const duplicates: ByClient = {};
  const fifo: ByClient = {};
  const details: Record<string, ThroughputFigures[]> = {};
  const emulator = await startEmulatorProcess({ processingMs: 2_000 });
  try {
    for (let run = 0; run < REPEATS; run += 1) {
      for (const client of CLIENTS) {
        // Three tasks first, as any account that has run before (what it learned is kept in its state directory).
        const plan = { count: 100, processingMs: 2_000, run, warmup: 3 };
        const figures = await throughputRun(emulator, client, inputs, plan);
        push(ok, client, figures.ok);
        push(ofIdeal, client, figures.ofIdeal);
        push(surfaced, client, figures.rateLimited);
        push(duplicates, client, figures.duplicates);
        if (figures.fifo !== undefined) push(fifo, client, figures.fifo ? 1 : 0);
        (details[client] ??= []).push(figures);
        console.log(`throughput run ${run + 1}, ${client}: ${JSON.stringify(figures)}`);
      }
      const cold = await throughputRun(emulator, 'package', inputs, {
        count: 100,
        processingMs: 2_000,
        run,
        warmup: 0,
      });
      push(coldOfIdeal, 'package', cold.ofIdeal);
      (details['package-new-account'] ??= []).push(cold);
      console.log(`throughput run ${run + 1}, package, new account: ${JSON.stringify(cold)}`);
    }
  } finally {
    await emulator.stop();
  }
  rows.push(row('100 messages at once, 2 s tasks, cap 24: messages ok', '', ok, false));
  rows.push(row('same: 429s surfaced', '', surfaced, false));
  rows.push(row('same: tasks submitted twice', '', duplicates, false));
  rows.push(row('same: queue order kept, first in first submitted (1 = yes)', '', fifo, false));
  rows.push(row('same: wall time over the ideal ⌈100/24⌉ × 2 s', '×', ofIdeal, false));
  rows.push(row('same, an account that has learned nothing yet', '×', coldOfIdeal, false));
  extra.throughput = details;
}

async function curves(dir: string, extra: Record<string, unknown>): Promise<string> {
  const sizes = quick ? [1, 4] : [1, 4, 12, 20];
  const counts = quick ? [1, 24, 100] : [1, 24, 100, 1000];
  const sizeRuns: SizePoint[][] = [];
  const queueRuns: QueuePoint[][] = [];
  for (let run = 0; run < REPEATS; run += 1) {
    sizeRuns.push(await sizeCurve(dir, sizes, run));
    queueRuns.push(await queueCurve(dir, counts, 1_000, run, 3));
    console.log(`curves run ${run + 1}: ${JSON.stringify({ size: sizeRuns.at(-1), queue: queueRuns.at(-1) })}`);
  }
  extra.sizeCurve = sizeRuns;
  extra.queueCurve = queueRuns;
  const med = (series: number[]) => summarise(series).median;
  const sizeLines = [
    '| image | wall time | per MP | peak RSS growth | per MP | longest stall |',
    '|---|---|---|---|---|---|',
  ];
  sizes.forEach((mp, i) => {
    const wall = med(sizeRuns.map((r) => r[i]!.wallMs));
    const rss = med(sizeRuns.map((r) => r[i]!.rssGrowthMB));
    const stall = med(sizeRuns.map((r) => r[i]!.maxStallMs));
    sizeLines.push(
      `| ${mp} MP | ${fmt(wall / 1000, 1)} s | ${fmt(wall / mp / 1000, 2)} s | ${fmt(rss)} MB | ${fmt(rss / mp, 1)} MB | ${fmt(stall)} ms |`,
    );
  });
  const queueLines = [
    '| messages at once | wall time | over the ideal ⌈n/24⌉ × 1 s | peak RSS growth | per message |',
    '|---|---|---|---|---|',
  ];
  counts.forEach((n, i) => {
    const wall = med(queueRuns.map((r) => r[i]!.wallMs));
    const ratio = med(queueRuns.map((r) => r[i]!.ofIdeal));
    const rss = med(queueRuns.map((r) => r[i]!.rssGrowthMB));
    queueLines.push(`| ${n} | ${fmt(wall / 1000, 1)} s | ${fmt(ratio, 2)}× | ${fmt(rss)} MB | ${fmt(rss / n, 2)} MB |`);
  });
  return `${sizeLines.join('\n')}\n\n${queueLines.join('\n')}`;
}

async function scaleOut(dir: string, extra: Record<string, unknown>): Promise<string> {
  const inputs = await writeInputs(dir, 0.05);
  // The same case in a quick run: with fewer messages the last round's fixed costs weigh more.
  const perProcess = 100;
  const runs = [];
  for (let run = 0; run < REPEATS; run += 1) {
    runs.push(await scaleOutRun(inputs, { perProcess, processingMs: 2_000, run }));
    console.log(`scale-out run ${run + 1}: ${JSON.stringify(runs.at(-1))}`);
  }
  extra.scaleOut = runs;
  const ratio = summarise(runs.map((r) => r.ofIdeal));
  const ok = summarise(runs.map((r) => r.ok));
  return (
    `3 processes × ${perProcess} messages, one key (24 active tasks), 2 s tasks: ` +
    `${fmt(ok.median)}/${runs[0]!.messages} ok, ${fmt(ratio.median, 2)}× the ideal${range(ratio, 2)}, ` +
    `${Math.max(...runs.map((r) => r.rateLimited))} 429s surfaced, ${Math.max(...runs.map((r) => r.duplicates))} duplicates`
  );
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bfl-bench-'));
  const rows: Row[] = [];
  const extra: Record<string, unknown> = {};
  const texts: string[] = [];
  const started = Date.now();
  const failures: string[] = [];
  // A section that fails is reported, and the others still run.
  const section = async (name: Section, work: () => Promise<void>) => {
    if (!only.has(name)) return;
    try {
      await work();
    } catch (error) {
      failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      console.error(`section ${name} failed:`, error);
    }
  };
  try {
    await section('latency', () => latency(rows));
    await section('big-image', () => bigImage(dir, rows));
    await section('throughput', () => throughput(dir, rows, extra));
    await section('curves', async () => void texts.push(await curves(dir, extra)));
    await section('scale-out', async () => void texts.push(await scaleOut(dir, extra)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GB, Node.js ${process.version}`;
  const header = `${new Date().toISOString().slice(0, 10)}, ${machine}, ${quick ? 'quick' : 'full'} run, ${REPEATS} repeat(s), ${Math.round((Date.now() - started) / 1000)} s`;
  console.log(`\n${header}\n`);
  if (rows.length > 0) console.log(`${markdown(rows)}\n`);
  for (const text of texts) console.log(`${text}\n`);
  await mkdir(dirname(args.out!), { recursive: true });
  await writeFile(args.out!, `${JSON.stringify({ header, rows, ...extra, failures }, null, 2)}\n`);
  console.log(`figures written to ${args.out}`);
  if (failures.length > 0) {
    console.error(`failed sections:\n${failures.join('\n')}`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
