/**
 * The webhook receiver of one account: the shared secret, and the jobs waiting for BFL to announce their task's
 * end. Each job gets a correlation token of its own in the webhook_url it submits, so a webhook is matched to the
 * job that asked for it (even when it arrives before the submit's answer) and only for the task that job
 * submitted: a webhook naming any other task changes nothing. Webhooks are news that spares polls, never the only
 * way a job can end (./service falls back to polling).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { pollOutcome } from '../api/answers';
import type { WebhookRequest } from '../api/request-body';
import type { ReadyResult } from '../api/types';
import { readWebhookPayload } from '../api/webhook-payload';

/** What a webhook said about a task: its result, or the error its terminal status means. */
export type WebhookNews = { kind: 'ready'; result: ReadyResult } | { kind: 'failed'; error: unknown };

/** What the receiver did with a webhook whose secret was right. */
export type WebhookVerdict = 'accepted' | 'ignored' | 'malformed';

/** A secret for a config node that has none: 32 random bytes, as URL-safe text. */
export function generateWebhookSecret(): string {
  return randomBytes(32).toString('base64url');
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Tokens are hex; anything else in the URL is no token of ours. */
const TOKEN = /^[0-9a-f]{32}$/;

export class WebhookExpectation {
  private taskId: string | undefined;
  /** A terminal webhook that arrived before the submit's answer told the task id. */
  private early = new Map<string, WebhookNews>();
  private settle: ((news: WebhookNews) => void) | undefined;
  private settled = false;
  /** Resolves with the first terminal news about this job's task; never rejects, may never resolve. */
  readonly news: Promise<WebhookNews>;

  constructor(
    readonly token: string,
    private readonly request: WebhookRequest,
    private readonly onDispose: () => void,
  ) {
    this.news = new Promise((resolve) => (this.settle = resolve));
  }

  /** The webhook_url and webhook_secret of this job's submit. */
  get webhook(): WebhookRequest {
    return this.request;
  }

  /** The submit answered: webhooks about this task count from now on, including one that came early. */
  forTask(taskId: string): void {
    this.taskId = taskId;
    const early = this.early.get(taskId);
    this.early.clear();
    if (early) this.take(early);
  }

  /** A verified webhook for this job's token. */
  hear(taskId: string, news: WebhookNews): WebhookVerdict {
    if (this.settled) return 'ignored';
    if (this.taskId === undefined) {
      // Few webhooks can come before the answer; keep one per claimed id, and only a handful.
      if (this.early.size < 4 && !this.early.has(taskId)) this.early.set(taskId, news);
      return 'accepted';
    }
    if (taskId !== this.taskId) return 'ignored';
    this.take(news);
    return 'accepted';
  }

  private take(news: WebhookNews): void {
    if (this.settled) return;
    this.settled = true;
    this.settle?.(news);
    this.settle = undefined;
  }

  /** The job ended: later webhooks for its token are ignored. */
  dispose(): void {
    this.settled = true;
    this.settle = undefined;
    this.early.clear();
    this.onDispose();
  }
}

export interface WebhookReceiverOptions {
  /** The receiver's public URL, as BFL must call it; each job's token is appended as a path segment. */
  url: string;
  secret: string;
}

export class WebhookReceiver {
  readonly url: string;
  private readonly secret: string;
  private readonly secretDigest: Buffer;
  private readonly waiting = new Map<string, WebhookExpectation>();

  constructor(options: WebhookReceiverOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.secret = options.secret;
    this.secretDigest = digest(options.secret);
  }

  /** Whether an X-Webhook-Secret header holds this receiver's secret; compared in constant time. */
  accepts(header: unknown): boolean {
    if (typeof header !== 'string' || header === '') return false;
    return timingSafeEqual(digest(header), this.secretDigest);
  }

  /**
   * A job about to submit (or resumed with the token it submitted with) waits for its webhook. The expectation
   * must be disposed of when the job ends.
   */
  expect(token: string = randomBytes(16).toString('hex')): WebhookExpectation {
    const expectation = new WebhookExpectation(token, { url: `${this.url}/${token}`, secret: this.secret }, () => {
      if (this.waiting.get(token) === expectation) this.waiting.delete(token);
    });
    this.waiting.set(token, expectation);
    return expectation;
  }

  /** Whether a job waits for a webhook with this token. */
  knows(token: string | undefined): boolean {
    return token !== undefined && this.waiting.has(token);
  }

  /** Jobs waiting for a webhook now (tests and close use it). */
  get size(): number {
    return this.waiting.size;
  }

  /**
   * A webhook whose secret was right: `token` from its URL, `body` its parsed JSON. Malformed bodies change
   * nothing; bodies for tokens or tasks no job is waiting for, in-progress news and duplicates are ignored.
   */
  deliver(token: string | undefined, body: unknown): WebhookVerdict {
    const payload = readWebhookPayload(body);
    if ('problem' in payload) return 'malformed';
    let news: WebhookNews | undefined;
    try {
      const outcome = pollOutcome(payload.taskId, payload.answer);
      if (outcome === undefined) return 'malformed';
      if (outcome.kind === 'in-progress') return 'ignored';
      news = { kind: 'ready', result: outcome.result };
    } catch (error) {
      // A Ready without a result URL is a broken message, not the task's end: polling will tell.
      if ((error as { code?: unknown }).code === 'BFL_DOWNLOAD') return 'malformed';
      news = { kind: 'failed', error };
    }
    const expectation = token !== undefined && TOKEN.test(token) ? this.waiting.get(token) : undefined;
    return expectation ? expectation.hear(payload.taskId, news) : 'ignored';
  }

  /** The account closes: no job waits any more (their own disposal is then a no-op). */
  close(): void {
    this.waiting.clear();
  }
}
