/**
 * API keys and credit balances. The real gateway checks the key's format before anything else (422, not 401) and
 * answers 403 for a well-formed key it does not know; clients must map both to an auth error.
 */

export type KeyCheck = { ok: true; key: string } | { ok: false; status: 403 | 422; detail: string };

const NOT_AUTHENTICATED = 'Not authenticated';
export const INVALID_AUTHENTICATION = 'Not authenticated - Invalid Authentication';
const INVALID_KEY_FORMAT = 'Invalid API key format';

/** The real format rule is unknown; this one rejects what is surely not a key (empty, pasted with spaces, truncated). */
function isWellFormedKey(key: string): boolean {
  return key.length >= 8 && !/\s/.test(key);
}

export class Accounts {
  private readonly initial: Map<string, number> | null;
  private readonly balances = new Map<string, number>();

  constructor(
    keys: Record<string, number> | undefined,
    private readonly defaultCredits: number,
  ) {
    this.initial = keys ? new Map(Object.entries(keys)) : null;
    this.reset();
  }

  check(header: string | string[] | undefined): KeyCheck {
    if (header === undefined) return { ok: false, status: 403, detail: NOT_AUTHENTICATED };
    const key = Array.isArray(header) ? header.join(',') : header;
    if (!isWellFormedKey(key)) return { ok: false, status: 422, detail: INVALID_KEY_FORMAT };
    if (!this.accepts(key)) return { ok: false, status: 403, detail: INVALID_AUTHENTICATION };
    return { ok: true, key };
  }

  accepts(key: string): boolean {
    return isWellFormedKey(key) && (this.initial === null || this.initial.has(key));
  }

  credits(key: string): number {
    const balance = this.balances.get(key);
    if (balance !== undefined) return balance;
    return this.initial === null ? this.defaultCredits : 0;
  }

  setCredits(key: string, credits: number): void {
    this.balances.set(key, credits);
  }

  /** Adds (or with a negative amount, takes) credits; balances are kept to 2 decimals as the API reports them. */
  add(key: string, amount: number): void {
    this.balances.set(key, Math.round((this.credits(key) + amount) * 100) / 100);
  }

  reset(): void {
    this.balances.clear();
    if (this.initial) for (const [key, credits] of this.initial) this.balances.set(key, credits);
  }
}
