import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BflEmulator } from '../../lib/emulator';
import type { FillParameters } from '../../lib/api/types';
import type { FillService } from '../../lib/engine/service';
import type { JobPhase } from '../../lib/engine/phases';
import type { BflError } from '../../lib/errors';
import { resolveImageOptions } from '../../lib/fields';
import { planInputs, type PreparedImages } from '../../lib/image';
import { BflClient } from '../../lib/api/client';
import { TaskDurations, taskKind } from '../../lib/engine/durations';
import { modelOf } from '../../lib/api/models';
import { emulatorEndpoint } from '../../lib/api/regions';
import { FILL_PARAMETERS, TEST_KEY, fastService, gradientPng, rectangleMask, startEmulator } from '../support/emulator';
import { startWebhookServer, type WebhookServer } from '../support/webhook-server';

const SECRET = 'whsec-engine-test-0123456789abcdef';

describe('fill service with webhooks', function () {
  let emulator: BflEmulator;
  let hooks: WebhookServer;
  let service: FillService;
  let images: PreparedImages;

  before(async () => {
    emulator = await startEmulator();
    hooks = await startWebhookServer(SECRET);
    const planned = await planInputs(
      await gradientPng(48, 32),
      await rectangleMask(48, 32, { left: 4, top: 4, width: 8, height: 8 }),
      resolveImageOptions(),
    );
    images = planned.images;
  });
  beforeEach(() => {
    emulator.reset();
    // Long enough that no poll is sent on the normal path, short enough for the dropped-webhook tests.
    service = fastService(emulator, { webhooks: hooks.receiver, webhookFallbackMs: 300 });
  });
  afterEach(() => service.close());
  after(async () => {
    await emulator.close();
    await hooks.close();
  });

  const polls = () => emulator.requests.filter((r) => r.path === '/v1/get_result').length;
  const run = (parameters: Partial<FillParameters> = {}, timeoutMs = 10_000, onPhase?: (phase: JobPhase) => void) =>
    service.run(
      { parameters: { ...FILL_PARAMETERS, ...parameters }, images, timeoutMs },
      new AbortController().signal,
      onPhase,
    );
  const failure = async (promise: Promise<unknown>): Promise<BflError> => {
    try {
      await promise;
    } catch (error) {
      return error as BflError;
    }
    assert.fail('the job succeeded');
  };

  it('asks for a webhook with its own URL and the secret, and finishes on it without a single poll', async () => {
    const answered = emulator.waitForWebhook();
    const result = await run();
    await answered;
    assert.equal(polls(), 0);
    const task = [...emulator.tasks.values()][0]!;
    assert.equal(result.metadata.id, task.id);
    assert.match(String(task.body.webhook_url), new RegExp(`^${hooks.url}/[0-9a-f]{32}$`));
    assert.equal(task.body.webhook_secret, '<secret>', 'the emulator keeps no copy of the secret in sight');
    assert.deepEqual(
      emulator.webhooks.map((w) => [w.taskId, w.answer]),
      [[task.id, 200]],
    );
    assert.equal(hooks.receiver.size, 0, 'the job no longer waits');
  });

  it('polls after the fallback wait when the webhook is lost, and still gets the result', async () => {
    const phases: JobPhase[] = [];
    const result = await run({ prompt: 'a red ball [emulate:webhook=drop]' }, 10_000, (phase) => phases.push(phase));
    // First it waits for the webhook, then it polls.
    const waits = phases.filter((p) => p.phase === 'polling').map((p) => ('webhook' in p && p.webhook) === true);
    assert.deepEqual(waits, [true, false]);
    assert.equal(emulator.webhooks.length, 0);
    assert.ok(polls() >= 1);
    assert.equal(result.metadata.id, [...emulator.tasks.values()][0]!.id);
  });

  it('learns how long its tasks take from their webhooks, once per task, as it does from polls', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bfl-webhook-durations-'));
    const file = join(dir, 'durations.json');
    const durations = new TaskDurations({ file });
    const kind = taskKind(modelOf(FILL_PARAMETERS.model).id, images.width!, images.height!);
    // Without a fixed fallback: a webhook lost later is waited for until the learned finish plus the margin.
    const learning = fastService(emulator, { webhooks: hooks.receiver, durations });
    const polledAfterLoss = fastService(emulator, { webhooks: hooks.receiver, durations, webhookFallbackMs: 300 });
    const runOn = (on: FillService, prompt: string) =>
      on.run({ parameters: { ...FILL_PARAMETERS, prompt }, images, timeoutMs: 10_000 }, new AbortController().signal);
    try {
      for (let i = 0; i < 3; i += 1) await runOn(learning, 'a red ball');
      assert.equal(polls(), 0);
      const window = durations.window(kind);
      assert.ok(window, 'nothing learned from three tasks that ended on their webhooks');
      assert.ok(window.latestMs < 2_000, `learned that such tasks end by ${window.latestMs} ms (the emulator: 30 ms)`);
      await runOn(polledAfterLoss, 'a red ball [emulate:webhook=drop]');
      assert.ok(polls() >= 1);
      await durations.flush();
      const kept = JSON.parse(await readFile(file, 'utf8')) as { kinds: Record<string, number[]> };
      assert.equal(kept.kinds[kind]?.length, 4, 'one sample per task, however it ended');
    } finally {
      await Promise.all([learning.close(), polledAfterLoss.close()]);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('takes the legacy payload (task_id, SUCCESS) and ignores the duplicate', async () => {
    let seen = 0;
    const both = emulator.waitForWebhook(() => ++seen === 2);
    await run({ prompt: 'x [emulate:webhook=legacy,duplicate]' });
    assert.equal(polls(), 0);
    await both;
    assert.deepEqual(
      emulator.webhooks.map((w) => [w.style, w.answer]),
      [
        ['legacy', 200],
        ['legacy', 200],
      ],
    );
  });

  it('refuses a forged webhook (wrong secret, foreign result URL) and downloads only the real result', async () => {
    const refused = emulator.waitForWebhook((w) => w.forged);
    const result = await run({ prompt: 'x [emulate:webhook=forge]' });
    assert.ok(result.metadata.sampleUrl.startsWith(emulator.deliveryUrl));
    assert.equal(polls(), 0);
    await refused;
    assert.deepEqual(
      emulator.webhooks.map((w) => [w.forged, w.answer]),
      [
        [true, 401],
        [false, 200],
      ],
    );
  });

  it('ends with the terminal status a webhook announces, as a poll would', async () => {
    const moderated = await failure(run({ prompt: 'x [emulate:request-moderated]' }));
    assert.equal(moderated.code, 'BFL_REQUEST_MODERATED');
    const failed = await failure(run({ prompt: 'x [emulate:error]' }));
    assert.equal(failed.code, 'BFL_TASK_FAILED');
    assert.equal(polls(), 0);
  });

  it('finishes on a late webhook while it already polls', async () => {
    emulator.nextTask({ outcome: 'stuck' });
    let polled: () => void = () => undefined;
    const firstPollAnswered = new Promise<void>((resolve) => (polled = resolve));
    // The job reports its phase at the start of its wait, then after every poll that finds the task in progress.
    let phases = 0;
    const job = run({}, 10_000, (phase) => {
      if (phase.phase === 'polling' && ++phases === 2) polled();
    });
    const task = await emulator.waitForTask();
    await firstPollAnswered;
    // A webhook that arrives late still ends the job, even though the task's polls say nothing yet.
    const token = String(task.body.webhook_url).split('/').pop()!;
    const late = await hooks.post(`/bfl/webhook/cfg/${token}`, readyBody(task.id, emulator), SECRET);
    assert.equal(late.status, 200);
    await assert.rejects(job, (error: BflError) => error.code === 'BFL_DOWNLOAD');
  });

  it('asks a poll for the result when a webhook names a result host the region does not deliver from', async () => {
    emulator.nextTask({ webhook: { drop: true } });
    const job = run({}, 10_000);
    const task = await emulator.waitForTask((t) => t.status === 'Ready');
    const token = String(task.body.webhook_url).split('/').pop()!;
    const foreign = { id: task.id, status: 'Ready', result: { sample: 'http://127.0.0.1:9/elsewhere.png' } };
    assert.equal((await hooks.post(`/bfl/webhook/cfg/${token}`, foreign, SECRET)).status, 200);
    const result = await job;
    assert.ok(result.metadata.sampleUrl.startsWith(emulator.deliveryUrl));
    assert.ok(polls() >= 1);
  });

  it('resumes a task after a restart with one poll at once, making up for the webhook lost meanwhile', async () => {
    // The previous process submitted it and then stopped: its webhook found nobody waiting.
    const client = new BflClient({ endpoint: emulatorEndpoint(emulator), apiKey: TEST_KEY });
    const token = 'ab'.repeat(16);
    try {
      const answered = emulator.waitForWebhook();
      const task = await client.submitFill(FILL_PARAMETERS, images, new AbortController().signal, {
        url: `${hooks.url}/${token}`,
        secret: SECRET,
      });
      await answered;
      assert.equal(emulator.webhooks[0]!.answer, 200, 'answered, and ignored: no job knew the token');
      const result = await service.resume(
        { ...task, webhookToken: token },
        { parameters: FILL_PARAMETERS, submittedAt: Date.now(), timeoutMs: 10_000 },
        new AbortController().signal,
      );
      assert.equal(result.metadata.id, task.id);
      assert.equal(polls(), 1);
    } finally {
      await client.close();
    }
  });

  it('works with the submit answer that has no polling_url, webhook and fallback alike', async () => {
    const webhookAnswers = await startEmulator({ webhookResponse: true });
    const other = fastService(webhookAnswers, { webhooks: hooks.receiver, webhookFallbackMs: 200 });
    try {
      const job = (prompt: string) =>
        other.run(
          { parameters: { ...FILL_PARAMETERS, prompt }, images, timeoutMs: 10_000 },
          new AbortController().signal,
        );
      await job('x');
      assert.equal(webhookAnswers.requests.filter((r) => r.path === '/v1/get_result').length, 0);
      await job('x [emulate:webhook=drop]');
      const polled = webhookAnswers.requests.filter((r) => r.path === '/v1/get_result');
      assert.ok(polled.length >= 1);
      assert.ok(
        polled.every((r) => r.origin === 'api'),
        'the generic get_result of the API origin',
      );
    } finally {
      await other.close();
      await webhookAnswers.close();
    }
  });
});

/** A Ready webhook body whose result URL is on the emulator's delivery host but names no blob. */
function readyBody(id: string, emulator: BflEmulator): Record<string, unknown> {
  return { id, status: 'Ready', result: { sample: `${emulator.deliveryUrl}/results/none_sample.png?sig=x` } };
}
