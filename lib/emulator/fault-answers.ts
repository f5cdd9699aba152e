/**
 * What each fault does to a request, on the wire. Some answer instead of the endpoint (a status, a reset before
 * anything happened, a 429 of a storm, an expired link, a restart); the others let the endpoint do its work (a
 * submit creates its task, a poll re-signs the link) and then spoil its answer on the way out: lost in a reset,
 * cut, stalled, or replaced. The client must be judged by what it sees, so each fault's bytes are exact.
 */
import { createHash } from 'node:crypto';
import { answerExpired, azureError } from './delivery';
import type { ResolvedFault } from './fault-specs';
import { resetSocket, statusText, type Exchange, type Origin } from './http';
import type { FaultVariant } from './types';

export interface FaultTools {
  stalls: StallTracker;
  /** Takes an origin down for a moment, as a restarting host would; 'forget' loses the tasks too. */
  restart: (origin: Origin, variant: FaultVariant) => void;
  /** Makes the link of a download expire for good: a client must poll again for a fresh one. */
  expireLink: (path: string, query: URLSearchParams) => void;
  /** For the detail of a submit's 429, which BFL sends when the account's task slots are full. */
  maxActivePerKey: number;
}

/** Faults that answer in place of the endpoint: nothing of it runs, no task is created. */
const INSTEAD = new Set<ResolvedFault['kind']>(['status', 'reset-before', 'rate-limit-storm', 'restart', 'expired']);

export function answersInstead(fault: ResolvedFault): boolean {
  return INSTEAD.has(fault.kind);
}

/** Azure Storage's error codes for the statuses a blob host answers when it is struggling. */
const AZURE_CODES: Readonly<Record<number, string>> = {
  429: 'ServerBusy',
  500: 'InternalError',
  503: 'ServerBusy',
  504: 'OperationTimedOut',
};

const AZURE_MESSAGES: Readonly<Record<string, string>> = {
  ServerBusy: 'The server is currently unable to receive requests. Please retry your request.',
  InternalError: 'The server encountered an internal error. Please retry the request.',
  OperationTimedOut: 'The operation could not be completed within the permitted time.',
};

function retryHeaders(fault: ResolvedFault): Record<string, string> {
  return fault.retryAfterSeconds === null ? {} : { 'retry-after': String(fault.retryAfterSeconds) };
}

/** A status answered by the origin's own kind of server: FastAPI's JSON on the API, Azure's XML on delivery. */
function answerStatus(ex: Exchange, status: number, headers: Record<string, string>, detail?: string): void {
  if (ex.record.origin === 'delivery') {
    const code = AZURE_CODES[status] ?? statusText(status).replace(/[^A-Za-z]/g, '');
    azureError(ex, status, code, AZURE_MESSAGES[code] ?? statusText(status), undefined, headers);
    return;
  }
  ex.json(status, { detail: detail ?? statusText(status) }, headers);
}

function stormDetail(fault: ResolvedFault, tools: FaultTools): string {
  if (fault.target === 'submit') {
    return `Too many active tasks: ${tools.maxActivePerKey} tasks are already in progress for this key. Wait until one of your previous tasks has finished, then try again.`;
  }
  return 'Rate limit exceeded, slow down polling.';
}

/** Answers `ex` with a fault of the INSTEAD kinds. */
export function answerInstead(fault: ResolvedFault, ex: Exchange, tools: FaultTools): void {
  switch (fault.kind) {
    case 'reset-before':
      return ex.drop();
    case 'restart':
      ex.drop();
      return tools.restart(ex.record.origin, fault.variant ?? 'keep');
    case 'expired':
      tools.expireLink(ex.record.path, ex.url.searchParams);
      return answerExpired(ex, fault.status === 404 ? 404 : 403);
    case 'rate-limit-storm': {
      const headers = retryHeaders(fault);
      if (fault.target === 'poll') {
        // The gateway's own counters say the window is spent.
        headers['x-ratelimit-limit'] = '1200';
        headers['x-ratelimit-remaining'] = '0';
        headers['x-ratelimit-reset'] = ((Date.now() + 1000) / 1000).toFixed(3);
      }
      return answerStatus(ex, 429, headers, stormDetail(fault, tools));
    }
    default:
      return answerStatus(ex, fault.status ?? 503, retryHeaders(fault));
  }
}

function half(body: Buffer | undefined): Buffer {
  const whole = body ?? Buffer.alloc(0);
  return whole.subarray(0, Math.floor(whole.length / 2));
}

/** Lets the endpoint answer, then spoils the answer as `fault` says (every kind not answered instead). */
export function shapeAnswer(fault: ResolvedFault, ex: Exchange, tools: FaultTools): void {
  const { res } = ex;
  const socket = ex.req.socket;
  ex.shaper = (status, headers, body) => {
    switch (fault.kind) {
      case 'reset-after':
        // A submit's task now exists, and its answer is lost: "created, outcome unknown" for the client.
        if (fault.target === 'submit') {
          resetSocket(socket);
          return 0;
        }
        // A GET gets all of its answer, then the reset: a client must not reuse the connection.
        res.writeHead(status, headers);
        res.end(body, () => resetSocket(socket));
        return status;
      case '500-after-create':
        res.writeHead(fault.status ?? 500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ detail: statusText(fault.status ?? 500) }));
        return fault.status ?? 500;
      case 'malformed-json': {
        const cut = half(body);
        res.writeHead(status, { ...headers, 'content-length': cut.length });
        res.end(cut);
        return status;
      }
      case 'unknown-status':
        return answerUnknownStatus(ex, fault.word ?? 'Queued', headers, body);
      case 'delay': {
        // Held as a slow gateway would hold it; a client that gives up first closes, and nothing is written.
        const timer = setTimeout(() => {
          if (res.destroyed) return;
          res.writeHead(status, headers);
          res.end(body);
        }, fault.delayMs ?? 0);
        res.once('close', () => clearTimeout(timer));
        return status;
      }
      case 'stall':
        if (fault.variant === 'body') {
          res.writeHead(status, headers);
          res.write(half(body));
        }
        tools.stalls.hold(ex);
        return fault.variant === 'body' ? status : 0;
      case 'break':
        res.writeHead(status, headers);
        res.write(half(body), () => resetSocket(socket));
        return status;
      case 'truncated': {
        if (fault.variant === 'short') {
          // A blob stored short: a whole answer of its own length, so only decoding the image shows the damage.
          const short = half(body);
          const shortHeaders: Record<string, string | number> = { ...headers, 'content-length': short.length };
          if (headers['content-md5'] !== undefined) {
            shortHeaders['content-md5'] = createHash('md5').update(short).digest('base64');
          }
          res.writeHead(status, shortHeaders);
          res.end(short);
          return status;
        }
        // Content-Length promises the whole image; half arrives and the connection closes in order.
        res.writeHead(status, headers);
        res.write(half(body), () => socket.end());
        return status;
      }
      default:
        res.writeHead(status, headers);
        res.end(body);
        return status;
    }
  };
}

/** A poll answer whose status word is one the client has not met, still in progress: nothing else changes. */
function answerUnknownStatus(
  ex: Exchange,
  word: string,
  headers: Record<string, string | number>,
  body: Buffer | undefined,
): number {
  let parsed: unknown;
  try {
    parsed = JSON.parse((body ?? Buffer.alloc(0)).toString('utf8'));
  } catch {
    parsed = null;
  }
  const base = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  const id = typeof base.id === 'string' ? base.id : (ex.url.searchParams.get('id') ?? '');
  const text = JSON.stringify({
    id,
    status: word,
    result: null,
    progress: typeof base.progress === 'number' ? base.progress : null,
    details: null,
    preview: null,
  });
  ex.res.writeHead(200, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  ex.res.end(text);
  return 200;
}

/**
 * Requests a `stall` holds. Each is let go (reset) after `ms`, when its client gives up and closes, or when the
 * emulator closes: a stall must never keep a test's process alive.
 */
export class StallTracker {
  private readonly held = new Map<Exchange, NodeJS.Timeout>();

  constructor(private readonly ms: number) {}

  get size(): number {
    return this.held.size;
  }

  hold(ex: Exchange): void {
    const release = () => {
      const timer = this.held.get(ex);
      if (timer) clearTimeout(timer);
      this.held.delete(ex);
    };
    const timer = setTimeout(() => {
      release();
      resetSocket(ex.req.socket);
    }, this.ms);
    timer.unref();
    this.held.set(ex, timer);
    ex.res.once('close', release);
  }

  close(): void {
    for (const [ex, timer] of this.held) {
      clearTimeout(timer);
      resetSocket(ex.req.socket);
    }
    this.held.clear();
  }
}
