/**
 * The account's poll rate, as BFL states it. Every poll answer carries `X-Ratelimit-Limit`, `-Remaining` and
 * `-Reset` (unix seconds); a 429 carries `Retry-After`. The gate holds every poll of the account, not only the
 * one that was refused: after a 429, for as long as it asked; while the window is used up, until it resets.
 *
 * Retry-After on a 200 is not a request to wait: BFL sends `Retry-After: 0|1` on every poll answer, and HTTP gives
 * the header a meaning only with 429, 503 and redirects; the poll schedule decides when a pending task is asked
 * again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { headerValue, type ResponseHeaders } from './exchange';
import { parseRetryAfter } from './retry';

/** Longest hold a header can cause: a misread or absurd value must not park the account for hours. */
const MAX_HOLD_MS = 60_000;
/** X-Ratelimit-Reset below this is read as seconds from now rather than a unix time. */
const UNIX_TIME_FROM = 1e9;

function count(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  return Number.isFinite(number) && number >= 0 ? number : undefined;
}

export class RateGate {
  private holdUntil = 0;
  /** Polls the window still allows, counting down the polls sent since BFL last said. */
  private remaining: number | undefined;
  private resetAt = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** How long a poll sent now would have to wait. */
  waitMs(): number {
    const now = this.now();
    let until = this.holdUntil;
    if (this.remaining !== undefined && this.remaining <= 0 && this.resetAt > now)
      until = Math.max(until, this.resetAt);
    return Math.min(MAX_HOLD_MS, Math.max(0, until - now));
  }

  /** Waits until a poll may be sent (rejects when `signal` aborts), and counts it. */
  async pass(signal: AbortSignal): Promise<void> {
    for (let wait = this.waitMs(); wait > 0; wait = this.waitMs()) await sleep(wait, undefined, { signal });
    if (this.remaining !== undefined) this.remaining -= 1;
  }

  /**
   * What an answer said about the account's rate. A refusal's Retry-After, when it has one, says when to come
   * back more precisely than the window (a gateway may send both, with a window that resets later).
   */
  observe(status: number, headers: ResponseHeaders): void {
    const now = this.now();
    if (status === 429 || status === 503) {
      const asked = parseRetryAfter(headerValue(headers, 'retry-after'), now);
      if (asked !== undefined) {
        this.holdUntil = Math.max(this.holdUntil, now + Math.min(MAX_HOLD_MS, asked));
        this.remaining = undefined;
        return;
      }
    }
    const remaining = count(headerValue(headers, 'x-ratelimit-remaining'));
    const reset = count(headerValue(headers, 'x-ratelimit-reset'));
    if (remaining !== undefined && reset !== undefined) {
      this.remaining = remaining;
      this.resetAt = reset >= UNIX_TIME_FROM ? reset * 1000 : now + reset * 1000;
    }
  }
}
