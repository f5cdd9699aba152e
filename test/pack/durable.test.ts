/**
 * Jobs that survive a crash, in the package as users install it: a real Node-RED (the packed-package harness)
 * is killed with SIGKILL while a task it submitted is being polled, started again with the same user directory,
 * and must follow that task to its result and send it on, once, with the message's properties as they were.
 * The emulator runs in this process, so every submit can be counted, and the flow posts what it sends to a
 * collector here, on 127.0.0.1.
 */
import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { readdirSync, readFileSync, watch, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SUBMIT_PATH, type BflEmulator } from '../../lib/emulator';
import { TEST_KEY, gradientPng, rectangleMask, startEmulator } from '../support/emulator';
import { startNodeRedProcess, type NodeRedProcess } from './node-red-process';
import { childEnv, nodeBinary, redJs, startPackedNodeRed, type Api, type PackedNodeRed } from './packed-node-red';

const TAB = 'd0ab1e0000000000';
const CONFIG = 'd0ab1e00000000c0';
const FILL = 'd0ab1e0000000003';
const DIRECT_FILL = 'd0ab1e0000000013';

/** What the flow reports for every message the fill node sends on. */
interface Report {
  resumed: boolean;
  topic: unknown;
  camera: unknown;
  bytes: number;
  width: number;
  hasReq: boolean;
  taskId: string;
}

function durableFlow(apiUrl: string, collector: string, prompt = 'a quiet porch'): Array<Record<string, unknown>> {
  return [
    { id: TAB, type: 'tab', label: 'durable' },
    {
      id: 'd0ab1e0000000001',
      type: 'http in',
      z: TAB,
      url: '/durable',
      method: 'post',
      upload: false,
      swaggerDoc: '',
      wires: [['d0ab1e0000000002', 'd0ab1e0000000006']],
    },
    {
      id: 'd0ab1e0000000002',
      type: 'change',
      z: TAB,
      rules: [
        { t: 'set', p: 'mask', pt: 'msg', to: 'payload.mask', tot: 'msg' },
        { t: 'set', p: 'payload', pt: 'msg', to: 'payload.image', tot: 'msg' },
        { t: 'set', p: 'topic', pt: 'msg', to: 'porch-1', tot: 'str' },
        { t: 'set', p: 'camera', pt: 'msg', to: '{"name":"porch","zone":3}', tot: 'json' },
      ],
      wires: [[FILL]],
    },
    {
      id: FILL,
      type: 'bfl-fill',
      z: TAB,
      config: CONFIG,
      prompt: 'a quiet porch',
      outputFormat: 'png',
      timeout: 120,
      wires: [['d0ab1e0000000004']],
    },
    {
      id: 'd0ab1e0000000004',
      type: 'function',
      z: TAB,
      func: [
        'const png = msg.payload;',
        'msg.payload = { resumed: msg.bfl.resumed === true, topic: msg.topic, camera: msg.camera,',
        '  bytes: png.length, width: png.readUInt32BE(16), hasReq: msg.req !== undefined, taskId: msg.bfl.id };',
        "msg.headers = { 'content-type': 'application/json' };",
        'delete msg.req; delete msg.res;',
        'return msg;',
      ].join('\n'),
      outputs: 1,
      wires: [['d0ab1e0000000005']],
    },
    {
      id: 'd0ab1e0000000005',
      type: 'http request',
      z: TAB,
      method: 'POST',
      ret: 'txt',
      url: collector,
      wires: [],
    },
    // The request that started the job gets an answer at once; its job goes on without it.
    { id: 'd0ab1e0000000006', type: 'http response', z: TAB, statusCode: '202', headers: {}, wires: [] },
    // A route whose request waits for the result, as most flows do: http in -> bfl fill -> http response.
    {
      id: 'd0ab1e0000000011',
      type: 'http in',
      z: TAB,
      url: '/direct',
      method: 'post',
      upload: false,
      swaggerDoc: '',
      wires: [['d0ab1e0000000012']],
    },
    {
      id: 'd0ab1e0000000012',
      type: 'change',
      z: TAB,
      rules: [
        { t: 'set', p: 'mask', pt: 'msg', to: 'payload.mask', tot: 'msg' },
        { t: 'set', p: 'payload', pt: 'msg', to: 'payload.image', tot: 'msg' },
      ],
      wires: [[DIRECT_FILL]],
    },
    {
      id: DIRECT_FILL,
      type: 'bfl-fill',
      z: TAB,
      config: CONFIG,
      prompt,
      outputFormat: 'png',
      timeout: 120,
      wires: [['d0ab1e0000000014']],
    },
    {
      id: 'd0ab1e0000000014',
      type: 'http response',
      z: TAB,
      statusCode: '200',
      headers: { 'content-type': 'image/png' },
      wires: [],
    },
    {
      id: CONFIG,
      type: 'bfl-config',
      name: 'durable',
      region: 'custom',
      baseUrl: apiUrl,
      maxConcurrent: 2,
      credentials: { apiKey: TEST_KEY },
    },
  ];
}

/** Resolves once `dir` holds a journal entry whose task has been submitted (the journal's own files tell). */
async function submittedEntry(dir: string): Promise<Record<string, unknown>> {
  const find = (): Record<string, unknown> | undefined => {
    for (const name of readdirSync(dir).filter((file) => file.endsWith('.job.json'))) {
      try {
        const entry = JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, unknown>;
        if (entry.state === 'submitted') return entry;
      } catch {
        // Being renamed into place: the next event has it whole.
      }
    }
    return undefined;
  };
  // The config node made the directory when it opened the journal; its files' renames are the events.
  const watcher = watch(dir);
  try {
    for (;;) {
      const found = find();
      if (found) return found;
      await once(watcher, 'change');
    }
  } finally {
    watcher.close();
  }
}

describe('packed package in a real Node-RED: jobs that survive a crash', function () {
  let packed: PackedNodeRed | undefined;
  let nodeRed: NodeRedProcess | undefined;
  let restarted: NodeRedProcess | undefined;
  let api: Api;
  let emulator: BflEmulator;
  let collector: Server;
  const reports: Report[] = [];
  let reported: (() => void) | undefined;
  let body: string;
  let collectorUrl: string;

  before(async function () {
    this.timeout(300_000);
    emulator = await startEmulator({ stallMs: 4_000 });
    collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        reports.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Report);
        res.end('ok');
        reported?.();
      });
    });
    collector.listen(0, '127.0.0.1');
    await once(collector, 'listening');
    collectorUrl = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/report`;
    const image = await gradientPng(48, 32);
    const mask = await rectangleMask(48, 32, { left: 8, top: 8, width: 16, height: 12 });
    body = JSON.stringify({ image: image.toString('base64'), mask: mask.toString('base64') });
    packed = await startPackedNodeRed({ settings: { bflConfigPollInterval: 50 } });
    ({ nodeRed, api } = packed);
    const from = nodeRed.output().length;
    const answer = await api('/flows', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify({ flows: durableFlow(emulator.apiUrl, collectorUrl) }),
    });
    assert.equal(answer.status, 200, answer.text());
    await nodeRed.waitFor(/Started flows/, { from, failOn: /missing-types|Failed to start/, timeoutMs: 30_000 });
  });

  after(async function () {
    this.timeout(60_000);
    await restarted?.stop();
    await packed?.stop();
    await emulator?.close();
    collector?.close();
  });

  afterEach(function () {
    const running = restarted ?? nodeRed;
    if (this.currentTest?.state === 'failed' && running) {
      console.log(`--- Node-RED output ---\n${running.output()}\n--- end of Node-RED output ---`);
    }
  });

  const submits = () => emulator.requests.filter((r) => r.method === 'POST' && r.path === SUBMIT_PATH).length;
  const nextReport = () =>
    new Promise<Report>((resolve) => {
      const seen = reports.length;
      reported = () => {
        if (reports.length > seen) resolve(reports[seen]!);
      };
    });
  const journalDir = () => join(packed!.userDir, 'bfl', CONFIG, 'jobs');
  const restart = async () => {
    const { userDir, work } = packed!;
    return startNodeRedProcess({
      redJs,
      node: nodeBinary,
      userDir,
      settingsFile: join(work, 'settings.js'),
      port: Number(new URL(nodeRed!.url).port),
      env: childEnv(),
      timeoutMs: 60_000,
    });
  };

  it('answers the waiting http request from the redeployed node, with exactly one submit', async function () {
    this.timeout(60_000);
    emulator.nextTask({ processingMs: 3_000 });
    const before = submits();
    const answer = api('/direct', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body,
      timeoutMs: 50_000,
    });
    await emulator.waitForTask((task) => task.status === 'Pending');
    const from = nodeRed!.output().length;
    // The fill node changed (a new prompt): Node-RED closes it and starts a new one with the same id.
    const deployed = await api('/flows', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'Node-RED-API-Version': 'v2',
        'Node-RED-Deployment-Type': 'nodes',
      },
      body: JSON.stringify({ flows: durableFlow(emulator.apiUrl, collectorUrl, 'a quiet porch at night') }),
    });
    assert.equal(deployed.status, 200, deployed.text());
    await nodeRed!.waitFor(/Started modified nodes/, { from, timeoutMs: 30_000 });
    const result = await answer;
    assert.equal(result.status, 200, result.text());
    assert.equal(submits() - before, 1);
    assert.deepEqual(
      readdirSync(journalDir()).filter((file) => file.startsWith(DIRECT_FILL)),
      [],
    );
  });

  it('resumes a task polled when Node-RED was killed, and sends its result once, with msg.bfl.resumed', async function () {
    this.timeout(180_000);
    emulator.nextTask({ processingMs: 6_000 });
    const before = submits();
    const started = await api('/durable', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    assert.equal(started.status, 202);
    const entry = await submittedEntry(journalDir());
    assert.equal(JSON.stringify(entry).includes(TEST_KEY), false, 'the journal holds the API key');
    assert.equal(submits() - before, 1);

    await nodeRed!.kill();
    const report = nextReport();
    restarted = await restart();
    const resumed = await report;

    assert.equal(resumed.resumed, true);
    assert.equal(resumed.topic, 'porch-1');
    assert.deepEqual(resumed.camera, { name: 'porch', zone: 3 });
    assert.equal(resumed.hasReq, false);
    assert.equal(resumed.width, 48, 'pasted back into the original, at its size');
    assert.equal(resumed.taskId, (entry.task as { id: string }).id);
    assert.equal(submits() - before, 1, 'the task was submitted again');
    assert.deepEqual(
      readdirSync(journalDir()).filter((file) => file.startsWith(FILL)),
      [],
      'the journal still holds the finished job',
    );
  });

  it('resumes a task whose result was being downloaded when Node-RED was killed', async function () {
    this.timeout(180_000);
    const before = submits();
    emulator.nextTask({ processingMs: 200 });
    // The first download of the result hangs: Node-RED is killed while it waits for the image.
    emulator.injectFault('download:stall');
    // The emulator records each fault it applies; look for the stalled download as it happens.
    const downloading = new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (emulator.faults.some((fault) => fault.kind === 'stall' && fault.target === 'download')) {
          clearInterval(check);
          resolve();
        }
      }, 20);
    });
    const started = await api('/durable', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    assert.equal(started.status, 202);
    await downloading;
    await restarted!.kill();
    const report = nextReport();
    restarted = await restart();
    const resumed = await report;
    assert.equal(resumed.resumed, true);
    assert.equal(resumed.width, 48);
    assert.equal(submits() - before, 1, 'the task was submitted again');
  });

  it('sets a corrupt journal file aside with a warning and starts the flows all the same', async function () {
    this.timeout(120_000);
    await restarted!.stop();
    writeFileSync(join(journalDir(), `${FILL}-torn.job.json`), '{"version":1,"id":"torn","nodeId":');
    restarted = await restart();
    await restarted.waitFor(/could not be read and was set aside/, { timeoutMs: 30_000 });
    assert.deepEqual(
      readdirSync(journalDir()).filter((file) => file.includes('torn')),
      [],
    );
    const started = await api('/durable', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    assert.equal(started.status, 202);
  });

  it('stops the jobs of a deleted node and names the task in the log', async function () {
    this.timeout(60_000);
    emulator.nextTask({ processingMs: 20_000 });
    const from = restarted!.output().length;
    void api('/durable', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body }).catch(
      () => undefined,
    );
    const entry = await submittedEntry(journalDir());
    const taskId = (entry.task as { id: string }).id;
    const flows = durableFlow(emulator.apiUrl, collectorUrl).filter((node) => node.id !== FILL);
    const deployed = await api('/flows', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'Node-RED-API-Version': 'v2',
        'Node-RED-Deployment-Type': 'nodes',
      },
      body: JSON.stringify({ flows }),
    });
    assert.equal(deployed.status, 200, deployed.text());
    await restarted!.waitFor(new RegExp(`Task ${taskId} was stopped because its bfl-fill node was deleted`), {
      from,
      timeoutMs: 30_000,
    });
    const polls = () => emulator.requests.filter((r) => r.query.includes(taskId)).length;
    const seen = polls();
    // No event marks "no further request": wait several poll intervals (50 ms here) and count.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(polls(), seen, 'the deleted node went on polling');
    assert.deepEqual(
      readdirSync(journalDir()).filter((file) => file.startsWith(FILL)),
      [],
    );
  });

  it('never sends a finished job again after a later restart', async function () {
    this.timeout(120_000);
    const seen = reports.length;
    const before = submits();
    await restarted!.stop();
    restarted = await restart();
    assert.deepEqual(readdirSync(journalDir()), []);
    assert.equal(reports.length, seen);
    assert.equal(submits(), before);
  });
});
