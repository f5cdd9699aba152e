import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_KINDS, SAMPLES_PER_KIND, TaskDurations, taskKind } from '../../lib/engine/durations';

const KIND = taskKind('flux-pro-1.0-fill', 1024, 1024);

describe('learned task durations', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bfl-durations-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('tells kinds apart by model and output size, in quarter megapixels', () => {
    assert.equal(taskKind('flux-pro-1.0-fill', 1024, 1024), 'flux-pro-1.0-fill@1MP');
    assert.equal(taskKind('flux-pro-1.0-fill', 2000, 1500), 'flux-pro-1.0-fill@3MP');
    assert.equal(taskKind('flux-pro-1.0-fill', 64, 48), 'flux-pro-1.0-fill@0.25MP');
    assert.notEqual(taskKind('flux-pro-1.0-fill-finetuned', 1024, 1024), KIND);
  });

  it('estimates nothing until three tasks of the kind have finished', () => {
    const durations = new TaskDurations();
    durations.record(KIND, 10_000);
    durations.record(KIND, 10_500);
    assert.equal(durations.window(KIND), undefined);
    durations.record(KIND, 9_500);
    // 9.6 to 10.4 s between the quantiles, widened by two thirds of that on each side for three samples, and
    // reaching 10% either side of the median.
    assert.deepEqual(durations.window(KIND), { earliestMs: 9_000, latestMs: 11_000 });
    assert.equal(durations.window(taskKind('flux-pro-1.0-fill', 4000, 3000)), undefined);
  });

  it('assumes a spread of 10% while the few tasks it knows took alike', () => {
    const durations = new TaskDurations();
    for (const value of [10_000, 10_010, 10_020]) durations.record(KIND, value);
    assert.deepEqual(durations.window(KIND), { earliestMs: 9_009, latestMs: 11_011 });
  });

  it('is moved little by a task that took ten times as long', () => {
    const durations = new TaskDurations();
    for (let i = 0; i < 19; i += 1) durations.record(KIND, 9_000 + i * 100);
    durations.record(KIND, 100_000);
    const window = durations.window(KIND)!;
    assert.ok(window.latestMs < 11_000, `latest ${window.latestMs}`);
  });

  it('keeps the latest samples of each kind and forgets the kinds used least recently', () => {
    const durations = new TaskDurations();
    for (let i = 0; i < SAMPLES_PER_KIND; i += 1) durations.record(KIND, 1_000);
    for (let i = 0; i < SAMPLES_PER_KIND; i += 1) durations.record(KIND, 5_000);
    // All alike: 30% / 24 of the median on each side.
    assert.deepEqual(durations.window(KIND), { earliestMs: 4_938, latestMs: 5_063 });
    for (let k = 0; k < MAX_KINDS; k += 1) for (let i = 0; i < 3; i += 1) durations.record(`other@${k}`, 2_000);
    assert.equal(durations.window(KIND), undefined);
  });

  it('ignores durations that cannot be a task’s', () => {
    const durations = new TaskDurations();
    for (const value of [0, -5, Number.NaN, Number.POSITIVE_INFINITY, 10 * 60 * 60 * 1000])
      durations.record(KIND, value);
    durations.record(KIND, 1_000);
    durations.record(KIND, 1_000);
    assert.equal(durations.window(KIND), undefined);
  });

  it('keeps what it learned across restarts, in durations.json', async () => {
    const file = join(dir, 'durations.json');
    const first = new TaskDurations({ file });
    for (const value of [2_000, 2_100, 2_200]) first.record(KIND, value);
    await first.flush();
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), {
      version: 1,
      kinds: { [KIND]: [2_000, 2_100, 2_200] },
    });
    const second = new TaskDurations({ file });
    assert.deepEqual(second.window(KIND), first.window(KIND));
  });

  it('starts from nothing when the file is corrupt, and writes it anew', async () => {
    const file = join(dir, 'durations.json');
    await writeFile(file, '{"version":1,"kinds":{"a": [1, 2');
    const durations = new TaskDurations({ file });
    assert.equal(durations.window('a'), undefined);
    for (const value of [1_000, 1_000, 1_000]) durations.record(KIND, value);
    await durations.flush();
    assert.deepEqual(new TaskDurations({ file }).window(KIND), { earliestMs: 900, latestMs: 1_100 });
  });
});
