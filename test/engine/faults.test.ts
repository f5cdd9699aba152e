/**
 * Each fault the emulator can inject, run through FillService over HTTP on 127.0.0.1, judged by what a user
 * sees: the error's code and what its message claims, how often the fill was submitted, that a result arrives.
 * The deadlines here are the behaviour under test; everything else waits on events.
 */
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { customEndpoint } from '../../lib/api/regions';
import type { BflEmulator, RecordedRequest } from '../../lib/emulator';
import { fill } from '../../lib/engine/fill';
import type { FillService } from '../../lib/engine/service';
import type { BflError } from '../../lib/errors';
import type { FillParameters } from '../../lib/api/types';
import { resolveImageOptions } from '../../lib/fields';
import { planInputs, type PreparedImages } from '../../lib/image';
import { freePort } from '../api/client-support';
import { FILL_PARAMETERS, TEST_KEY, fastService, gradientPng, rectangleMask, startEmulator } from '../support/emulator';

/** Fewer attempts than any fault below lasts, so a job that gets through did not get through on the budget. */
const RETRY = { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 3, maxRateLimitedAttempts: 3 };
const MAY_BE_BILLED = /may have accepted \(and billed\)/;

describe('fill service through the emulator’s faults', function () {
  let emulator: BflEmulator;
  let service: FillService;
  let images: PreparedImages;
  let image: Buffer;
  let mask: Buffer;

  before(async () => {
    emulator = await startEmulator({ processingMs: 20, restartMs: 300, stallMs: 10_000 });
    image = await gradientPng(64, 48);
    mask = await rectangleMask(64, 48, { left: 8, top: 8, width: 16, height: 16 });
    images = (await planInputs(image, mask, resolveImageOptions())).images;
  });
  beforeEach(() => {
    emulator.reset();
    service = fastService(emulator, { retry: RETRY });
  });
  afterEach(async () => {
    await service.close();
    await emulator.whenListening();
  });
  after(() => emulator.close());

  const run = (timeoutMs = 10_000, signal = new AbortController().signal, parameters: Partial<FillParameters> = {}) =>
    service.run({ parameters: { ...FILL_PARAMETERS, ...parameters }, images, timeoutMs }, signal);
  const failure = (job: Promise<unknown>): Promise<BflError> =>
    job.then(
      () => assert.fail('expected a failure'),
      (error: BflError) => error,
    );
  const requests = (origin: RecordedRequest['origin']) => emulator.requests.filter((r) => r.origin === origin);
  const submits = () => requests('api').filter((r) => r.method === 'POST');
  const onlyTask = () => [...emulator.tasks.keys()][0]!;
  const applied = () => emulator.faults.map((f) => f.fault);
  /** Every row of the image decodes: a header alone (what metadata reads) says nothing of a truncated body. */
  const decodes = async (bytes: Buffer) => {
    const { info } = await sharp(bytes, { failOn: 'truncated' }).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height], [64, 48]);
  };

  describe('a deadline during the submit', () => {
    for (const fault of ['submit:stall', 'submit:stall=body']) {
      it(`${fault}: BFL_TIMEOUT says the task may have been billed, not that nothing was submitted`, async () => {
        emulator.injectFault(fault);
        const error = await failure(run(300));
        assert.equal(error.code, 'BFL_TIMEOUT');
        assert.match(error.message, MAY_BE_BILLED);
        assert.doesNotMatch(error.message, /Nothing was submitted/);
        assert.equal(submits().length, 1);
        assert.equal(emulator.tasks.size, 1, 'the stalled submit created its task');
      });
    }

    it('a cancel during a stalled submit says the task may have been billed', async () => {
      emulator.injectFault('submit:stall');
      const controller = new AbortController();
      const job = run(10_000, controller.signal);
      await emulator.waitForTask();
      controller.abort();
      const error = await failure(job);
      assert.equal(error.code, 'BFL_CANCELLED');
      assert.match(error.message, MAY_BE_BILLED);
    });

    it('says nothing was submitted when the deadline passes while the connection is refused', async () => {
      await service.close();
      const endpoint = customEndpoint(`http://127.0.0.1:${await freePort()}`);
      service = fastService(emulator, { endpoint, retry: { ...RETRY, maxAttempts: 1_000 } });
      const error = await failure(run(200));
      assert.equal(error.code, 'BFL_TIMEOUT');
      assert.match(error.message, /Nothing was submitted/);
    });

    it('says nothing was submitted when the deadline passes waiting out a 429 storm’s Retry-After', async () => {
      emulator.injectFault('submit:rate-limit-storm=60:x3');
      const error = await failure(run(300));
      assert.equal(error.code, 'BFL_TIMEOUT');
      assert.match(error.message, /Nothing was submitted/);
      assert.equal(emulator.tasks.size, 0);
    });
  });

  describe('a task that exists is not given up before the deadline', () => {
    for (const fault of ['poll:restart', 'poll:503:x10', 'poll:rate-limit-storm=0:x10', 'download:restart']) {
      it(`${fault}: the result arrives, submitted once`, async () => {
        emulator.injectFault(fault);
        await decodes((await run()).image);
        assert.equal(submits().length, 1);
        assert.equal(applied()[0]?.split(':')[0], fault.split(':')[0]);
      });
    }

    it('at the deadline, BFL_TIMEOUT names the task and the last failure', async () => {
      emulator.injectFault('poll:503:x10000');
      const error = await failure(run(300));
      assert.equal(error.code, 'BFL_TIMEOUT');
      assert.equal(error.taskId, onlyTask());
      assert.match(error.message, new RegExp(`Task ${onlyTask()} was submitted and may still finish`));
      assert.match(error.message, /HTTP 503/);
    });

    it('poll:restart=forget: BFL_TASK_NOT_FOUND naming the task', async () => {
      emulator.injectFault('poll:restart=forget');
      const error = await failure(run());
      assert.equal(error.code, 'BFL_TASK_NOT_FOUND');
      assert.equal(error.taskId, [...new Set(emulator.faults.map((f) => f.taskId))][0]);
      assert.equal(submits().length, 1);
    });
  });

  describe('a result that is not a whole image', () => {
    it('download:truncated=short is retried and the whole image arrives', async () => {
      emulator.injectFault('download:truncated=short');
      await decodes((await run()).image);
      assert.equal(requests('delivery').length, 2);
    });

    it('an image that never decodes ends in BFL_DOWNLOAD naming the task, before the deadline', async () => {
      emulator.injectFault('download:truncated=short:x10');
      const error = await failure(run());
      assert.equal(error.code, 'BFL_DOWNLOAD');
      assert.equal(error.taskId, onlyTask());
      assert.match(error.message, /incomplete or cannot be decoded/);
      assert.equal(requests('delivery').length, RETRY.maxAttempts);
    });

    it('without paste-back or scaling (the bytes go out as they came), sends only an image that decodes', async () => {
      const outcome = await fill(
        service,
        {
          inputs: { pasteBack: false, outputFormat: 'png', prompt: 'a ball [emulate:fault=download:truncated=short]' },
          fallbacks: {},
          image,
          mask,
        },
        new AbortController().signal,
      );
      assert.equal(outcome.geometry.resampled, false);
      assert.deepEqual(applied(), ['download:truncated=short']);
      await decodes(outcome.image);
    });

    for (const fault of ['download:break', 'download:truncated=length', 'download:reset-after']) {
      it(`${fault} is retried and the result arrives`, async () => {
        emulator.injectFault(fault);
        await decodes((await run()).image);
        assert.deepEqual(applied(), [fault]);
      });
    }
  });

  describe('poll answers', () => {
    it('poll:malformed-json is asked again and the job goes on', async () => {
      emulator.injectFault('poll:malformed-json');
      await decodes((await run()).image);
    });

    it('garbage that does not stop ends in BFL_SERVER naming the task, before the deadline', async () => {
      emulator.injectFault('poll:malformed-json:x50');
      const error = await failure(run());
      assert.equal(error.code, 'BFL_SERVER');
      assert.equal(error.taskId, onlyTask());
      assert.match(
        error.message,
        new RegExp(`task ${onlyTask()}, HTTP 200: the answer was not JSON with a task status`),
      );
      assert.match(error.message, /may still finish \(and be billed\)/);
      assert.equal(requests('cluster').length, RETRY.maxAttempts);
    });

    for (const fault of ['poll:unknown-status:x3', 'poll:unknown-status=Reasoning:x3', 'poll:reset-after']) {
      it(`${fault}: keeps polling and the result arrives`, async () => {
        emulator.injectFault(fault);
        await decodes((await run()).image);
        assert.equal(emulator.faults.length, fault.endsWith(':x3') ? 3 : 1);
      });
    }
  });

  describe('a deadline during the download of a Ready task', () => {
    it('download:stall: BFL_TIMEOUT says the task finished and was billed, and how long its link lasts', async () => {
      emulator.injectFault('download:stall');
      const error = await failure(run(500));
      assert.equal(error.code, 'BFL_TIMEOUT');
      assert.equal(error.taskId, onlyTask());
      assert.match(error.message, new RegExp(`Task ${onlyTask()} finished \\(and was billed\\)`));
      assert.match(error.message, /10 minutes/);
      assert.doesNotMatch(error.message, /may still finish/);
    });

    it('names the last failure when the downloads kept failing', async () => {
      emulator.injectFault('download:503:x10000');
      const error = await failure(run(500));
      assert.equal(error.code, 'BFL_TIMEOUT');
      assert.match(error.message, /finished \(and was billed\).*HTTP 503/);
    });
  });

  describe('expired links', () => {
    for (const fault of ['download:expired', 'download:expired=404']) {
      it(`${fault}: polls again for a fresh link and the result arrives`, async () => {
        emulator.injectFault(fault);
        await decodes((await run()).image);
        const [first, second] = requests('delivery');
        assert.ok(second, 'downloaded again');
        assert.ok(
          requests('cluster').some((poll) => poll.at >= first!.at && poll.at <= second.at),
          'no poll between the expired link and the fresh one',
        );
      });
    }
  });

  describe('submits that may have been billed are never sent again', () => {
    const cases: [string, string, RegExp][] = [
      ['submit:reset-after', 'BFL_NETWORK', MAY_BE_BILLED],
      ['submit:malformed-json', 'BFL_NETWORK', MAY_BE_BILLED],
      ['submit:500-after-create', 'BFL_SERVER', /may have been billed/],
    ];
    for (const [fault, code, claim] of cases) {
      it(`${fault}: ${code}, sent once, the message says it may be billed`, async () => {
        emulator.injectFault(fault);
        const error = await failure(run());
        assert.equal(error.code, code);
        assert.match(error.message, claim);
        assert.match(error.message, /not sent again/);
        assert.equal(submits().length, 1);
        assert.equal(emulator.tasks.size, 1);
      });
    }
  });

  describe('429 storms', () => {
    const gaps = (list: RecordedRequest[]) => list.slice(1).map((r, i) => r.at - list[i]!.at);

    it('submit: waits out each Retry-After, then submits once more and creates one task', async () => {
      emulator.injectFault('submit:rate-limit-storm=0.15:x2');
      await decodes((await run()).image);
      assert.equal(submits().length, 3);
      assert.equal(emulator.tasks.size, 1);
      for (const gap of gaps(submits())) assert.ok(gap >= 140, `sent again after ${gap} ms`);
    });

    it('poll: waits out each Retry-After and the result arrives', async () => {
      emulator.injectFault('poll:rate-limit-storm=0.15:x2');
      await decodes((await run()).image);
      const polls = requests('cluster').slice(0, 3);
      for (const gap of gaps(polls)) assert.ok(gap >= 140, `polled again after ${gap} ms`);
      assert.equal(emulator.credits(TEST_KEY), 995);
    });
  });
});
