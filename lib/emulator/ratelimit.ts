/**
 * The poll endpoint's rate-limit headers (observed: limit 1200, a window of about a second, reset as unix seconds).
 * Past the limit the emulator answers 429 like a gateway would, which lets clients with a tight poll loop notice.
 */

const POLL_RATE_LIMIT = 1200;
const WINDOW_MS = 1000;

export class PollRateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly limit = POLL_RATE_LIMIT) {}

  /** Counts one request for `client` and returns the headers to send and whether it is over the limit. */
  hit(client: string, now = Date.now()): { limited: boolean; headers: Record<string, string> } {
    let window = this.windows.get(client);
    if (!window || now - window.start >= WINDOW_MS) {
      // Stale windows of other clients are dropped now and then so the map cannot grow without bound.
      if (this.windows.size > 1000) {
        for (const [name, w] of this.windows) if (now - w.start >= WINDOW_MS) this.windows.delete(name);
      }
      window = { start: now, count: 0 };
      this.windows.set(client, window);
    }
    window.count += 1;
    const remaining = Math.max(0, this.limit - window.count);
    return {
      limited: window.count > this.limit,
      headers: {
        'x-ratelimit-limit': String(this.limit),
        'x-ratelimit-remaining': String(remaining),
        'x-ratelimit-reset': ((window.start + WINDOW_MS) / 1000).toFixed(3),
      },
    };
  }

  reset(): void {
    this.windows.clear();
  }
}
