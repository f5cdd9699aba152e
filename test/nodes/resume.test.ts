/**
 * A bfl-fill node starting with a journal that a previous Node-RED process left (the files written as that
 * process would have): it resumes the tasks it can, and drops the rest with a warning that names the task and
 * why. The tasks are real ones on the emulator, submitted here over HTTP.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { BflClient } from '../../lib/api/client';
import { emulatorEndpoint } from '../../lib/api/regions';
import type { SubmittedTask } from '../../lib/api/types';
import type { BflEmulator } from '../../lib/emulator';
import { keyFingerprint } from '../../lib/engine/journal';
import { resolveImageOptions } from '../../lib/fields';
import { planInputs } from '../../lib/image';
import { FILL_PARAMETERS, TEST_KEY, gradientPng, rectangleMask, startEmulator } from '../support/emulator';
import { configNode, fillNode, flow, helper, nextOutputs, node, settings, unloadFlows } from './flow';

helper.init(require.resolve('node-red'));

type Msg = Record<string, unknown> & { error?: { code?: string; message: string } };

describe('bfl-fill node: jobs a previous process left in the journal', function () {
  let emulator: BflEmulator;
  let userDir: string;
  let client: BflClient;
  let images: Awaited<ReturnType<typeof planInputs>>['images'];

  before(async () => {
    emulator = await startEmulator();
    client = new BflClient({ endpoint: emulatorEndpoint(emulator), apiKey: TEST_KEY });
    const planned = await planInputs(
      await gradientPng(32, 24),
      await rectangleMask(32, 24, { left: 4, top: 4, width: 8, height: 8 }),
      resolveImageOptions({ pasteBack: false }),
    );
    images = planned.images;
  });
  beforeEach(() => {
    emulator.reset();
    userDir = mkdtempSync(join(tmpdir(), 'bfl-resume-flow-'));
    settings({ userDir, bflConfigPollInterval: 10, bflConfigRetryDelay: 5 });
  });
  afterEach(async () => {
    await unloadFlows();
    settings({});
    rmSync(userDir, { recursive: true, force: true });
  });
  after(async () => {
    await client.close();
    await emulator.close();
  });

  const account = () => ({ region: 'custom', baseUrl: emulator.apiUrl });
  const credentials = { cfg: { apiKey: TEST_KEY } };
  const jobsDir = () => join(userDir, 'bfl', 'cfg', 'jobs');
  const submit = (): Promise<SubmittedTask> =>
    client.submitFill({ ...FILL_PARAMETERS, prompt: 'left behind' }, images, new AbortController().signal);
  /** An entry as the previous process wrote it: its task submitted, no image kept for paste-back. */
  const leave = (nodeId: string, task: SubmittedTask | undefined, key = TEST_KEY) => {
    mkdirSync(jobsDir(), { recursive: true });
    const id = `${nodeId}-${Math.random().toString(16).slice(2)}`;
    writeFileSync(
      join(jobsDir(), `${id}.job.json`),
      JSON.stringify({
        version: 1,
        id,
        nodeId,
        createdAt: Date.now(),
        keyFingerprint: keyFingerprint(key),
        state: task ? 'submitted' : 'submitting',
        task,
        submittedAt: task ? Date.now() : undefined,
        parameters: FILL_PARAMETERS,
        timeoutMs: 30_000,
        msg: { topic: 'porch', camera: { zone: 3 } },
      }),
    );
  };
  const journalFiles = () => (existsSync(jobsDir()) ? readdirSync(jobsDir()) : []);
  /** Resolves with the first message at helper `id`. */
  const first = (id: string) => new Promise<Msg>((resolve) => node(id).on('input', resolve));
  /** Resolves with the first warning of node `id` that contains `part`. */
  const warning = (id: string, part: string) =>
    new Promise<string>((resolve) =>
      node(id).on('call:warn', (call: { args: [unknown] }) => {
        const said = String(call.args[0]);
        if (said.includes(part)) resolve(said);
      }),
    );

  it('counts the tasks of a redeployed config node against the new one’s limit', async () => {
    const image = await gradientPng(32, 24);
    const mask = await rectangleMask(32, 24, { left: 4, top: 4, width: 8, height: 8 });
    const config = { ...account(), maxConcurrent: 1 };
    emulator.nextTask({ processingMs: 2000 });
    await helper.load([configNode, fillNode], flow({ outputFormat: 'png' }, config), credentials);
    node('fill').receive({ payload: image, mask, topic: 'first' });
    await emulator.waitForTask();
    // The config node changed: Node-RED restarts it and the fill node that uses it; the job goes on.
    await helper.setFlows(flow({ outputFormat: 'png' }, { ...config, name: 'renamed' }), 'nodes', credentials);
    const outputs = nextOutputs(2);
    node('fill').receive({ payload: image, mask, topic: 'second' });
    assert.deepEqual((await outputs).map((msg) => msg.topic).sort(), ['first', 'second']);
    const [first, second] = [...emulator.tasks.values()];
    assert.ok(first!.completedAt !== null && second!.submittedAt >= first!.completedAt, 'two tasks ran at once');
  });

  it('resumes a submitted task and sends its result with the kept properties and msg.bfl.resumed', async () => {
    const task = await submit();
    leave('fill', task);
    const load = helper.load([configNode, fillNode], flow({ outputFormat: 'png' }, account()), credentials);
    await load;
    const msg = await first('out');
    assert.equal(msg.topic, 'porch');
    assert.deepEqual(msg.camera, { zone: 3 });
    assert.equal((msg.bfl as { resumed?: boolean; id?: string }).resumed, true);
    assert.equal((msg.bfl as { id?: string }).id, task.id);
    assert.equal((await sharp(msg.payload as Buffer).metadata()).format, 'png');
    assert.equal(emulator.requests.filter((r) => r.method === 'POST').length, 1, 'submitted again');
    assert.deepEqual(journalFiles(), []);
  });

  it('drops a task submitted with another key, naming it', async () => {
    const task = await submit();
    leave('fill', task, 'bfl_some_other_key_0000');
    await helper.load([configNode, fillNode], flow({}, account()), credentials);
    const said = await warning('fill', task.id);
    assert.match(said, /API key .* changed/);
    assert.deepEqual(journalFiles(), []);
  });

  it('warns that a job whose submit was under way may have been billed', async () => {
    leave('fill', undefined);
    await helper.load([configNode, fillNode], flow({}, account()), credentials);
    assert.match(await warning('fill', 'dashboard'), /task id is unknown/);
    assert.deepEqual(journalFiles(), []);
  });

  it('drops a task BFL no longer knows, naming it, and reports it to Catch', async () => {
    leave('fill', {
      id: 'gone-task',
      pollingUrl: `${emulator.clusterUrl}/v1/get_result?id=gone-task`,
      cost: 5,
      inputMp: null,
      outputMp: null,
    });
    await helper.load([configNode, fillNode], flow({}, account()), credentials);
    const [said, error] = await Promise.all([warning('fill', 'gone-task'), first('errors')]);
    assert.match(said, /was not resumed/);
    assert.equal(error.error?.code, 'BFL_TASK_NOT_FOUND');
    assert.equal(error.topic, 'porch');
  });

  it('drops the task of a node that is no longer in the flows, naming it', async () => {
    const task = await submit();
    leave('a-node-that-is-gone', task);
    await helper.load([configNode, fillNode], flow({}, account()), credentials);
    const said = await warning('cfg', task.id);
    assert.match(said, /no longer in the flows/);
    assert.deepEqual(journalFiles(), []);
  });
});
