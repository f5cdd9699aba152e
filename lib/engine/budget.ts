/**
 * The daily credit limit of an account (bfl-config's dailyCreditLimit): what its submitted tasks cost per UTC
 * day, kept in a file so the count survives redeploys and restarts, and the gate every submit passes first.
 *
 * How the count stays right:
 * - One count per file in this process. A redeploy creates the new Account before the old one has let its
 *   running jobs finish, so two ledgers for the same file live side by side for a while: they share one count
 *   (and one writer), so a late settle of the old one is seen by the new one, and their reservations exclude
 *   each other. A ledger created when nobody uses the count (no reservation, nothing unwritten) reads the file
 *   again, so a file removed or edited meanwhile is taken as it is.
 * - The file holds what may have been billed today: settled costs plus the reservations of submits still
 *   under way. A clean close settles every reservation first; after a crash the reservations of the submits
 *   that were under way count as spent, so a restart never lets the day go over the limit because of them.
 * - Written atomically (a temp file in the same directory, then a rename), off the hot path and coalesced: a
 *   burst of changes in one turn of the event loop is one write, and changes during a write make one more.
 * - Read once when a ledger is created; a missing, corrupt or truncated file means nothing spent today.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { budgetError } from '../errors';
import { CoalescedWriter } from './state-file';

/** A submit's share of today's spend, taken before the POST and settled once its cost is known. */
export interface SpendReservation {
  /** The task was created: count what it cost (the submit answer's cost, else the list price). */
  settle(cost: number): void;
  /** The submit provably created no task: give the reservation back. */
  release(): void;
}

export interface SpendGate {
  /** Reserves `estimate` credits for a submit; throws BFL_BUDGET when that would go over today's limit. */
  reserve(estimate: number): SpendReservation;
}

/** Today's spend, for Check key. */
export interface SpendToday {
  /** Credits spent today (UTC), counting the submits still under way. */
  spent: number;
  /** undefined: no limit. */
  limit: number | undefined;
  /** When the count starts again: the next 00:00 UTC, in ms since the epoch. */
  resetsAt: number;
}

export interface SpendLedgerOptions {
  /** Where the count is kept; undefined: in memory only. */
  file?: string;
  /** Credits per UTC day; undefined: no limit (the spend is still counted). */
  limit?: number;
  now?: () => number;
}

/** The name of an account's spend file in its state directory. */
export const SPEND_FILE = 'spend.json';

export function spendFileIn(stateDir: string): string {
  return join(stateDir, SPEND_FILE);
}

/** The UTC day of `time` as YYYY-MM-DD. */
export function utcDay(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

/** The next 00:00 UTC after `time`. */
export function nextUtcMidnight(time: number): number {
  const date = new Date(time);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1);
}

/** Sums of credits are kept to a millionth, so 0.1 + 0.2 cannot go over a limit of 0.3. */
function tidy(amount: number): number {
  return Math.round(amount * 1e6) / 1e6;
}

function validAmount(amount: number, fallback: number): number {
  return typeof amount === 'number' && Number.isFinite(amount) && amount >= 0 ? amount : fallback;
}

interface FileContent {
  day: string;
  spent: number;
}

type ReadOutcome = { kind: 'read'; content: FileContent } | { kind: 'missing' } | { kind: 'unreadable' };

function parseContent(raw: string): FileContent | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object') return undefined;
  const { day, spent } = parsed as { day?: unknown; spent?: unknown };
  if (typeof day !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
  if (typeof spent !== 'number' || !Number.isFinite(spent) || spent < 0) return undefined;
  return { day, spent };
}

function outcomeOf(raw: string): ReadOutcome {
  const content = parseContent(raw);
  return content ? { kind: 'read', content } : { kind: 'unreadable' };
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

function readSync(file: string): ReadOutcome {
  try {
    return outcomeOf(readFileSync(file, 'utf8'));
  } catch (error) {
    return isMissing(error) ? { kind: 'missing' } : { kind: 'unreadable' };
  }
}

async function readAsync(file: string): Promise<ReadOutcome> {
  try {
    return outcomeOf(await readFile(file, 'utf8'));
  } catch (error) {
    return isMissing(error) ? { kind: 'missing' } : { kind: 'unreadable' };
  }
}

/** What the file says was spent on `day`: 0 when it is missing, unreadable or of another day. */
function spentOn(outcome: ReadOutcome, day: string): number {
  return outcome.kind === 'read' && outcome.content.day === day ? outcome.content.spent : 0;
}

/** One day's count, shared by every ledger of the same file in this process. */
class DayCount {
  day: string;
  /** Settled costs (and, from a file, the reservations of a process that ended without settling them). */
  spent: number;
  /** Reservations of submits under way, made today. */
  reserved = 0;
  /** Keeps the file holding what `total` would write; undefined when the count lives in memory only. */
  readonly writer: CoalescedWriter | undefined;

  constructor(file: string | undefined, day: string, spent: number) {
    this.day = day;
    this.spent = spent;
    if (file !== undefined) {
      this.writer = new CoalescedWriter(
        file,
        () => `${JSON.stringify({ version: 1, day: this.day, spent: this.total })}\n`,
      );
    }
  }

  get total(): number {
    return tidy(this.spent + this.reserved);
  }

  /** Nothing of this count lives only in memory: the file can be taken as the truth again. */
  get idle(): boolean {
    return this.reserved === 0 && (this.writer?.settled ?? true);
  }

  /** A new UTC day starts at 0; reservations of the day before no longer count against today. */
  roll(now: number): void {
    const day = utcDay(now);
    if (day === this.day) return;
    this.day = day;
    this.spent = 0;
    this.reserved = 0;
  }

  /** The total changed: write it soon, once for a burst of changes. */
  changed(): void {
    this.writer?.changed();
  }

  async flush(): Promise<void> {
    await this.writer?.flush();
  }
}

/** The counts of the files in use in this process, by absolute path. */
const COUNTS = new Map<string, DayCount>();

export class SpendLedger implements SpendGate {
  /** True when the file existed but could not be read (corrupt, truncated, unreadable): counted from 0. */
  readonly unreadable: boolean;
  private readonly count: DayCount;
  private readonly now: () => number;
  private readonly limit: number | undefined;

  constructor(options: SpendLedgerOptions) {
    this.now = options.now ?? Date.now;
    this.limit = typeof options.limit === 'number' && options.limit > 0 ? options.limit : undefined;
    const now = this.now();
    const today = utcDay(now);
    if (options.file === undefined) {
      this.count = new DayCount(undefined, today, 0);
      this.unreadable = false;
      return;
    }
    const file = resolve(options.file);
    const shared = COUNTS.get(file);
    if (shared && !shared.idle) {
      // Another ledger of this file has reservations or unwritten changes: its count is newer than the file.
      this.count = shared;
      this.unreadable = false;
      shared.roll(now);
      return;
    }
    const outcome = readSync(file);
    this.unreadable = outcome.kind === 'unreadable';
    const spent = spentOn(outcome, today);
    if (shared) {
      shared.day = today;
      shared.spent = spent;
      this.count = shared;
    } else {
      this.count = new DayCount(file, today, spent);
      COUNTS.set(file, this.count);
    }
  }

  reserve(estimate: number): SpendReservation {
    const now = this.now();
    const count = this.count;
    count.roll(now);
    const amount = tidy(validAmount(estimate, 0));
    if (this.limit !== undefined && count.total + amount > this.limit) {
      throw budgetError({
        limit: this.limit,
        spent: count.total,
        estimate: amount,
        resetsAt: nextUtcMidnight(now),
        now,
      });
    }
    const day = count.day;
    count.reserved = tidy(count.reserved + amount);
    if (amount > 0) count.changed();
    let open = true;
    // A reservation of a day that is over no longer counts: that day's count is gone.
    const stillToday = () => {
      count.roll(this.now());
      return count.day === day;
    };
    return {
      settle: (cost: number) => {
        if (!open) return;
        open = false;
        if (!stillToday()) return;
        const spent = tidy(validAmount(cost, amount));
        count.reserved = Math.max(0, tidy(count.reserved - amount));
        count.spent = tidy(count.spent + spent);
        if (spent !== amount) count.changed();
      },
      release: () => {
        if (!open) return;
        open = false;
        if (!stillToday()) return;
        count.reserved = Math.max(0, tidy(count.reserved - amount));
        if (amount > 0) count.changed();
      },
    };
  }

  today(): SpendToday {
    const now = this.now();
    this.count.roll(now);
    return { spent: this.count.total, limit: this.limit, resetsAt: nextUtcMidnight(now) };
  }

  /** The last write's failure, if it failed (the count is still kept in memory and written again later). */
  get writeError(): unknown {
    return this.count.writer?.lastError;
  }

  /** Resolves once the count is on disk (or writing it failed; see writeError). Never rejects. */
  flush(): Promise<void> {
    return this.count.flush();
  }
}

/**
 * Today's spend of the account whose spend file is `file`, for Check key: the live count when a ledger of that
 * file is in use in this process, else what the file says (0 when there is none, as for an undeployed node).
 */
export async function spentToday(
  file: string | undefined,
  now: number = Date.now(),
): Promise<{ spent: number; resetsAt: number }> {
  const resetsAt = nextUtcMidnight(now);
  if (file === undefined) return { spent: 0, resetsAt };
  const shared = COUNTS.get(resolve(file));
  if (shared) {
    shared.roll(now);
    return { spent: shared.total, resetsAt };
  }
  return { spent: spentOn(await readAsync(file), utcDay(now)), resetsAt };
}
