import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import sharp from 'sharp';
import type { BflEmulator } from '../../lib/emulator';
import type { FillService } from '../../lib/engine/service';
import { localise, type BflError } from '../../lib/errors';
import type { FillParameters } from '../../lib/api/types';
import { resolveImageOptions } from '../../lib/fields';
import { planInputs, type PreparedImages } from '../../lib/image';
import type { JobPhase } from '../../lib/engine/phases';
import { catalogTranslate } from '../../lib/messages';
import { FILL_PARAMETERS, TEST_KEY, fastService, gradientPng, rectangleMask, startEmulator } from '../support/emulator';

const PARAMETERS = FILL_PARAMETERS;

describe('fill service against the emulator', function () {
  let emulator: BflEmulator;
  let service: FillService;
  let images: PreparedImages;

  before(async () => {
    emulator = await startEmulator();
    const planned = await planInputs(
      await gradientPng(64, 48),
      await rectangleMask(64, 48, { left: 8, top: 8, width: 16, height: 16 }),
      resolveImageOptions(),
    );
    images = planned.images;
  });
  beforeEach(() => {
    emulator.reset();
    service = fastService(emulator);
  });
  afterEach(() => service.close());
  after(() => emulator.close());

  const run = (
    parameters: Partial<FillParameters> = {},
    timeoutMs = 10_000,
    signal = new AbortController().signal,
    onPhase?: (p: JobPhase) => void,
  ) => service.run({ parameters: { ...PARAMETERS, ...parameters }, images, timeoutMs }, signal, onPhase);

  it('returns the generated image in the requested format and size, with metadata', async () => {
    const result = await run({ seed: 1234, outputFormat: 'webp' });
    const meta = await sharp(result.image).metadata();
    assert.equal(meta.format, 'webp');
    assert.equal(meta.width, 64);
    assert.equal(meta.height, 48);
    const task = [...emulator.tasks.values()][0]!;
    assert.equal(result.metadata.id, task.id);
    assert.equal(result.metadata.seed, 1234);
    assert.equal(result.metadata.prompt, 'a red ball');
    assert.equal(result.metadata.cost, 5);
    assert.match(result.metadata.sampleUrl, new RegExp(`^${emulator.deliveryUrl}/`));
    assert.ok(result.metadata.duration >= 0);
  });

  it('sends every parameter with the API name and JSON type', async () => {
    await run({
      prompt: 'p',
      steps: 15,
      guidance: 1.5,
      seed: 7,
      outputFormat: 'jpeg',
      safetyTolerance: 6,
      promptUpsampling: true,
    });
    const body = [...emulator.tasks.values()][0]!.body;
    assert.deepEqual(Object.fromEntries(Object.entries(body).filter(([name]) => name !== 'image' && name !== 'mask')), {
      prompt: 'p',
      steps: 15,
      guidance: 1.5,
      seed: 7,
      output_format: 'jpeg',
      safety_tolerance: 6,
      prompt_upsampling: true,
    });
    assert.equal(typeof body.image, 'string');
    assert.equal(typeof body.mask, 'string');
  });

  it('reports the prompt as the API used it after upsampling', async () => {
    const result = await run({ promptUpsampling: true });
    const task = [...emulator.tasks.values()][0]!;
    assert.equal(result.metadata.prompt, task.prompt);
    assert.notEqual(task.prompt, 'a red ball');
  });

  it('polls the polling_url as given, with the key, and downloads without it', async () => {
    await run();
    const submit = emulator.requests.filter((r) => r.origin === 'api');
    const polls = emulator.requests.filter((r) => r.origin === 'cluster');
    const downloads = emulator.requests.filter((r) => r.origin === 'delivery');
    assert.equal(submit.length, 1);
    assert.ok(polls.length >= 1);
    assert.equal(downloads.length, 1);
    assert.ok(submit.every((r) => r.headers['x-key'] === TEST_KEY));
    assert.ok(polls.every((r) => r.headers['x-key'] === TEST_KEY && r.path === '/v1/get_result'));
    assert.ok(
      downloads.every((r) => !('x-key' in r.headers)),
      'the key reached the delivery origin',
    );
  });

  it('keeps polling through unknown in-progress words and reports progress', async () => {
    emulator.nextTask({ inProgressStatus: 'Generating', progress: true, processingMs: 120 });
    const phases: JobPhase[] = [];
    await run({}, 10_000, undefined, (phase) => phases.push(phase));
    assert.ok(phases.some((p) => p.phase === 'polling' && p.progress !== undefined && p.progress > 0));
    assert.deepEqual([...new Set(phases.map((p) => p.phase))], ['queued', 'submitting', 'polling', 'downloading']);
  });

  const terminal: [Parameters<BflEmulator['nextTask']>[0]['outcome'], string][] = [
    ['request-moderated', 'BFL_REQUEST_MODERATED'],
    ['content-moderated', 'BFL_CONTENT_MODERATED'],
    ['error', 'BFL_TASK_FAILED'],
    ['failed', 'BFL_TASK_FAILED'],
    ['not-found', 'BFL_TASK_NOT_FOUND'],
  ];
  for (const [outcome, code] of terminal) {
    it(`ends a task that is ${outcome} with ${code}, naming the task`, async () => {
      emulator.nextTask({ outcome });
      const error = await run().then(
        () => assert.fail('expected a failure'),
        (e: { code: string; message: string; taskId?: string }) => e,
      );
      const task = [...emulator.tasks.values()][0]!;
      assert.equal(error.code, code);
      assert.equal(error.taskId, task.id);
      assert.match(error.message, new RegExp(task.id));
      assert.equal(emulator.requests.filter((r) => r.origin === 'delivery').length, 0);
    });
  }

  it('names moderation reasons and does not charge moderated tasks', async () => {
    emulator.nextTask({ outcome: 'content-moderated', moderationReasons: ['Violence'] });
    await assert.rejects(run(), (e: { message: string; moderationReasons: string[] }) => {
      assert.deepEqual(e.moderationReasons, ['Violence']);
      assert.match(e.message, /Violence/);
      return true;
    });
    assert.equal(emulator.credits(TEST_KEY), 1000);
  });

  it('says BFL_AUTH for a key the API refuses, and never puts the key in the error', async () => {
    await service.close();
    service = fastService(emulator, { apiKey: 'bfl_unknown_key_999' });
    await assert.rejects(run(), (e: BflError) => {
      assert.equal(e.code, 'BFL_AUTH');
      assert.doesNotMatch(e.message, /bfl_unknown_key_999/);
      assert.doesNotMatch(localise(e, catalogTranslate('de')).message, /bfl_unknown_key_999/);
      assert.doesNotMatch(JSON.stringify(e.text), /bfl_unknown_key_999/);
      return true;
    });
  });

  it('says BFL_CREDITS when the account is out of credits', async () => {
    emulator.setCredits(TEST_KEY, 2);
    await assert.rejects(run(), { code: 'BFL_CREDITS' });
    assert.equal(emulator.tasks.size, 0);
  });

  it('says BFL_VALIDATION when the API answers 422', async () => {
    const smallMask = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#ffffff' } })
      .png()
      .toBuffer();
    await assert.rejects(
      service.run(
        { parameters: PARAMETERS, images: { ...images, mask: smallMask }, timeoutMs: 5000 },
        new AbortController().signal,
      ),
      { code: 'BFL_VALIDATION' },
    );
  });

  it('retries a 429 on submit after Retry-After and submits once in the end', async () => {
    emulator.injectFault({ target: 'submit', status: 429, count: 2, retryAfterSeconds: 0 });
    await run();
    assert.equal(emulator.tasks.size, 1);
    assert.equal(emulator.requests.filter((r) => r.origin === 'api' && r.method === 'POST').length, 3);
  });

  it('gives BFL_RATE_LIMITED when 429s do not stop', async () => {
    await service.close();
    service = fastService(emulator, { retry: { baseDelayMs: 1, maxDelayMs: 2, maxRateLimitedAttempts: 3 } });
    emulator.injectFault({ target: 'submit', status: 429, count: 5, retryAfterSeconds: 0 });
    await assert.rejects(run(), { code: 'BFL_RATE_LIMITED' });
    assert.equal(emulator.tasks.size, 0);
  });

  it('never sends a submit again after a 5xx: it may have been billed', async () => {
    emulator.injectFault({ target: 'submit', status: 503 });
    await assert.rejects(run(), { code: 'BFL_SERVER' });
    assert.equal(emulator.requests.filter((r) => r.origin === 'api' && r.method === 'POST').length, 1);
  });

  it('never sends a submit again when the connection drops after sending', async () => {
    emulator.injectFault({ target: 'submit', status: 'drop' });
    await assert.rejects(run(), (e: { code: string; message: string }) => {
      assert.equal(e.code, 'BFL_NETWORK');
      assert.match(e.message, /not sent again/);
      return true;
    });
    assert.equal(emulator.requests.filter((r) => r.origin === 'api' && r.method === 'POST').length, 1);
  });

  it('retries transient 5xx, 429 and dropped polls without a second submit', async () => {
    emulator.injectFault({ target: 'poll', status: 503 });
    emulator.injectFault({ target: 'poll', status: 429, retryAfterSeconds: 0 });
    emulator.injectFault({ target: 'poll', status: 'drop' });
    const result = await run();
    assert.ok(result.image.length > 0);
    assert.equal(emulator.tasks.size, 1);
    assert.equal(emulator.requests.filter((r) => r.origin === 'api' && r.method === 'POST').length, 1);
  });

  it('retries a failing download', async () => {
    emulator.injectFault({ target: 'download', status: 500 });
    const result = await run();
    assert.ok(result.image.length > 0);
    assert.equal(emulator.requests.filter((r) => r.origin === 'delivery').length, 2);
  });

  it('polls again for a fresh link when the result link has expired', async () => {
    emulator.injectFault({ target: 'download', status: 403 });
    const result = await run();
    assert.ok(result.image.length > 0);
    assert.equal(emulator.requests.filter((r) => r.origin === 'delivery').length, 2);
    const polls = emulator.requests.filter((r) => r.origin === 'cluster');
    const firstDownload = emulator.requests.findIndex((r) => r.origin === 'delivery');
    assert.ok(
      emulator.requests.slice(firstDownload).some((r) => polls.includes(r)),
      'no poll after the expired link',
    );
  });

  it('gives BFL_DOWNLOAD when fresh links keep failing', async () => {
    emulator.injectFault({ target: 'download', status: 403, count: 10 });
    await assert.rejects(run(), (e: { code: string; taskId: string }) => {
      assert.equal(e.code, 'BFL_DOWNLOAD');
      assert.equal(e.taskId, [...emulator.tasks.keys()][0]);
      return true;
    });
  });

  it('ends a stuck task with BFL_TIMEOUT, naming the task that may still be billed', async () => {
    emulator.nextTask({ outcome: 'stuck' });
    await assert.rejects(run({}, 150), (e: { code: string; message: string }) => {
      assert.equal(e.code, 'BFL_TIMEOUT');
      assert.match(e.message, new RegExp([...emulator.tasks.keys()][0]!));
      return true;
    });
  });

  it('stops all traffic when cancelled during polling', async () => {
    emulator.nextTask({ outcome: 'stuck' });
    const controller = new AbortController();
    const running = run({}, 10_000, controller.signal);
    await emulator.waitForTask();
    controller.abort();
    await assert.rejects(running, { code: 'BFL_CANCELLED' });
    const seen = emulator.requests.length;
    // Nothing can be awaited for "no more requests": wait several poll intervals and count.
    await delay(100);
    assert.equal(emulator.requests.length, seen);
  });

  it('never has more than maxConcurrent tasks active at BFL', async () => {
    await service.close();
    service = fastService(emulator, { maxConcurrent: 2 });
    await Promise.all(Array.from({ length: 6 }, () => run()));
    const spans = [...emulator.tasks.values()].map((t) => [t.submittedAt, t.completedAt ?? Infinity] as const);
    assert.equal(spans.length, 6);
    const most = Math.max(...spans.map(([start]) => spans.filter(([s, e]) => s <= start && start < e).length));
    assert.ok(most <= 2, `${most} tasks were active at once`);
  });

  it('refuses with BFL_QUEUE_FULL instead of queueing without bound, submitting nothing for it', async () => {
    await service.close();
    service = fastService(emulator, { maxConcurrent: 1, maxQueued: 1 });
    const jobs = [run(), run(), run()];
    const outcomes = await Promise.allSettled(jobs);
    assert.deepEqual(
      outcomes.map((o) => (o.status === 'fulfilled' ? 'ok' : (o.reason as { code: string }).code)),
      ['ok', 'ok', 'BFL_QUEUE_FULL'],
    );
    assert.equal(emulator.tasks.size, 2);
  });

  it('reads the account credits', async () => {
    assert.equal(await service.credits(new AbortController().signal), 1000);
  });
});
