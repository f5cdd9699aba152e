/**
 * Jobs that survive a crash, in the package as users install it: a real Node-RED (the packed-package harness)
 * is killed with SIGKILL while a task it submitted is being polled, started again with the same user directory,
 * and must follow that task to its result and send it on, once, with the message's properties as they were.
 * The emulator runs in this process, so every submit can be counted, and the flow posts what it sends to a
 * collector here, on 127.0.0.1.
 */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SUBMIT_PATH, type BflEmulator } from '../../lib/emulator';
import { TEST_KEY, gradientPng, rectangleMask, startEmulator } from '../support/emulator';
import {
  CONFIG,
  DIRECT_FILL,
  FILL,
  deploy,
  durableFlow,
  startCollector,
  submittedEntry,
  type Collector,
} from './durable-flow';
import { startNodeRedProcess, type NodeRedProcess } from './node-red-process';
import { childEnv, nodeBinary, redJs, startPackedNodeRed, type Api, type PackedNodeRed } from './packed-node-red';

describe('packed package in a real Node-RED: jobs that survive a crash', function () {
  let packed: PackedNodeRed | undefined;
  let nodeRed: NodeRedProcess | undefined;
  let restarted: NodeRedProcess | undefined;
  let api: Api;
  let emulator: BflEmulator;
  let collector: Collector;
  let body: string;

  before(async function () {
    this.timeout(300_000);
    emulator = await startEmulator({ stallMs: 4_000 });
    collector = await startCollector();
    const image = await gradientPng(48, 32);
    const mask = await rectangleMask(48, 32, { left: 8, top: 8, width: 16, height: 12 });
    body = JSON.stringify({ image: image.toString('base64'), mask: mask.toString('base64') });
    packed = await startPackedNodeRed({ settings: { bflConfigPollInterval: 50 } });
    ({ nodeRed, api } = packed);
    await deploy(api, nodeRed, durableFlow(emulator.apiUrl, collector.url));
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
  const nextReport = () => collector.nextReport();
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
    // The fill node changed (a new prompt): Node-RED closes it and starts a new one with the same id.
    await deploy(
      api,
      nodeRed!,
      durableFlow(emulator.apiUrl, collector.url, { prompt: 'a quiet porch at night' }),
      'nodes',
    );
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
    const flows = durableFlow(emulator.apiUrl, collector.url).filter((node) => node.id !== FILL);
    await deploy(api, restarted!, flows, 'nodes');
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

  it('resumes without paste-back, and says so, a job that started while the journal was over its cap', async function () {
    this.timeout(180_000);
    await restarted!.stop();
    const settingsFile = join(packed!.work, 'settings.js');
    const settings = readFileSync(settingsFile, 'utf8');
    // A cap below one input image: the journal keeps the job, but not the image to paste it back into.
    writeFileSync(
      settingsFile,
      settings.replace('module.exports = {', 'module.exports = {\n  "bflConfigJournalCapMB": 0.00005,'),
    );
    try {
      restarted = await restart();
      // The previous test deleted the node; bring it back.
      await deploy(api, restarted, durableFlow(emulator.apiUrl, collector.url));
      emulator.nextTask({ processingMs: 6_000 });
      const before = submits();
      const started = await api('/durable', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
      assert.equal(started.status, 202);
      const entry = await submittedEntry(journalDir());
      assert.equal(entry.overCap, true, 'the journal says it kept no image');
      assert.equal(
        readdirSync(journalDir()).some((file) => !file.endsWith('.job.json')),
        false,
        'the journal kept the image all the same',
      );
      await restarted.kill();
      const report = nextReport();
      restarted = await restart();
      await restarted.waitFor(/resumed without paste-back/, { timeoutMs: 60_000 });
      const resumed = await report;
      assert.equal(resumed.resumed, true);
      assert.equal(resumed.taskId, (entry.task as { id: string }).id);
      assert.ok(resumed.bytes > 0);
      assert.equal(submits() - before, 1);
    } finally {
      writeFileSync(settingsFile, settings);
    }
  });

  it('never sends a finished job again after a later restart', async function () {
    this.timeout(120_000);
    const seen = collector.reports.length;
    const before = submits();
    await restarted!.stop();
    restarted = await restart();
    assert.deepEqual(readdirSync(journalDir()), []);
    assert.equal(collector.reports.length, seen);
    assert.equal(submits(), before);
  });
});
