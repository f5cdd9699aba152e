/**
 * What this process sent, counted from undici's diagnostics channels: both the package's undici and the one
 * inside Node's fetch publish there, so every client is counted the same way without touching its code.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';

interface RequestMessage {
  request: { origin?: unknown; method?: string; path?: string };
}
interface HeadersMessage extends RequestMessage {
  response: { statusCode: number };
}

export class Traffic {
  /** Polls per task id. */
  readonly polls = new Map<string, number>();
  /** Submits by answer status. */
  readonly submits = new Map<number, number>();

  private readonly onCreate = (message: unknown): void => {
    const { request } = message as RequestMessage;
    const path = request.path ?? '';
    if (!path.startsWith('/v1/get_result')) return;
    const id = new URLSearchParams(path.split('?')[1] ?? '').get('id') ?? '';
    this.polls.set(id, (this.polls.get(id) ?? 0) + 1);
  };

  private readonly onHeaders = (message: unknown): void => {
    const { request, response } = message as HeadersMessage;
    if (request.method !== 'POST' || !(request.path ?? '').startsWith('/v1/flux-pro-1.0-fill')) return;
    this.submits.set(response.statusCode, (this.submits.get(response.statusCode) ?? 0) + 1);
  };

  constructor() {
    subscribe('undici:request:create', this.onCreate);
    subscribe('undici:request:headers', this.onHeaders);
  }

  pollsOf(taskId: string): number {
    return this.polls.get(taskId) ?? 0;
  }

  get acceptedSubmits(): number {
    return this.submits.get(200) ?? 0;
  }

  get refusedSubmits(): number {
    return this.submits.get(429) ?? 0;
  }

  close(): void {
    unsubscribe('undici:request:create', this.onCreate);
    unsubscribe('undici:request:headers', this.onHeaders);
  }
}
