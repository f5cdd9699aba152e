import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BflEmulator } from '../../lib/emulator';
import { SpendLedger, nextUtcMidnight, spentToday, utcDay } from '../../lib/engine/budget';
import { Account } from '../../lib/engine/account';
import type { FillService } from '../../lib/engine/service';
import { BflError, budgetError, localise } from '../../lib/errors';
import { resolveImageOptions } from '../../lib/fields';
import { planInputs, type PreparedImages } from '../../lib/image';
import { catalogTranslate } from '../../lib/messages';
import { FILL_PARAMETERS, TEST_KEY, fastService, gradientPng, rectangleMask, startEmulator } from '../support/emulator';

const DAY = 24 * 60 * 60 * 1000;
/** 2025-03-14 21:40 UTC: 2 h 20 min before the day ends. */
const EVENING = Date.UTC(2025, 2, 14, 21, 40);

/** A clock the test moves by hand. */
function clock(start = EVENING): { now: () => number; set(time: number): void } {
  let time = start;
  return { now: () => time, set: (to) => (time = to) };
}

function codeOf(error: unknown): string | undefined {
  return error instanceof BflError ? error.code : undefined;
}

describe('daily credit limit: SpendLedger', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bfl-budget-'));
    file = join(dir, 'state', 'spend.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const onDisk = () => JSON.parse(readFileSync(file, 'utf8')) as { day: string; spent: number };

  describe('reserve, settle and release', () => {
    it('counts settled costs and refuses with BFL_BUDGET what would go over the limit', () => {
      const ledger = new SpendLedger({ limit: 12, now: clock().now });
      ledger.reserve(5).settle(5);
      ledger.reserve(5).settle(4);
      assert.deepEqual(ledger.today(), { spent: 9, limit: 12, resetsAt: Date.UTC(2025, 2, 15) });
      assert.throws(() => ledger.reserve(5), { code: 'BFL_BUDGET' });
      ledger.reserve(3).settle(3);
      assert.equal(ledger.today().spent, 12);
      assert.throws(() => ledger.reserve(0.5), { code: 'BFL_BUDGET' });
    });

    it('counts the reservations of submits under way, and gives back what created no task', () => {
      const ledger = new SpendLedger({ limit: 10, now: clock().now });
      const first = ledger.reserve(5);
      const second = ledger.reserve(5);
      assert.equal(ledger.today().spent, 10);
      assert.throws(() => ledger.reserve(5), { code: 'BFL_BUDGET' });
      first.release();
      assert.equal(ledger.today().spent, 5);
      const third = ledger.reserve(5);
      second.settle(5);
      third.settle(5);
      assert.equal(ledger.today().spent, 10);
    });

    it('settles or releases a reservation once only', () => {
      const ledger = new SpendLedger({ now: clock().now });
      const reservation = ledger.reserve(5);
      reservation.settle(5);
      reservation.settle(5);
      reservation.release();
      assert.equal(ledger.today().spent, 5);
      const other = ledger.reserve(5);
      other.release();
      other.release();
      other.settle(5);
      assert.equal(ledger.today().spent, 5);
    });

    it('counts the estimate when the cost is not a usable number', () => {
      const ledger = new SpendLedger({ now: clock().now });
      ledger.reserve(5).settle(Number.NaN);
      ledger.reserve(5).settle(-1);
      assert.equal(ledger.today().spent, 10);
    });

    it('without a limit never refuses, but still counts', () => {
      for (const limit of [undefined, 0]) {
        const ledger = new SpendLedger({ limit, now: clock().now });
        for (let i = 0; i < 1000; i += 1) ledger.reserve(5).settle(5);
        assert.deepEqual(ledger.today(), { spent: 5000, limit: undefined, resetsAt: Date.UTC(2025, 2, 15) });
      }
    });

    it('lets exactly as many concurrent reservations through as the limit allows', async () => {
      const ledger = new SpendLedger({ limit: 20, now: clock().now });
      const outcomes = await Promise.allSettled(
        Array.from({ length: 10 }, async () => {
          await Promise.resolve();
          return ledger.reserve(5);
        }),
      );
      assert.equal(outcomes.filter((outcome) => outcome.status === 'fulfilled').length, 4);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') assert.equal(codeOf(outcome.reason), 'BFL_BUDGET');
      }
    });

    it('keeps sums of fractional credits exact enough to reach the limit', () => {
      const ledger = new SpendLedger({ limit: 0.3 + 1, now: clock().now });
      ledger.reserve(0.1).settle(0.1);
      ledger.reserve(0.2).settle(0.2);
      ledger.reserve(1).settle(1);
      assert.equal(ledger.today().spent, 1.3);
    });
  });

  describe('the UTC day', () => {
    it('starts a new day at 0 at 00:00 UTC', () => {
      const time = clock(Date.UTC(2025, 2, 14, 23, 59, 59, 999));
      const ledger = new SpendLedger({ limit: 10, now: time.now });
      ledger.reserve(5).settle(5);
      ledger.reserve(5).settle(5);
      assert.throws(() => ledger.reserve(5), { code: 'BFL_BUDGET' });
      time.set(Date.UTC(2025, 2, 15));
      assert.deepEqual(ledger.today(), { spent: 0, limit: 10, resetsAt: Date.UTC(2025, 2, 16) });
      ledger.reserve(5).settle(5);
      assert.equal(ledger.today().spent, 5);
    });

    it("counts a reservation on the day it was made: one settled after midnight does not eat the new day's limit", () => {
      const time = clock(Date.UTC(2025, 2, 14, 23, 59, 59));
      const ledger = new SpendLedger({ limit: 10, now: time.now });
      const late = ledger.reserve(5);
      time.set(Date.UTC(2025, 2, 15, 0, 0, 1));
      late.settle(5);
      assert.equal(ledger.today().spent, 0);
      ledger.reserve(10).settle(10);
      assert.equal(ledger.today().spent, 10);
    });

    it('reads a file of an earlier day as nothing spent today', () => {
      writeFileSync(join(dir, 'spend.json'), JSON.stringify({ version: 1, day: utcDay(EVENING - DAY), spent: 99 }));
      const ledger = new SpendLedger({ file: join(dir, 'spend.json'), limit: 100, now: clock().now });
      assert.equal(ledger.today().spent, 0);
      assert.equal(ledger.unreadable, false);
    });

    it('knows when the day ends', () => {
      assert.equal(utcDay(Date.UTC(2024, 1, 29, 12)), '2024-02-29');
      assert.equal(nextUtcMidnight(Date.UTC(2024, 1, 29, 12)), Date.UTC(2024, 2, 1));
      assert.equal(nextUtcMidnight(Date.UTC(2024, 11, 31, 23, 59)), Date.UTC(2025, 0, 1));
      assert.equal(nextUtcMidnight(Date.UTC(2024, 5, 1)), Date.UTC(2024, 5, 2));
    });
  });

  describe('the file', () => {
    it('writes the day and its spend, creating the directory, and reads it back in a new ledger', async () => {
      const time = clock();
      const ledger = new SpendLedger({ file, limit: 100, now: time.now });
      ledger.reserve(5).settle(5);
      ledger.reserve(5).settle(7);
      await ledger.flush();
      assert.deepEqual(onDisk(), { version: 1, day: '2025-03-14', spent: 12 });
      assert.deepEqual(readdirSync(join(dir, 'state')), ['spend.json'], 'a temp file was left behind');

      const next = new SpendLedger({ file, limit: 100, now: time.now });
      assert.equal(next.today().spent, 12);
      assert.equal(next.unreadable, false);
    });

    it('takes the file as it is when no ledger has anything unwritten (e.g. edited, or removed to start over)', async () => {
      const ledger = new SpendLedger({ file, now: clock().now });
      ledger.reserve(5).settle(5);
      await ledger.flush();
      writeFileSync(file, JSON.stringify({ version: 1, day: '2025-03-14', spent: 42 }));
      assert.equal(new SpendLedger({ file, now: clock().now }).today().spent, 42);
      rmSync(file);
      assert.equal(new SpendLedger({ file, now: clock().now }).today().spent, 0);
    });

    it('writes a burst of settles once or twice, not once per settle', async () => {
      const ledger = new SpendLedger({ file, now: clock().now });
      const reservations = Array.from({ length: 50 }, () => ledger.reserve(5));
      await ledger.flush();
      // Every write ends in a rename over the file; the module object itself, as lib/engine/budget.ts calls it.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const fsPromises = require('node:fs/promises') as { rename: typeof import('node:fs/promises').rename };
      const original = fsPromises.rename;
      let writes = 0;
      fsPromises.rename = (async (from, to) => {
        if (String(to) === file) writes += 1;
        return original(from, to);
      }) as typeof fsPromises.rename;
      try {
        for (const reservation of reservations.slice(0, 25)) reservation.settle(4);
        await Promise.resolve();
        for (const reservation of reservations.slice(25)) reservation.settle(4);
        await ledger.flush();
      } finally {
        fsPromises.rename = original;
      }
      assert.ok(writes >= 1 && writes <= 2, `${writes} writes for one burst`);
      assert.equal(onDisk().spent, 200);
    });

    it('keeps the reservations of submits under way on disk, so a crash counts them as spent', async () => {
      const ledger = new SpendLedger({ file, limit: 20, now: clock().now });
      ledger.reserve(5).settle(5);
      ledger.reserve(5);
      await ledger.flush();
      assert.equal(onDisk().spent, 10);
    });

    for (const [name, content] of [
      ['corrupt', 'this is not JSON {'],
      ['truncated', '{"version":1,"day":"2025-03-14","sp'],
      ['empty', ''],
      ['of the wrong shape', '{"day":"yesterday","spent":-5}'],
      ['a list', '[1,2,3]'],
    ] as const) {
      it(`reads a ${name} file as nothing spent today, says it was unreadable, and writes a good one`, async () => {
        writeFileSync(join(dir, 'spend.json'), content);
        const bad = join(dir, 'spend.json');
        let ledger: SpendLedger | undefined;
        assert.doesNotThrow(() => (ledger = new SpendLedger({ file: bad, limit: 10, now: clock().now })));
        assert.equal(ledger!.unreadable, true);
        assert.equal(ledger!.today().spent, 0);
        ledger!.reserve(5).settle(5);
        await ledger!.flush();
        assert.deepEqual(JSON.parse(readFileSync(bad, 'utf8')), { version: 1, day: '2025-03-14', spent: 5 });
      });
    }

    it('reads a missing file as nothing spent today, and not as unreadable', () => {
      const ledger = new SpendLedger({ file, now: clock().now });
      assert.equal(ledger.unreadable, false);
      assert.equal(ledger.today().spent, 0);
      assert.equal(existsSync(file), false, 'created a file without any spend');
    });

    it('never throws when the file cannot be written, keeps counting, and says why', async () => {
      // A file where the directory should be: mkdir -p fails.
      writeFileSync(join(dir, 'blocked'), 'a file');
      const ledger = new SpendLedger({ file: join(dir, 'blocked', 'spend.json'), limit: 10, now: clock().now });
      ledger.reserve(5).settle(5);
      await ledger.flush();
      assert.ok(ledger.writeError instanceof Error);
      assert.equal(ledger.today().spent, 5);
      assert.throws(() => ledger.reserve(10), { code: 'BFL_BUDGET' });
    });
  });

  describe('two ledgers on one file, one after the other (a redeploy, a restart)', () => {
    it('a redeploy: the new ledger sees what the old one settles after it was created, and writes it once', async () => {
      const time = clock();
      const old = new SpendLedger({ file, limit: 20, now: time.now });
      old.reserve(5).settle(5);
      const running = old.reserve(5);
      // The redeploy creates the new account while the old one's job is still submitting.
      const next = new SpendLedger({ file, limit: 20, now: time.now });
      assert.equal(next.today().spent, 10);
      // Their reservations exclude each other: 10 spent or reserved, 10 left.
      next.reserve(5).settle(5);
      assert.throws(() => next.reserve(10), { code: 'BFL_BUDGET' });
      running.settle(5);
      await old.flush();
      await next.flush();
      assert.equal(next.today().spent, 15);
      assert.equal(onDisk().spent, 15);

      // And a restart reads exactly that: nothing lost, nothing doubled.
      const afterRestart = new SpendLedger({ file, limit: 20, now: time.now });
      assert.equal(afterRestart.today().spent, 15);
      assert.throws(() => afterRestart.reserve(10), { code: 'BFL_BUDGET' });
    });

    it('a new limit takes effect on the same count', async () => {
      const old = new SpendLedger({ file, limit: 10, now: clock().now });
      old.reserve(5).settle(5);
      old.reserve(5).settle(5);
      await old.flush();
      assert.throws(() => old.reserve(5), { code: 'BFL_BUDGET' });
      const raised = new SpendLedger({ file, limit: 15, now: clock().now });
      raised.reserve(5).settle(5);
      assert.equal(raised.today().spent, 15);
    });
  });

  describe('spentToday (Check key)', () => {
    it('reads the live count when a ledger of the file is in use, else the file, else 0', async () => {
      const now = EVENING;
      assert.deepEqual(await spentToday(join(dir, 'never', 'spend.json'), now), {
        spent: 0,
        resetsAt: Date.UTC(2025, 2, 15),
      });
      assert.deepEqual(await spentToday(undefined, now), { spent: 0, resetsAt: Date.UTC(2025, 2, 15) });
      const other = join(dir, 'other.json');
      writeFileSync(other, JSON.stringify({ version: 1, day: '2025-03-14', spent: 35 }));
      assert.equal((await spentToday(other, now)).spent, 35);
      assert.equal((await spentToday(other, now + DAY)).spent, 0);

      const ledger = new SpendLedger({ file, now: () => now });
      ledger.reserve(5).settle(5);
      ledger.reserve(5);
      assert.equal((await spentToday(file, now)).spent, 10);
    });
  });
});

describe('daily credit limit: BFL_BUDGET', () => {
  it('says the limit, the spend, that nothing was submitted, when it resets and what to change', () => {
    const error = budgetError({ limit: 100, spent: 98, estimate: 5, resetsAt: Date.UTC(2025, 2, 15), now: EVENING });
    assert.equal(error.code, 'BFL_BUDGET');
    assert.equal(
      error.message,
      'The daily credit limit of 100 credits would be exceeded: 98 credits have been spent today (UTC) and this job ' +
        'needs 5 more. Nothing was submitted. The limit resets at 00:00 UTC, in 2 h 20 min; to allow more, raise ' +
        '"Daily credit limit" in the bfl-config node.',
    );
    const german = localise(error, catalogTranslate('de')).message;
    assert.match(german, /Tageslimit von 100 Credits/);
    assert.match(german, /98 Credits/);
    assert.match(german, /Es wurde nichts übermittelt/);
    assert.match(german, /00:00 UTC zurückgesetzt, in 2 Std\. 20 Min\./);
    assert.match(german, /„Credit-Tageslimit“ im bfl-config-Node erhöhen/);
  });

  it('says the time to the reset in hours, minutes, or both, never under a minute', () => {
    const midnight = Date.UTC(2025, 2, 15);
    const wait = (ms: number) =>
      /in (.+); to allow/.exec(
        budgetError({ limit: 1, spent: 1, estimate: 1, resetsAt: midnight, now: midnight - ms }).message,
      )![1];
    assert.equal(wait(5 * 3_600_000), '5 h');
    assert.equal(wait(59 * 60_000), '59 min');
    assert.equal(wait(10_000), '1 min');
    assert.equal(wait(0), '1 min');
    assert.equal(wait(23 * 3_600_000 + 59 * 60_000 + 30_000), '24 h');
    assert.equal(wait(3_600_000 + 60_000), '1 h 1 min');
  });
});

describe('daily credit limit: the service against the emulator', function () {
  let emulator: BflEmulator;
  let service: FillService | undefined;
  let images: PreparedImages;
  let dir: string;

  before(async () => {
    emulator = await startEmulator();
    const planned = await planInputs(
      await gradientPng(32, 24),
      await rectangleMask(32, 24, { left: 4, top: 4, width: 8, height: 8 }),
      resolveImageOptions(),
    );
    images = planned.images;
  });
  beforeEach(() => {
    emulator.reset();
    dir = mkdtempSync(join(tmpdir(), 'bfl-budget-service-'));
  });
  afterEach(async () => {
    await service?.close();
    service = undefined;
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  });
  after(() => emulator.close());

  const run = (svc: FillService) =>
    svc.run({ parameters: FILL_PARAMETERS, images, timeoutMs: 10_000 }, new AbortController().signal);
  const outcome = (settled: PromiseSettledResult<unknown>) =>
    settled.status === 'fulfilled' ? 'ok' : codeOf(settled.reason);

  it('lets a burst through up to the limit and fails the queued rest with BFL_BUDGET, submitting nothing for them', async () => {
    const budget = new SpendLedger({ file: join(dir, 'spend.json'), limit: 10 });
    service = fastService(emulator, { maxConcurrent: 1, budget });
    const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => run(service!)));
    assert.deepEqual(outcomes.map(outcome), ['ok', 'ok', 'BFL_BUDGET', 'BFL_BUDGET', 'BFL_BUDGET']);
    assert.equal(emulator.tasks.size, 2);
    assert.equal(budget.today().spent, 10);
  });

  it("counts the submit answer's cost", async () => {
    const cheap = await startEmulator({ costPerImage: 2 });
    try {
      const budget = new SpendLedger({ limit: 5 });
      service = fastService(cheap, { maxConcurrent: 1, budget });
      await run(service);
      assert.equal(budget.today().spent, 2);
      // 2 spent + the list price of 5 would go over 5.
      await assert.rejects(run(service), { code: 'BFL_BUDGET' });
      assert.equal(cheap.tasks.size, 1);
    } finally {
      await service?.close();
      service = undefined;
      await cheap.close();
    }
  });

  it('gives back the reservation of a submit the API refused (no task, nothing billed)', async () => {
    emulator.setCredits(TEST_KEY, 0);
    const budget = new SpendLedger({ limit: 5 });
    service = fastService(emulator, { budget });
    await assert.rejects(run(service), { code: 'BFL_CREDITS' });
    assert.equal(budget.today().spent, 0);
  });

  it('an account remembers the spend across close and a new account (a redeploy), on disk', async () => {
    const stateDir = join(dir, 'cfg');
    const settings = { region: 'custom', baseUrl: emulator.apiUrl, apiKey: TEST_KEY, maxConcurrent: 1 };
    const tuning = { stateDir, pollSchedule: { initialMs: 10, maxMs: 20 } };
    const first = new Account({ ...settings, dailyCreditLimit: 5 }, tuning);
    await run(await first.service());
    await first.close();
    assert.deepEqual(JSON.parse(readFileSync(join(stateDir, 'spend.json'), 'utf8')), {
      version: 1,
      day: utcDay(Date.now()),
      spent: 5,
    });
    const second = new Account({ ...settings, dailyCreditLimit: '5' }, tuning);
    try {
      await assert.rejects(run(await second.service()), { code: 'BFL_BUDGET' });
      assert.equal(emulator.tasks.size, 1);
      assert.equal(second.spend.today().spent, 5);
    } finally {
      await second.close();
    }
  });
});
