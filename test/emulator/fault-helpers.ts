/** Helpers for the fault tests: one request to each endpoint, read the way a client sees it, however it ends. */
import * as http from 'node:http';
import { Agent, request } from 'undici';
import type { BflEmulator, FaultTarget } from '../../lib/emulator';
import { basicBody, KEY, pollUntilDone, submitOk } from './helpers';

/** What a client saw: a status line and as much of the body as came, or no answer at all. */
export type Seen =
  | {
      kind: 'answer';
      status: number;
      headers: Record<string, string | string[] | undefined>;
      body: Buffer;
      /** Set when the body broke off; `body` holds what came before. */
      bodyError: NodeJS.ErrnoException | null;
    }
  | { kind: 'no-answer'; error: NodeJS.ErrnoException };

export interface Call {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
}

function errnoOf(error: unknown): NodeJS.ErrnoException {
  return error instanceof Error ? error : new Error(String(error));
}

/** The error code a client sees, looking inside undici's wrapper (UND_ERR_SOCKET wraps ECONNRESET and the like). */
export function codeOf(error: NodeJS.ErrnoException): string | undefined {
  const cause = (error as { cause?: NodeJS.ErrnoException }).cause;
  return cause?.code ?? error.code;
}

/** Sends one request on its own connection (so a fault's reset cannot spill onto the next test's request). */
export async function see(call: Call, signal?: AbortSignal): Promise<Seen> {
  const dispatcher = new Agent({ pipelining: 0 });
  try {
    let res;
    try {
      res = await request(call.url, {
        method: call.method,
        headers: call.headers,
        body: call.body,
        dispatcher,
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      return { kind: 'no-answer', error: errnoOf(error) };
    }
    const chunks: Buffer[] = [];
    let bodyError: NodeJS.ErrnoException | null = null;
    try {
      for await (const chunk of res.body) chunks.push(chunk as Buffer);
    } catch (error) {
      bodyError = errnoOf(error);
    }
    return { kind: 'answer', status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks), bodyError };
  } finally {
    await dispatcher.destroy();
  }
}

/** The answer, or a failure naming what came instead. */
export function answer(seen: Seen): Extract<Seen, { kind: 'answer' }> {
  if (seen.kind !== 'answer') throw new Error(`expected an answer, got no answer: ${seen.error.message}`);
  return seen;
}

export function json(seen: Seen): any {
  return JSON.parse(answer(seen).body.toString('utf8'));
}

export async function submitCall(emu: BflEmulator, extra: Record<string, unknown> = {}): Promise<Call> {
  return {
    url: `${emu.apiUrl}/v1/flux-pro-1.0-fill`,
    method: 'POST',
    headers: { 'x-key': KEY, 'content-type': 'application/json' },
    body: JSON.stringify(await basicBody(extra)),
  };
}

export function pollCall(pollingUrl: string): Call {
  return { url: pollingUrl, method: 'GET', headers: { 'x-key': KEY } };
}

export function creditsCall(emu: BflEmulator): Call {
  return { url: `${emu.apiUrl}/v1/credits`, method: 'GET', headers: { 'x-key': KEY } };
}

export function downloadCall(sampleUrl: string): Call {
  return { url: sampleUrl, method: 'GET', headers: {} };
}

/** A task that is Ready, with its polling URL and its current signed result URL. */
export async function readyTask(
  emu: BflEmulator,
  extra: Record<string, unknown> = {},
): Promise<{ id: string; pollingUrl: string; sample: string }> {
  const submitted = await submitOk(emu, await basicBody({ output_format: 'png', ...extra }));
  const done = await pollUntilDone(submitted.polling_url);
  return { id: submitted.id, pollingUrl: submitted.polling_url, sample: done.json.result.sample };
}

/** The request a test sends to `target`, with any task it needs already Ready. */
export async function callTo(emu: BflEmulator, target: FaultTarget): Promise<Call> {
  switch (target) {
    case 'submit':
      return submitCall(emu);
    case 'credits':
      return creditsCall(emu);
    case 'poll':
      return pollCall((await readyTask(emu)).pollingUrl);
    case 'download':
      return downloadCall((await readyTask(emu)).sample);
  }
}

/**
 * One keep-alive GET through node:http that resolves with the answer and, separately, with the moment its
 * connection closes: a fault that resets after a whole answer shows only in the second.
 */
export function getKeepingSocket(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: Buffer; closed: Promise<void>; agent: http.Agent }> {
  const agent = new http.Agent({ keepAlive: true });
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers }, (res) => {
      const socket = res.socket;
      const closed = new Promise<void>((done) => socket.once('close', () => done()));
      // A reset after the whole answer is an error on an idle socket; it is what this helper observes.
      socket.on('error', () => undefined);
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), closed, agent }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** Resolves with the first log line that matches, already written or still to come. */
export class LogWatch {
  readonly lines: string[] = [];
  private waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];

  readonly log = (line: string): void => {
    this.lines.push(line);
    this.waiters = this.waiters.filter((w) => {
      if (!w.pattern.test(line)) return true;
      w.resolve(line);
      return false;
    });
  };

  next(pattern: RegExp): Promise<string> {
    return new Promise((resolve) => this.waiters.push({ pattern, resolve }));
  }
}
