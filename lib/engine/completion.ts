/**
 * How a job that expects a webhook learns of its task's end: from the webhook, or, once the task's expected
 * finish plus a margin has passed without one, from polling, while a webhook that comes meanwhile still ends the
 * wait. A lost or late webhook costs that wait, never the result. A webhook's result URL is downloaded only from
 * a delivery host the endpoint allows (lib/api/regions); for any other the job asks a poll for the result.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { mayDeliverFromWebhook, type ApiEndpoint } from '../api/regions';
import type { ReadyResult } from '../api/types';
import { JobScope } from './deadline';
import type { WebhookExpectation, WebhookNews } from './webhooks';

export interface WebhookWait {
  expectation: WebhookExpectation;
  endpoint: ApiEndpoint;
  /** How long to wait for the webhook before the first poll; 0 polls at once (a resumed job). */
  waitMs: number;
  /** Polls the task until it is ready (the first poll at once), ending when `signal` aborts. */
  poll: (signal: AbortSignal) => Promise<ReadyResult>;
  /** The job waits, nothing polled: for its status. */
  onWaiting: () => void;
}

/** The webhook's news as a result to download, or 'poll-now' when its URL is not one to fetch; failures throw. */
function readNews(news: WebhookNews, endpoint: ApiEndpoint): ReadyResult | 'poll-now' {
  if (news.kind === 'failed') throw news.error;
  return mayDeliverFromWebhook(endpoint, news.result.sampleUrl) ? news.result : 'poll-now';
}

export async function webhookOrPolling(wait: WebhookWait, signal: AbortSignal): Promise<ReadyResult> {
  // Aborted when either way has told, so the other stops: no poll or timer outlives the answer.
  const polling = new JobScope(signal);
  try {
    const announced = wait.expectation.news.then((news) => readNews(news, wait.endpoint));
    if (wait.waitMs > 0) {
      wait.onWaiting();
      const waited = sleep(wait.waitMs, 'waited' as const, { signal: polling.signal });
      const first = await Promise.race([waited, announced]);
      if (first === 'poll-now') return await wait.poll(signal);
      if (first !== 'waited') return first;
    }
    const first = await Promise.race([wait.poll(polling.signal), announced]);
    if (first !== 'poll-now') return first;
    polling.controller.abort();
    return await wait.poll(signal);
  } finally {
    polling.controller.abort();
    polling.dispose();
  }
}
