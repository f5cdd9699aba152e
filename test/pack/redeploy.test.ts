/**
 * Redeploys in every phase of a job, in the package as users install it: a real Node-RED (the packed-package
 * harness) gets a deploy while a message waits in the queue, while its submit is on the wire, and while its
 * result is being downloaded, and when its flow is disabled. The emulator runs in this process over real HTTP,
 * so every submit is counted; the direct route's http request waits for its answer, as users' flows do.
 */
import { strict as assert } from 'node:assert';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SUBMIT_PATH, type BflEmulator } from '../../lib/emulator';
import { gradientPng, rectangleMask, startEmulator } from '../support/emulator';
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
import { startPackedNodeRed, type Api, type PackedNodeRed } from './packed-node-red';

describe('packed package in a real Node-RED: a redeploy in every phase of a job', function () {
  let packed: PackedNodeRed | undefined;
  let api: Api;
  let emulator: BflEmulator;
  let collector: Collector;
  let body: string;

  before(async function () {
    this.timeout(300_000);
    emulator = await startEmulator();
    collector = await startCollector();
    const image = await gradientPng(48, 32);
    const mask = await rectangleMask(48, 32, { left: 8, top: 8, width: 16, height: 12 });
    body = JSON.stringify({ image: image.toString('base64'), mask: mask.toString('base64') });
    packed = await startPackedNodeRed({ settings: { bflConfigPollInterval: 50 } });
    api = packed.api;
    await deploy(api, packed.nodeRed, flow());
  });

  after(async function () {
    this.timeout(60_000);
    await packed?.stop();
    await emulator?.close();
    collector?.close();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed' && packed) {
      console.log(`--- Node-RED output ---\n${packed.nodeRed.output()}\n--- end of Node-RED output ---`);
    }
  });

  /** One task at a time, so a second message waits in the node's queue. */
  const flow = (options: { prompt?: string; disabled?: boolean } = {}) =>
    durableFlow(emulator.apiUrl, collector.url, { maxConcurrent: 1, ...options });
  const submits = () => emulator.requests.filter((r) => r.method === 'POST' && r.path === SUBMIT_PATH).length;
  let answered = false;
  const direct = () => {
    answered = false;
    return api('/direct', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body,
      timeoutMs: 60_000,
    }).finally(() => {
      answered = true;
    });
  };
  const journalOf = (nodeId: string) =>
    readdirSync(join(packed!.userDir, 'bfl', CONFIG, 'jobs')).filter((file) => file.startsWith(nodeId));
  const promptsSince = (count: number) => [...emulator.tasks.values()].slice(count).map((task) => task.prompt);

  it('keeps the submitted job and runs the queued message with the new settings', async function () {
    this.timeout(90_000);
    const tasks = emulator.tasks.size;
    const before = submits();
    emulator.nextTask({ processingMs: 5_000 });
    const first = direct();
    await emulator.waitForTask((task) => task.status === 'Pending');
    const from = collector.statuses.length;
    const second = direct();
    // One job polling and one waiting for the only task slot.
    await collector.status((status) => status.source.id === DIRECT_FILL && status.text === '2 active', from);

    await deploy(api, packed!.nodeRed, flow({ prompt: 'a quiet porch at night' }), 'nodes');
    const afterDeploy = collector.statuses.length;

    const [firstAnswer, secondAnswer] = await Promise.all([first, second]);
    assert.equal(firstAnswer.status, 200, firstAnswer.text());
    assert.equal(secondAnswer.status, 200, secondAnswer.text());
    assert.equal(submits() - before, 2, 'one submit for each message');
    assert.deepEqual(promptsSince(tasks), ['a quiet porch', 'a quiet porch at night']);
    // The new node shows the job it took over, then its result.
    await collector.status((status) => status.source.id === DIRECT_FILL && status.fill === 'green', afterDeploy);
    assert.deepEqual(journalOf(DIRECT_FILL), []);
  });

  it('keeps a job whose submit was on the wire during a full deploy, with exactly one submit', async function () {
    this.timeout(90_000);
    const before = submits();
    const tasks = emulator.tasks.size;
    // The submit creates its task at once and answers 2.5 s later: the deploy falls in between.
    const slow = 'a porch [emulate:fault=submit:delay=2500]';
    await deploy(api, packed!.nodeRed, flow({ prompt: slow }), 'nodes');
    const answer = direct();
    await emulator.waitForTask(() => emulator.tasks.size > tasks);
    assert.equal(
      emulator.faults.some((fault) => fault.fault === 'submit:delay=2500'),
      true,
      'the submit was not delayed',
    );
    // A full deploy: every node stops and starts again.
    await deploy(api, packed!.nodeRed, flow({ prompt: 'a porch in the rain' }), 'full');
    assert.equal(answered, false, 'the submit was answered before the deploy');
    const result = await answer;
    assert.equal(result.status, 200, result.text());
    assert.equal(submits() - before, 1);
    assert.deepEqual(promptsSince(tasks), ['a porch [emulate:fault=submit:delay=2500]']);
    assert.deepEqual(journalOf(DIRECT_FILL), []);
  });

  it('keeps a job whose result was being downloaded during a modified-flows deploy', async function () {
    this.timeout(90_000);
    const before = submits();
    emulator.nextTask({ processingMs: 100 });
    emulator.injectFault('download:delay=2500');
    const answer = direct();
    const downloading = new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (emulator.faults.some((fault) => fault.fault === 'download:delay=2500')) {
          clearInterval(check);
          resolve();
        }
      }, 20);
    });
    await downloading;
    // A modified-flows deploy: every node of the changed tab stops and starts again.
    await deploy(api, packed!.nodeRed, flow({ prompt: 'a porch at dawn' }), 'flows');
    assert.equal(answered, false, 'the download was over before the deploy');
    const result = await answer;
    assert.equal(result.status, 200, result.text());
    assert.equal(result.body.readUInt32BE(16), 48, 'the result is pasted back at the size of the input');
    assert.equal(submits() - before, 1);
    assert.deepEqual(journalOf(DIRECT_FILL), []);
  });

  it('stops the jobs of a disabled flow and names the task in the log', async function () {
    this.timeout(60_000);
    emulator.nextTask({ processingMs: 20_000 });
    const nodeRed = packed!.nodeRed;
    const from = nodeRed.output().length;
    const started = await api('/durable', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    assert.equal(started.status, 202);
    const entry = await submittedEntry(join(packed!.userDir, 'bfl', CONFIG, 'jobs'));
    const taskId = (entry.task as { id: string }).id;
    await deploy(api, nodeRed, flow({ disabled: true }), 'flows');
    await nodeRed.waitFor(new RegExp(`Task ${taskId} was stopped because its bfl-fill node was deleted or disabled`), {
      from,
      timeoutMs: 30_000,
    });
    const polls = () => emulator.requests.filter((r) => r.query.includes(taskId)).length;
    const seen = polls();
    // No event marks "no further request": wait several poll intervals (50 ms here) and count.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(polls(), seen, 'the disabled node went on polling');
    assert.deepEqual(journalOf(FILL), []);
  });
});
