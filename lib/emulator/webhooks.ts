/**
 * Webhook calls on task completion. The emulator only ever calls loopback http URLs: it must not become a way to
 * make requests to arbitrary hosts from a test or demo machine.
 */
import * as http from 'node:http';
import { isLoopbackHost } from './http';

export function isCallableWebhook(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname);
  } catch {
    return false;
  }
}

/**
 * The older payload third-party receivers were written against (`task_id`, `SUCCESS`/`FAILED`); BFL reportedly
 * switched to `id` + `Ready` in 2026. Receivers should accept both, and the emulator can send either.
 */
export function legacyPayload(body: {
  id: unknown;
  status: unknown;
  result: unknown;
  progress: unknown;
  details: unknown;
}): Record<string, unknown> {
  const ready = body.status === 'Ready';
  const payload: Record<string, unknown> = {
    task_id: body.id,
    status: ready ? 'SUCCESS' : 'FAILED',
    result: body.result,
    progress: body.progress,
  };
  if (!ready) {
    payload.error = body.status;
    payload.details = body.details;
  }
  return payload;
}

/** Where a forged webhook points the result: a host that is none of the emulator's (and never called). */
export const FORGED_SAMPLE_URL = 'https://forged.example/results/forged_sample.jpeg?sig=forged';

/** A copy of a payload with the result URL of a forger. */
export function forgedPayload(payload: Record<string, unknown>): Record<string, unknown> {
  const result = payload.result && typeof payload.result === 'object' ? payload.result : {};
  return { ...payload, result: { ...result, sample: FORGED_SAMPLE_URL } };
}

export class WebhookSender {
  private readonly inFlight = new Set<http.ClientRequest>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly timeoutMs = 10_000) {}

  /** Runs `send` after `ms`, unless abortAll() comes first. */
  later(ms: number, send: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      send();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  /** Fire and forget; resolves with the receiver's status, or 0 when the call failed. */
  send(url: string, payload: unknown, secret: string | null): Promise<number> {
    if (!isCallableWebhook(url)) return Promise.resolve(0);
    const body = Buffer.from(JSON.stringify(payload));
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': body.length,
      'user-agent': 'bfl-emulator-webhook',
    };
    // BFL echoes the secret verbatim in this header (official SDK 0.2 and docs); no body signature.
    if (secret !== null) headers['x-webhook-secret'] = secret;
    return new Promise((resolve) => {
      // agent:false -> a fresh socket closed after the answer, so no keep-alive socket outlives close().
      const req = http.request(url, { method: 'POST', headers, agent: false, timeout: this.timeoutMs });
      this.inFlight.add(req);
      let settled = false;
      const finish = (status: number) => {
        if (settled) return;
        settled = true;
        this.inFlight.delete(req);
        resolve(status);
      };
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => finish(res.statusCode ?? 0));
        res.on('error', () => finish(0));
      });
      req.on('timeout', () => req.destroy(new Error('webhook timed out')));
      req.on('error', () => finish(0));
      req.on('close', () => finish(0));
      req.end(body);
    });
  }

  abortAll(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const req of this.inFlight) req.destroy();
    this.inFlight.clear();
  }
}
