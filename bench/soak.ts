/**
 * The soak: 1,000 fills through the package as users install it, in a real Node-RED (the packed-package
 * harness), against an emulator in this process on 127.0.0.1 that answers a tenth of all requests with a fault
 * drawn, reproducibly, from every fault kind on every endpoint. Each job is one HTTP request to an `http in`
 * route (http in -> change -> bfl fill -> http response; Catch -> http response with the code and the message),
 * sent with bounded concurrency. Checked at the end:
 *
 * - every job ended with a PNG of the input's size, or with an error code that the faults the job met explain,
 *   and a message;
 * - no job was submitted again after a submit that may have been billed (every submit of a job is told apart by
 *   its Content-Length: job i's prompt is i characters longer than job 0's), and no job created two tasks;
 * - Node-RED printed no unhandled rejection nor uncaught exception, and is still running;
 * - the RSS of the Node-RED process (/proc/<pid>/status) after the run is within 10% of its RSS after the warm-up,
 *   both read after a full garbage collection (Node-RED runs with --expose-gc, and the flow has a /soak/gc route),
 *   so that only memory the process keeps is compared, not garbage V8 has not collected yet.
 *
 * Run: `npm run soak` (options: `-- --jobs 1000 --warmup 100 --concurrency 16 --fault-rate 0.1 --seed 42`).
 * Not part of `npm test`. Bounded: it stops dispatching after --deadline seconds (default 900) and every
 * request has a timeout. Traffic goes to 127.0.0.1 only. Exits non-zero when a check fails.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { BflEmulator, SUBMIT_PATH, type AppliedFault, type RecordedRequest } from '../lib/emulator';
import { ERROR_CODES } from '../lib/errors';
import { gradientPng, rectangleMask } from '../test/support/emulator';
import { startNodeRedProcess, type NodeRedProcess } from '../test/pack/node-red-process';
import {
  childEnv,
  nodeBinary,
  redJs,
  startPackedNodeRed,
  type Api,
  type PackedNodeRed,
} from '../test/pack/packed-node-red';

const { values: args } = parseArgs({
  options: {
    jobs: { type: 'string', default: '1000' },
    warmup: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '16' },
    'fault-rate': { type: 'string', default: '0.1' },
    seed: { type: 'string', default: '42' },
    'max-concurrent': { type: 'string', default: '8' },
    deadline: { type: 'string', default: '900' },
  },
});
const JOBS = Number(args.jobs);
const WARMUP = Math.min(JOBS, Number(args.warmup));
const CONCURRENCY = Number(args.concurrency);
const FAULT_RATE = Number(args['fault-rate']);
const SEED = Number(args.seed);
const MAX_CONCURRENT = Number(args['max-concurrent']);
const DEADLINE_MS = Number(args.deadline) * 1000;

const KEY = 'bfl_soak_key_0001';
const WIDTH = 48;
const HEIGHT = 32;
/** The emulator's timings, short so the run stays within minutes on 2 cores. */
const EMULATOR = { processingMs: 200, stallMs: 300, restartMs: 100, retryAfterSeconds: 1 };
/** Node-RED's settings.js tuning: poll every 50 ms, retry after 20 ms (doubling). */
const TUNING = { bflConfigPollInterval: 50, bflConfigRetryDelay: 20 };
const JOB_TIMEOUT_S = 60;

const TAB = '50a4000000000000';
const CONFIG = '50a40000000000c0';

function soakFlow(apiUrl: string): Array<Record<string, unknown>> {
  return [
    { id: TAB, type: 'tab', label: 'soak' },
    {
      id: '50a4000000000001',
      type: 'http in',
      z: TAB,
      url: '/soak',
      method: 'post',
      upload: false,
      swaggerDoc: '',
      wires: [['50a4000000000002']],
    },
    {
      id: '50a4000000000002',
      type: 'change',
      z: TAB,
      rules: [
        { t: 'set', p: 'mask', pt: 'msg', to: 'payload.mask', tot: 'msg' },
        { t: 'set', p: 'prompt', pt: 'msg', to: 'payload.prompt', tot: 'msg' },
        { t: 'set', p: 'payload', pt: 'msg', to: 'payload.image', tot: 'msg' },
      ],
      wires: [['50a4000000000003']],
    },
    {
      id: '50a4000000000003',
      type: 'bfl-fill',
      z: TAB,
      config: CONFIG,
      prompt: '',
      outputFormat: 'png',
      timeout: JOB_TIMEOUT_S,
      wires: [['50a4000000000004']],
    },
    {
      id: '50a4000000000004',
      type: 'http response',
      z: TAB,
      statusCode: '200',
      headers: { 'content-type': 'image/png' },
      wires: [],
    },
    { id: '50a4000000000c01', type: 'catch', z: TAB, scope: null, uncaught: false, wires: [['50a4000000000c02']] },
    {
      id: '50a4000000000c02',
      type: 'change',
      z: TAB,
      rules: [
        { t: 'set', p: 'statusCode', pt: 'msg', to: '500', tot: 'num' },
        { t: 'set', p: 'headers', pt: 'msg', to: '{"content-type":"application/json"}', tot: 'json' },
        { t: 'set', p: 'payload', pt: 'msg', to: '{"code": error.code, "message": error.message}', tot: 'jsonata' },
      ],
      wires: [['50a4000000000c03']],
    },
    { id: '50a4000000000c03', type: 'http response', z: TAB, statusCode: '', headers: {}, wires: [] },
    // For the RSS readings: a full garbage collection (settings.js puts soakGc into the global context).
    {
      id: '50a4000000000d01',
      type: 'http in',
      z: TAB,
      url: '/soak/gc',
      method: 'post',
      upload: false,
      swaggerDoc: '',
      wires: [['50a4000000000d02']],
    },
    {
      id: '50a4000000000d02',
      type: 'function',
      z: TAB,
      func: "global.get('soakGc')();\nmsg.payload = 'collected';\nreturn msg;",
      outputs: 1,
      wires: [['50a4000000000d03']],
    },
    { id: '50a4000000000d03', type: 'http response', z: TAB, statusCode: '200', headers: {}, wires: [] },
    {
      id: CONFIG,
      type: 'bfl-config',
      name: 'soak',
      region: 'custom',
      baseUrl: apiUrl,
      maxConcurrent: MAX_CONCURRENT,
      credentials: { apiKey: KEY },
    },
  ];
}

interface Job {
  index: number;
  prompt: string;
  start: number;
  end: number;
  /** 'ok', an error code, or what went wrong with the answer itself ('HTTP 404', 'no answer: ...'). */
  outcome: string;
  message: string;
  /** Why the outcome is not acceptable, if it is not. */
  problem?: string;
}

/** Job i's prompt: a unique id, padded so that it is exactly `i` characters longer than job 0's. */
function promptOf(index: number): string {
  return `soak-${String(index).padStart(5, '0')} ${'x'.repeat(index)}`;
}
const PROMPT_ID = /^soak-(\d{5}) /;

/** The error codes each fault can lead to, for the job that met it (GET faults only once retries run out). */
const EXPLAINS: Record<string, readonly string[]> = {
  'submit:status': ['BFL_SERVER'],
  'submit:reset-before': ['BFL_NETWORK'],
  'submit:reset-after': ['BFL_NETWORK'],
  'submit:stall': ['BFL_NETWORK', 'BFL_TIMEOUT'],
  'submit:malformed-json': ['BFL_NETWORK', 'BFL_SERVER'],
  'submit:500-after-create': ['BFL_SERVER'],
  'submit:rate-limit-storm': ['BFL_RATE_LIMITED'],
  'submit:restart': ['BFL_NETWORK'],
  'poll:status': ['BFL_SERVER'],
  'poll:reset-before': ['BFL_NETWORK'],
  'poll:reset-after': ['BFL_NETWORK'],
  'poll:stall': ['BFL_NETWORK', 'BFL_TIMEOUT'],
  'poll:malformed-json': ['BFL_NETWORK', 'BFL_SERVER'],
  'poll:unknown-status': [],
  'poll:rate-limit-storm': ['BFL_RATE_LIMITED'],
  'poll:restart': ['BFL_NETWORK', 'BFL_TASK_NOT_FOUND'],
  'download:status': ['BFL_DOWNLOAD'],
  'download:reset-before': ['BFL_DOWNLOAD'],
  'download:reset-after': ['BFL_DOWNLOAD'],
  'download:stall': ['BFL_DOWNLOAD', 'BFL_TIMEOUT'],
  'download:break': ['BFL_DOWNLOAD'],
  'download:truncated': ['BFL_DOWNLOAD'],
  'download:expired': ['BFL_DOWNLOAD', 'BFL_TASK_NOT_FOUND'],
  'download:rate-limit-storm': ['BFL_DOWNLOAD'],
  'download:restart': ['BFL_DOWNLOAD', 'BFL_TASK_NOT_FOUND'],
};

/**
 * What other jobs meet from a fault: a restart cuts every connection of its origin (a submit under way breaks:
 * BFL_NETWORK; a poll under way is retried), and `restart=forget` loses every task (polls answer Task not found;
 * a link that expired can no longer be renewed).
 */
function explainsOthers(fault: AppliedFault): readonly string[] {
  if (fault.kind !== 'restart') return [];
  const codes = fault.target === 'submit' ? ['BFL_NETWORK'] : [];
  return fault.fault.endsWith('=forget') ? [...codes, 'BFL_TASK_NOT_FOUND', 'BFL_DOWNLOAD'] : codes;
}

function rssKiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]);
}

/**
 * The RSS of what the process keeps: a full garbage collection first (through the flow's /soak/gc route; Node-RED
 * runs with --expose-gc), so a heap V8 has merely not collected yet does not count, then the lowest of a few
 * samples.
 */
async function retainedRss(pid: number, api: Api): Promise<{ before: number; after: number }> {
  const before = rssKiB(pid);
  const answer = await api('/soak/gc', { method: 'POST' });
  if (answer.status !== 200 || answer.text() !== 'collected')
    throw new Error(`/soak/gc: ${answer.status} ${answer.text()}`);
  const samples: number[] = [];
  for (let i = 0; i < 4; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    samples.push(rssKiB(pid));
  }
  return { before, after: Math.min(...samples) };
}

function mib(kib: number): string {
  return `${(kib / 1024).toFixed(1)} MiB`;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  const began = Date.now();
  const emulator = await BflEmulator.start({
    ...EMULATOR,
    keys: { [KEY]: 10_000_000 },
    faultRate: FAULT_RATE,
    seed: SEED,
  });
  // Every task as it is created, by job: restart=forget empties emulator.tasks, this list keeps them.
  const tasksOfJob = new Map<number, string[]>();
  const jobOfTask = new Map<string, number>();
  void emulator.waitForTask((task) => {
    if (!jobOfTask.has(task.id)) {
      const index = Number(PROMPT_ID.exec(task.prompt)?.[1] ?? -1);
      jobOfTask.set(task.id, index);
      tasksOfJob.set(index, [...(tasksOfJob.get(index) ?? []), task.id]);
    }
    return false;
  });

  let packed: PackedNodeRed | undefined;
  let restarted: NodeRedProcess | undefined;
  try {
    console.log('soak: building, packing and installing the package into a fresh Node-RED ...');
    packed = await startPackedNodeRed({ settings: TUNING });
    // Node-RED again, with --expose-gc and a function in its global context that collects garbage, for the
    // RSS readings; everything else as the harness set it up.
    const port = Number(new URL(packed.nodeRed.url).port);
    await packed.nodeRed.stop();
    const settingsFile = join(packed.work, 'settings.js');
    appendFileSync(
      settingsFile,
      'module.exports.functionGlobalContext = { soakGc: () => { global.gc(); global.gc(); return true; } };\n',
    );
    const nodeRed = (restarted = await startNodeRedProcess({
      redJs,
      node: nodeBinary,
      userDir: packed.userDir,
      settingsFile,
      port,
      env: { ...childEnv(), NODE_OPTIONS: '--expose-gc' },
      timeoutMs: 60_000,
    }));
    const { api } = packed;
    const pid = nodeRed.pid;
    if (pid === undefined) throw new Error('the Node-RED child has no pid');
    const from = nodeRed.output().length;
    const deployed = await api('/flows', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify({ flows: soakFlow(emulator.apiUrl) }),
    });
    if (deployed.status !== 200) throw new Error(`deploy: ${deployed.status} ${deployed.text()}`);
    await nodeRed.waitFor(/Started flows/, { from, failOn: /missing-types|Failed to start/, timeoutMs: 30_000 });

    const image = (await gradientPng(WIDTH, HEIGHT)).toString('base64');
    const mask = (await rectangleMask(WIDTH, HEIGHT, { left: 8, top: 8, width: 16, height: 12 })).toString('base64');
    const jobs: Job[] = [];

    const runJob = async (index: number): Promise<void> => {
      const prompt = promptOf(index);
      const job: Job = { index, prompt, start: Date.now(), end: 0, outcome: '', message: '' };
      jobs[index] = job;
      try {
        const answer = await api('/soak', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ image, mask, prompt }),
          timeoutMs: (JOB_TIMEOUT_S + 60) * 1000,
        });
        job.end = Date.now();
        if (answer.status === 200) {
          job.outcome = 'ok';
          const meta = await sharp(answer.body)
            .metadata()
            .catch(() => undefined);
          if (meta?.format !== 'png' || meta.width !== WIDTH || meta.height !== HEIGHT) {
            job.problem = `not a ${WIDTH}x${HEIGHT} PNG: ${meta ? `${meta.format} ${meta.width}x${meta.height}` : 'undecodable'}`;
          }
        } else if (answer.status === 500) {
          const error = answer.json() as { code?: unknown; message?: unknown };
          job.outcome = String(error.code);
          job.message = typeof error.message === 'string' ? error.message : '';
          if (!(ERROR_CODES as readonly string[]).includes(job.outcome)) job.problem = `unknown code ${job.outcome}`;
          else if (job.message.trim() === '') job.problem = 'an error without a message';
        } else {
          job.outcome = `HTTP ${answer.status}`;
          job.problem = `answered ${answer.status}: ${answer.text().slice(0, 200)}`;
        }
      } catch (error) {
        job.end = Date.now();
        job.outcome = 'no answer';
        job.problem = (error as Error).message;
      }
    };

    let next = 0;
    const runUntil = async (limit: number): Promise<void> => {
      const worker = async () => {
        while (next < limit && Date.now() - began < DEADLINE_MS) {
          const index = next;
          next += 1;
          await runJob(index);
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    };
    const progress = setInterval(() => {
      const done = jobs.filter((job) => job?.end > 0).length;
      console.log(
        `soak: ${done}/${JOBS} jobs done, ${emulator.faults.length} faults applied, ` +
          `Node-RED RSS ${(rssKiB(pid) / 1024).toFixed(1)} MiB`,
      );
    }, 10_000);
    progress.unref();

    // Job 0 alone: its submit's Content-Length is the base from which every job's is told apart.
    const runStart = Date.now();
    await runUntil(1);
    await runUntil(WARMUP);
    const rssWarm = await retainedRss(pid, api);
    await runUntil(JOBS);
    const runMs = Date.now() - runStart;
    clearInterval(progress);
    const rssAfter = await retainedRss(pid, api);
    const alive = await api('/flows').then(
      (answer) => answer.status === 200,
      () => false,
    );

    // ---- attribution: submits by Content-Length, tasks by prompt, faults by task ----
    const submits = emulator.requests.filter(
      (r) => r.origin === 'api' && r.method === 'POST' && r.path === SUBMIT_PATH,
    );
    // Job i's prompt is i characters longer than job 0's, which was submitted first and alone.
    const base = Number(submits[0]?.headers['content-length']);
    const submitsOfJob = new Map<number, RecordedRequest[]>();
    for (const request of submits) {
      const index = Number(request.headers['content-length']) - base;
      submitsOfJob.set(index, [...(submitsOfJob.get(index) ?? []), request]);
    }
    const faultsOfJob = new Map<number, AppliedFault[]>();
    for (const fault of emulator.faults) {
      const index = fault.taskId ? jobOfTask.get(fault.taskId) : undefined;
      if (index !== undefined) faultsOfJob.set(index, [...(faultsOfJob.get(index) ?? []), fault]);
    }
    // A submit's fault that created no task is on its request record.
    for (const [index, requests] of submitsOfJob) {
      for (const request of requests) {
        if (!request.fault) continue;
        const own = faultsOfJob.get(index) ?? [];
        if (own.some((f) => f.target === 'submit' && Math.abs(f.at - request.at) < 60_000 && f.fault === request.fault))
          continue;
        const kind = request.fault.split(':')[1]!.split('=')[0] as AppliedFault['kind'];
        own.push({ fault: request.fault, target: 'submit', kind, source: 'rate', taskId: null, at: request.at });
        faultsOfJob.set(index, own);
      }
    }

    let duplicates = 0;
    const duplicateJobs: string[] = [];
    for (const job of jobs) {
      if (!job) continue;
      const requests = submitsOfJob.get(job.index) ?? [];
      // A submit may follow another of the same job only when that one was refused with a 429.
      const resent = requests.slice(1).filter((_request, k) => requests[k]!.status !== 429);
      const tasks = tasksOfJob.get(job.index) ?? [];
      if (resent.length > 0 || tasks.length > 1) {
        duplicates += Math.max(resent.length, tasks.length - 1);
        duplicateJobs.push(
          `job ${job.index}: submits ${requests.map((r) => `${r.status}${r.fault ? `(${r.fault})` : ''}`).join(', ')}; tasks ${tasks.length}`,
        );
      }
      if (job.outcome === 'ok' || job.problem) continue;
      const allowed = new Set<string>();
      for (const fault of faultsOfJob.get(job.index) ?? []) {
        for (const code of EXPLAINS[`${fault.target}:${fault.kind}`] ?? []) allowed.add(code);
      }
      for (const fault of emulator.faults) {
        if (fault.at >= job.start - 1_000 && fault.at <= job.end)
          for (const code of explainsOthers(fault)) allowed.add(code);
      }
      if (!allowed.has(job.outcome)) {
        const met = (faultsOfJob.get(job.index) ?? []).map((f) => f.fault).join(', ') || 'no fault';
        const sent = (submitsOfJob.get(job.index) ?? []).map((r) => `${r.status}${r.fault ? ` ${r.fault}` : ''}`);
        job.problem =
          `${job.outcome} not explained by what it met (${met}; submits: ${sent.join(', ') || 'none'}; ` +
          `${(tasksOfJob.get(job.index) ?? []).length} tasks): ${job.message}`;
      }
    }

    // ---- Node-RED's log ----
    const output = nodeRed.output();
    const crashes =
      output.match(
        /Uncaught Exception|unhandled ?rejection|UnhandledPromiseRejection|PromiseRejectionHandledWarning/gi,
      ) ?? [];
    const leaks = output.match(/MaxListenersExceededWarning|Close timed out/g) ?? [];

    // ---- figures ----
    const finished = jobs.filter((job) => job && job.end > 0);
    const byOutcome = new Map<string, number>();
    for (const job of finished) byOutcome.set(job.outcome, (byOutcome.get(job.outcome) ?? 0) + 1);
    const times = finished.map((job) => job.end - job.start);
    const okTimes = finished.filter((job) => job.outcome === 'ok').map((job) => job.end - job.start);
    const faultKinds = new Map<string, number>();
    for (const fault of emulator.faults) {
      const name = `${fault.target}:${fault.kind}`;
      faultKinds.set(name, (faultKinds.get(name) ?? 0) + 1);
    }
    const ratio = rssAfter.after / rssWarm.after;
    const problems = finished.filter((job) => job.problem);
    const rows: Array<[string, string]> = [
      ['jobs', `${finished.length} of ${JOBS} (concurrency ${CONCURRENCY}, maxConcurrent ${MAX_CONCURRENT})`],
      ['ok (PNG ' + `${WIDTH}x${HEIGHT})`, String(byOutcome.get('ok') ?? 0)],
      ...[...byOutcome]
        .filter(([outcome]) => outcome !== 'ok')
        .sort((a, b) => b[1] - a[1])
        .map(([outcome, count]): [string, string] => [`  ${outcome}`, String(count)]),
      ['unacceptable outcomes', String(problems.length)],
      ['requests to the emulator', String(emulator.requests.length)],
      [
        'faults applied',
        `${emulator.faults.length} (rate ${FAULT_RATE}, seed ${emulator.faultSeed}, ${faultKinds.size} kinds)`,
      ],
      ['submits', `${submits.length} (${submits.filter((r) => r.status === 429).length} answered 429)`],
      ['tasks created', String(jobOfTask.size)],
      ['duplicate submits', String(duplicates)],
      ['job time p50 / p95 (all)', `${percentile(times, 50)} / ${percentile(times, 95)} ms`],
      ['job time p50 / p95 (ok)', `${percentile(okTimes, 50)} / ${percentile(okTimes, 95)} ms`],
      ['RSS after warm-up', `${mib(rssWarm.after)} (after ${WARMUP} jobs; ${mib(rssWarm.before)} before the GC)`],
      ['RSS after the run', `${mib(rssAfter.after)} (${mib(rssAfter.before)} before the GC)`],
      ['RSS ratio', ratio.toFixed(3)],
      ['uncaught / unhandled in log', String(crashes.length)],
      ['listener or close warnings', String(leaks.length)],
      ['Node-RED still running', alive ? 'yes' : 'NO'],
      ['run time (jobs)', `${(runMs / 1000).toFixed(1)} s`],
      ['run time (all, with build)', `${((Date.now() - began) / 1000).toFixed(1)} s`],
    ];
    const width = Math.max(...rows.map(([name]) => name.length));
    console.log('\nsoak figures');
    for (const [name, value] of rows) console.log(`  ${name.padEnd(width)}  ${value}`);
    console.log('\nfaults by kind');
    for (const [name, count] of [...faultKinds].sort((a, b) => b[1] - a[1]))
      console.log(`  ${name.padEnd(26)}  ${count}`);

    const failures: string[] = [];
    if (finished.length !== JOBS) failures.push(`${JOBS - finished.length} jobs never ran (deadline)`);
    if (problems.length > 0) {
      failures.push(`${problems.length} jobs ended wrongly:`);
      for (const job of problems.slice(0, 20)) failures.push(`  job ${job.index}: ${job.problem}`);
    }
    if (duplicates > 0)
      failures.push(`${duplicates} duplicate submits:`, ...duplicateJobs.slice(0, 20).map((d) => `  ${d}`));
    if (crashes.length > 0) failures.push(`Node-RED printed: ${[...new Set(crashes)].join(', ')}`);
    if (leaks.length > 0) failures.push(`Node-RED printed: ${[...new Set(leaks)].join(', ')}`);
    if (!alive) failures.push('Node-RED stopped answering');
    if (ratio > 1.1) failures.push(`RSS grew ${((ratio - 1) * 100).toFixed(1)}% after the warm-up (limit 10%)`);
    if (failures.length > 0) {
      console.log(`\nsoak FAILED\n${failures.join('\n')}`);
      if (crashes.length > 0 || problems.some((job) => job.outcome === 'no answer')) {
        console.log(`--- Node-RED output (last 8000 characters) ---\n${output.slice(-8000)}`);
      }
      process.exitCode = 1;
    } else {
      console.log('\nsoak passed');
    }
  } finally {
    await restarted?.stop();
    await packed?.stop();
    await emulator.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
