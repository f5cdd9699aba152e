import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BflEmulator } from '../../lib/emulator';
import { Account } from '../../lib/engine/account';
import { TaskDurations, taskKind } from '../../lib/engine/durations';
import type { FillService } from '../../lib/engine/service';
import { resolveImageOptions } from '../../lib/fields';
import { planInputs, type PreparedImages } from '../../lib/image';
import { FILL_PARAMETERS, TEST_KEY, fastService, gradientPng, rectangleMask, startEmulator } from '../support/emulator';

const KIND = taskKind('flux-pro-1.0-fill', 64, 48);

describe('polling that adapts to the account’s tasks', function () {
  let emulator: BflEmulator;
  let images: PreparedImages;
  let dir: string;

  before(async () => {
    emulator = await startEmulator({ processingMs: 1_500 });
    const planned = await planInputs(
      await gradientPng(64, 48),
      await rectangleMask(64, 48, { left: 8, top: 8, width: 16, height: 16 }),
      resolveImageOptions(),
    );
    images = planned.images;
  });
  beforeEach(async () => {
    emulator.reset();
    dir = await mkdtemp(join(tmpdir(), 'bfl-adaptive-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));
  after(() => emulator.close());

  const run = (service: FillService) =>
    service.run({ parameters: FILL_PARAMETERS, images, timeoutMs: 20_000 }, new AbortController().signal);
  const pollsOf = (taskId: string) =>
    emulator.requests.filter((r) => r.origin === 'cluster' && r.query.includes(taskId)).length;

  it('polls a task only around its expected finish once it has learned how long such tasks take', async function () {
    this.timeout(30_000);
    const durations = new TaskDurations();
    // The first-task schedule: 0.5 s, growing; a task of 1.5 s is polled at 0.5, 1.0, 1.6 s at least.
    const service = fastService(emulator, { durations, pollSchedule: {} });
    try {
      const first = await run(service);
      await run(service);
      await run(service);
      assert.ok(durations.window(KIND), 'nothing learned from three tasks');
      const fourth = await run(service);
      const firstPollAfter = (taskId: string) => {
        const task = emulator.tasks.get(taskId)!;
        const poll = emulator.requests.find((r) => r.origin === 'cluster' && r.query.includes(taskId))!;
        return poll.at - task.submittedAt;
      };
      assert.ok(
        firstPollAfter(first.metadata.id) < 1_000,
        `first task first polled after ${firstPollAfter(first.metadata.id)} ms`,
      );
      // Nothing can be ready before about 1.5 s: the fourth is not asked before 80% of that.
      assert.ok(
        firstPollAfter(fourth.metadata.id) >= 1_200,
        `fourth task first polled after ${firstPollAfter(fourth.metadata.id)} ms`,
      );
      assert.ok(pollsOf(fourth.metadata.id) <= pollsOf(first.metadata.id));
    } finally {
      await service.close();
    }
  });

  it('keeps what an account learned in its state directory, for the next start', async function () {
    this.timeout(30_000);
    const stateDir = join(dir, 'cfg');
    const settings = { region: 'custom', baseUrl: emulator.apiUrl, apiKey: TEST_KEY, maxConcurrent: 3 };
    const tuning = { stateDir, pollSchedule: { initialMs: 100 } };
    const first = new Account(settings, tuning);
    const service = await first.service();
    await Promise.all([run(service), run(service), run(service)]);
    await first.close();
    const kept = JSON.parse(await readFile(join(stateDir, 'durations.json'), 'utf8')) as {
      kinds: Record<string, number[]>;
    };
    assert.equal(kept.kinds[KIND]?.length, 3);
    // From the submit's answer, which comes a moment after BFL's clock for the task starts.
    for (const ms of kept.kinds[KIND]!) assert.ok(ms >= 1_400 && ms < 3_000, `learned ${ms} ms for a 1.5 s task`);
    const second = new Account(settings, tuning);
    try {
      assert.ok(second.durations.window(KIND));
    } finally {
      await second.close();
    }
  });
});
