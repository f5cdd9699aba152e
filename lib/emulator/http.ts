/** The HTTP plumbing every origin shares: one request and its answer, body reading, listening and closing. */
import * as http from 'node:http';
import { isIP, type Socket } from 'node:net';
import type { RecordedRequest } from './types';

export type Origin = RecordedRequest['origin'];

/**
 * One request and its answer. Every answer goes through here so the recorded status is set before the first byte
 * leaves: a test that reads `emulator.requests` right after its response arrived must already see it.
 */
/**
 * Takes over sending an answer the endpoint made (a fault that cuts, stalls or loses it). Returns the status the
 * request log records: 0 when no status line left.
 */
export type AnswerShaper = (
  status: number,
  headers: Record<string, string | number>,
  body: Buffer | undefined,
) => number;

export class Exchange {
  readonly url: URL;
  /** Set by a fault that lets the endpoint answer and then spoils the answer on its way out. */
  shaper: AnswerShaper | null = null;
  private settled = false;

  constructor(
    readonly req: http.IncomingMessage,
    readonly res: http.ServerResponse,
    readonly record: RecordedRequest,
  ) {
    // The host part is irrelevant: only path and query are read.
    this.url = new URL(req.url ?? '/', 'http://emulator.invalid');
  }

  get answered(): boolean {
    return this.settled || this.record.status !== 0 || this.res.headersSent || this.res.destroyed;
  }

  send(status: number, headers: Record<string, string | number>, body?: Buffer | string): void {
    if (this.answered) return;
    this.settled = true;
    const payload = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
    const all: Record<string, string | number> = { ...headers };
    if (payload && all['content-length'] === undefined) all['content-length'] = payload.length;
    if (this.shaper) {
      this.record.status = this.shaper(status, all, this.req.method === 'HEAD' ? undefined : payload);
      return;
    }
    this.record.status = status;
    this.res.writeHead(status, all);
    // HEAD answers carry the headers of the GET answer but no body.
    if (payload && this.req.method !== 'HEAD') this.res.end(payload);
    else this.res.end();
  }

  json(status: number, body: unknown, headers: Record<string, string | number> = {}): void {
    this.send(status, { 'content-type': 'application/json', ...headers }, JSON.stringify(body));
  }

  /** Simulates a connection lost mid-request: the client sees a reset (TCP RST), never a status line. */
  drop(): void {
    if (this.answered) return;
    this.settled = true;
    this.record.status = 0;
    resetSocket(this.req.socket);
  }
}

/** A TCP reset rather than an orderly close: what a crashed gateway or a dropped route looks like to a client. */
export function resetSocket(socket: Socket): void {
  if (socket.destroyed) return;
  // Once its end was asked for (the client said Connection: close) a socket cannot be reset: libuv refuses, and
  // the refused handle would never close. It is closing anyway, so an orderly close is all there is.
  if (socket.writableEnded) {
    socket.destroy();
    return;
  }
  try {
    socket.resetAndDestroy();
  } catch {
    // Not a TCP socket (a test's own stream): an orderly close is the nearest thing.
    socket.destroy();
  }
}

export class BodyTooLargeError extends Error {}

/** Reads the whole body; big submits (base64 images) arrive in many chunks. */
export function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(new BodyTooLargeError(`body larger than ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks, size));
    });
    req.on('error', (err) => {
      if (!failed) {
        failed = true;
        reject(err);
      }
    });
    req.on('aborted', () => {
      if (!failed) {
        failed = true;
        reject(new Error('request aborted'));
      }
    });
  });
}

export function headerRecord(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare.toLowerCase() === 'localhost') return true;
  const family = isIP(bare);
  if (family === 4) return bare.split('.')[0] === '127';
  // The URL parser normalises spellings such as 0:0:0:0:0:0:0:1 to ::1.
  if (family === 6) return new URL(`http://[${bare}]/`).hostname === '[::1]';
  return false;
}

export function originOf(host: string, port: number): string {
  return isIP(host) === 6 ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}

export function listen(server: http.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/** Stops accepting, then cuts keep-alive and in-flight sockets so nothing holds the event loop open. */
export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      server.closeAllConnections();
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** FastAPI's answer for a path it has no route for. */
export function notFound(ex: Exchange): void {
  ex.json(404, { detail: 'Not Found' });
}

export function methodNotAllowed(ex: Exchange, allow: string): void {
  ex.json(405, { detail: 'Method Not Allowed' }, { allow });
}

export function statusText(status: number): string {
  return http.STATUS_CODES[status] ?? 'Error';
}
