/**
 * What the BflClient tests share: the emulator on 127.0.0.1, clients with fast retries, small images, and a tiny
 * HTTP server for answers the emulator cannot give (a body that breaks off, a 200 without a field).
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { BflClient, type BflClientOptions } from '../../lib/api/client';
import { customEndpoint, emulatorEndpoint } from '../../lib/api/regions';
import type { FillImages } from '../../lib/api/request-body';
import { FILL_PARAMETERS } from '../support/emulator';
import { BflEmulator, type TaskScenario } from '../../lib/emulator';
import type { BflError } from '../../lib/errors';

export const KEY = 'bfl_client_test_key_01';

/** Retries in a few milliseconds; 3 attempts for transient failures, 5 while rate limited. */
export const FAST_RETRY = { baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 3, maxRateLimitedAttempts: 5 };

export const PARAMETERS = FILL_PARAMETERS;

export const live = (): AbortSignal => new AbortController().signal;

/** A grey 64x48 PNG and a mask of its size with a white square (the part to fill). */
export async function smallImages(maskSize = { width: 64, height: 48 }): Promise<FillImages> {
  const image = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#808080' } })
    .png()
    .toBuffer();
  const white = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#ffffff' } })
    .png()
    .toBuffer();
  const mask = await sharp({ create: { ...maskSize, channels: 3, background: '#000000' } })
    .composite([{ input: white, left: 0, top: 0 }])
    .png()
    .toBuffer();
  return { image, mask };
}

export function startEmulator(): Promise<BflEmulator> {
  return BflEmulator.start({ host: '127.0.0.1', port: 0, processingMs: 20, keys: { [KEY]: 1000 } });
}

/** Clients made here are closed by closeClients(). */
const open: BflClient[] = [];

/** A client of the emulator, or of the API at `baseUrl` (a tiny server); options override the fast defaults. */
export function clientOf(api: BflEmulator | string, options: Partial<BflClientOptions> = {}): BflClient {
  const endpoint = typeof api === 'string' ? customEndpoint(api) : emulatorEndpoint(api);
  const client = new BflClient({ endpoint, apiKey: KEY, retry: FAST_RETRY, ...options });
  open.push(client);
  return client;
}

/** The BflError a promise rejects with; fails the test when it resolves or rejects with something else. */
export async function failureOf(promise: Promise<unknown>): Promise<BflError> {
  const error = await promise.then(
    () => assert.fail('expected a failure'),
    (reason: unknown) => reason,
  );
  assert.equal((error as Error).name, 'BflError', `not a BflError: ${String(error)}`);
  return error as BflError;
}

/** Submits through the emulator and waits (on the emulator's event, not a clock) until the task is Ready. */
export async function readyTask(
  emulator: BflEmulator,
  images: FillImages,
  scenario: TaskScenario = {},
): Promise<{ id: string; pollingUrl: string; sampleUrl: string }> {
  emulator.nextTask(scenario);
  const task = await clientOf(emulator).submitFill(PARAMETERS, images, live());
  await emulator.waitForTask((t) => t.id === task.id && t.status === 'Ready');
  const outcome = await clientOf(emulator).poll(task.id, task.pollingUrl, live());
  assert.equal(outcome.kind, 'ready');
  return {
    id: task.id,
    pollingUrl: task.pollingUrl,
    sampleUrl: outcome.kind === 'ready' ? outcome.result.sampleUrl : '',
  };
}

export interface TinyServer {
  url: string;
  /** Every request so far, in order, with its body. */
  seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[];
  close(): Promise<void>;
}

/**
 * An HTTP server on 127.0.0.1 that hands each request, once its body has arrived, to `answer` with its 1-based
 * number. `port` 0 picks a free port.
 */
export async function tinyServer(
  answer: (res: ServerResponse, n: number, req: IncomingMessage) => void,
  port = 0,
): Promise<TinyServer> {
  const seen: TinyServer['seen'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      answer(res, seen.length, req);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: actual } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${actual}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Declares `declared` bytes, sends `partial`, then drops the connection: a body that breaks off. */
export function breakOff(res: ServerResponse, status: number, partial: string, declared = 1000): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': declared });
  res.write(partial, () => res.destroy());
}

/** A port nothing listens on (yet): connections to it are refused. */
export async function freePort(): Promise<number> {
  const probe = await tinyServer(() => undefined);
  await probe.close();
  return Number(new URL(probe.url).port);
}

export interface Fixture {
  emulator: BflEmulator;
  images: FillImages;
  /** Starts a tiny server that is closed after the test. */
  serve(...args: Parameters<typeof tinyServer>): Promise<TinyServer>;
}

/**
 * Registers the hooks of a describe block: one emulator for the block, reset before each test; the test's
 * clients and tiny servers closed after it.
 */
export function useFixture(): Fixture {
  const servers: TinyServer[] = [];
  const fixture = {
    serve: async (...args: Parameters<typeof tinyServer>) => {
      const server = await tinyServer(...args);
      servers.push(server);
      return server;
    },
  } as Fixture;
  before(async () => {
    fixture.emulator = await startEmulator();
    fixture.images = await smallImages();
  });
  beforeEach(() => fixture.emulator.reset());
  afterEach(async () => {
    await Promise.all(open.splice(0).map((client) => client.close()));
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  after(() => fixture.emulator.close());
  return fixture;
}
