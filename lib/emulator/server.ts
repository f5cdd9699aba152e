/**
 * The emulator's three loopback origins: listening, recording and logging every request, routing it to its
 * endpoint, closing. The API, the polling "cluster" and the result "delivery" host are kept apart so a client
 * that rebuilds the poll URL or sends its key to the image host is caught.
 */
import * as http from 'node:http';
import { CREDITS_PATH, POLL_PATH, SUBMIT_PATHS, type Endpoints } from './endpoints';
import { closeServer, Exchange, headerRecord, listen, methodNotAllowed, notFound, originOf, type Origin } from './http';
import type { RecordedRequest } from './types';

const ORIGINS: readonly Origin[] = ['api', 'cluster', 'delivery'];

export class EmulatorServer {
  readonly urls: Record<Origin, string> = { api: '', cluster: '', delivery: '' };
  /** Every request that was routed, in arrival order; BflEmulator hands it out as `requests`. */
  readonly requests: RecordedRequest[] = [];

  private readonly servers: readonly http.Server[];
  private endpoints: Endpoints | null = null;
  /** Origins a restart took down: the timer that brings each back, then its listen. */
  private readonly down = new Map<Origin, { timer: NodeJS.Timeout | null; listening: Promise<void> | null }>();
  private upWaiters: (() => void)[] = [];
  private closed = false;

  private constructor(
    private readonly host: string,
    private readonly log: ((line: string) => void) | undefined,
  ) {
    this.servers = ORIGINS.map((origin) =>
      http.createServer({ keepAliveTimeout: 5000 }, (req, res) => this.handle(origin, req, res)),
    );
  }

  /** Listens on every origin, or on none: when one port cannot be had, those already open are closed again. */
  static async listen(
    host: string,
    ports: Record<Origin, number>,
    log: ((line: string) => void) | undefined,
  ): Promise<EmulatorServer> {
    const server = new EmulatorServer(host, log);
    try {
      for (const [i, origin] of ORIGINS.entries()) {
        server.urls[origin] = originOf(host, await listen(server.servers[i]!, host, ports[origin]));
      }
    } catch (err) {
      await server.close();
      throw err;
    }
    return server;
  }

  /** Until the endpoints exist (they need every origin's URL) requests are answered 503 and not recorded. */
  serve(endpoints: Endpoints): void {
    this.endpoints = endpoints;
  }

  /**
   * A restart of one origin, as a host that crashed and came back: every connection is cut, connections are
   * refused for `downMs`, then it listens again on the same port. One process keeps the state, so whether tasks
   * survive is the caller's choice.
   */
  restart(origin: Origin, downMs: number): void {
    if (this.closed || this.down.has(origin)) return;
    const server = this.servers[ORIGINS.indexOf(origin)]!;
    const port = Number(new URL(this.urls[origin]).port);
    server.close();
    server.closeAllConnections();
    this.log?.(`restart: ${origin} refuses connections for ${downMs}ms`);
    const state: { timer: NodeJS.Timeout | null; listening: Promise<void> | null } = { timer: null, listening: null };
    state.timer = setTimeout(() => {
      state.timer = null;
      state.listening = listen(server, this.host, port).then(
        () => this.log?.(`restart: ${origin} listens again`),
        (err: unknown) => this.log?.(`restart: ${origin} could not listen again: ${String(err)}`),
      );
      void state.listening.then(() => {
        this.down.delete(origin);
        if (this.down.size === 0) for (const resolve of this.upWaiters.splice(0)) resolve();
      });
    }, downMs);
    this.down.set(origin, state);
  }

  /** Resolves once no origin is down for a restart. */
  whenUp(): Promise<void> {
    if (this.down.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.upWaiters.push(resolve));
  }

  async close(): Promise<void> {
    this.closed = true;
    // An origin coming back from a restart must not start listening after it was closed.
    for (const state of this.down.values()) if (state.timer) clearTimeout(state.timer);
    await Promise.all([...this.down.values()].map((state) => state.listening ?? Promise.resolve()));
    this.down.clear();
    for (const resolve of this.upWaiters.splice(0)) resolve();
    await Promise.all(this.servers.map(closeServer));
  }

  private handle(origin: Origin, req: http.IncomingMessage, res: http.ServerResponse): void {
    const endpoints = this.endpoints;
    if (!endpoints) {
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"detail":"Service Unavailable"}');
      return;
    }
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const record: RecordedRequest = {
      origin,
      method: req.method ?? 'GET',
      path: q === -1 ? url : url.slice(0, q),
      query: q === -1 ? '' : url.slice(q + 1),
      headers: headerRecord(req.headers),
      status: 0,
      at: Date.now(),
    };
    this.requests.push(record);
    const ex = new Exchange(req, res, record);
    const log = this.log;
    if (log) {
      res.once('close', () => {
        // Method, origin, path and status only: headers (the key) and queries (signatures) stay out of logs.
        const outcome = record.status === 0 ? 'dropped' : String(record.status);
        const fault = record.fault === undefined ? '' : ` fault=${record.fault}`;
        log(`${record.method} ${origin} ${record.path} ${outcome} ${Date.now() - record.at}ms${fault}`);
      });
    }
    this.route(endpoints, origin, ex).catch((err: unknown) => {
      if (!ex.answered) ex.json(500, { detail: 'Internal Server Error' });
      log?.(`internal error: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  private async route(endpoints: Endpoints, origin: Origin, ex: Exchange): Promise<void> {
    const { path, method } = ex.record;
    if (origin === 'delivery') return endpoints.download(ex);
    if (path === POLL_PATH) {
      if (method !== 'GET') return methodNotAllowed(ex, 'GET');
      return endpoints.poll(ex, origin === 'cluster');
    }
    const model = origin === 'api' ? SUBMIT_PATHS[path] : undefined;
    if (model) {
      if (method !== 'POST') return methodNotAllowed(ex, 'POST');
      return endpoints.submit(ex, model);
    }
    if (origin === 'api' && path === CREDITS_PATH) {
      if (method !== 'GET') return methodNotAllowed(ex, 'GET');
      return endpoints.credits(ex);
    }
    notFound(ex);
  }
}
