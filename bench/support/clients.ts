/**
 * The three clients the bench runs side by side, each doing one fill job its own way:
 *
 * - `naive`: the loop of BFL's docs: the body built with JSON.stringify of base64 strings, sent with fetch, then
 *   sleep 0.5 s, poll, repeat; the result read whole. A 429 on submit ends the job (the docs do not retry).
 * - `ai-sdk`: the Vercel AI SDK's provider (@ai-sdk/black-forest-labs) through `generateImage`, as its users
 *   call it (its own retries, 0.5 s polls).
 * - `package`: this package's road exactly as a bfl-fill node calls it: an Account as a bfl-config node makes it
 *   (state directory, queue, cap), and `fill` (images planned, submitted, polled, downloaded, composed).
 *
 * Every client asks for JPEG, the node's default output format.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createBlackForestLabs } from '@ai-sdk/black-forest-labs';
import { generateImage } from 'ai';
import { Account } from '../../lib/engine/account';
import { fill } from '../../lib/engine/fill';
import { isBflError } from '../../lib/errors';

export type ClientName = 'naive' | 'ai-sdk' | 'package';
export const CLIENTS: readonly ClientName[] = ['naive', 'ai-sdk', 'package'];

export interface JobInput {
  image: Buffer;
  mask: Buffer;
  prompt: string;
  /** Package only: paste the result back into the original (the node's default). */
  pasteBack?: boolean;
}

export interface JobRecord {
  ok: boolean;
  /** A 429 reached the caller. */
  rateLimited: boolean;
  error?: string;
  taskId?: string;
  /** When the client saw the task Ready (ms since the epoch). */
  seenAt?: number;
  /** When the job's submit was sent (ms since the epoch). */
  submittedAt?: number;
  /** Bytes of the image the job ended with. */
  resultBytes?: number;
}

export interface Client {
  name: ClientName;
  run(input: JobInput): Promise<JobRecord>;
  close(): Promise<void>;
}

export interface ClientOptions {
  apiUrl: string;
  /** The AI SDK refuses loopback URLs (SSRF protection): it is shown public names that its fetch maps back. */
  clusterUrl: string;
  deliveryUrl: string;
  key: string;
  /** Package only. */
  maxConcurrent?: number;
  maxQueued?: number;
  stateDir?: string;
}

function failed(error: unknown, rateLimited: boolean, taskId?: string): JobRecord {
  return { ok: false, rateLimited, error: error instanceof Error ? error.message : String(error), taskId };
}

const IN_PROGRESS = new Set(['Pending', 'Queued', 'Reasoning', 'Generating']);

function naiveClient(options: ClientOptions): Client {
  const headers = { 'x-key': options.key, accept: 'application/json' };
  return {
    name: 'naive',
    async run(input) {
      const submittedAt = Date.now();
      const body = JSON.stringify({
        prompt: input.prompt,
        image: input.image.toString('base64'),
        mask: input.mask.toString('base64'),
        output_format: 'jpeg',
      });
      const submit = await fetch(`${options.apiUrl}/v1/flux-pro-1.0-fill`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body,
      });
      if (!submit.ok) return failed(`submit answered ${submit.status}`, submit.status === 429);
      const task = (await submit.json()) as { id: string; polling_url: string };
      for (;;) {
        await sleep(500);
        const poll = await fetch(task.polling_url, { headers });
        const state = (await poll.json()) as { status: string; result?: { sample: string } };
        if (state.status === 'Ready') {
          const seenAt = Date.now();
          const image = Buffer.from(await (await fetch(state.result!.sample)).arrayBuffer());
          return { ok: true, rateLimited: false, taskId: task.id, seenAt, submittedAt, resultBytes: image.length };
        }
        if (!IN_PROGRESS.has(state.status)) return failed(state.status, poll.status === 429, task.id);
      }
    },
    close: () => Promise.resolve(),
  };
}

/** Public-looking names for the emulator's origins; nothing resolves them, the fetch below maps them back. */
function aliases(options: ClientOptions): [alias: string, real: string][] {
  return [
    ['https://api.bench.example', options.apiUrl],
    ['https://cluster.bench.example', options.clusterUrl],
    ['https://delivery.bench.example', options.deliveryUrl],
  ];
}

/**
 * The AI SDK's fetch: maps the public names to the emulator's loopback origins and back in JSON answers, and
 * notes for one job the task id and when a poll first answered Ready.
 */
function aliasingFetch(options: ClientOptions, record: JobRecord): typeof fetch {
  const names = aliases(options);
  return async (url, init) => {
    let address = url instanceof Request ? url.url : String(url);
    for (const [alias, real] of names) if (address.startsWith(alias)) address = real + address.slice(alias.length);
    const response = await fetch(address, init);
    if (!(response.headers.get('content-type') ?? '').includes('json')) return response;
    let text = await response.text();
    for (const [alias, real] of names) text = text.replaceAll(real, alias);
    if (address.includes('/v1/get_result')) {
      const state = JSON.parse(text) as { id?: string; status?: string };
      record.taskId ??= state.id;
      if (state.status === 'Ready') record.seenAt ??= Date.now();
    }
    return new Response(text, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

function aiSdkClient(options: ClientOptions): Client {
  return {
    name: 'ai-sdk',
    async run(input) {
      const record: JobRecord = { ok: false, rateLimited: false, submittedAt: Date.now() };
      // A provider per job, so its fetch knows whose requests it sees.
      const provider = createBlackForestLabs({
        apiKey: options.key,
        baseURL: 'https://api.bench.example/v1',
        fetch: aliasingFetch(options, record),
      });
      try {
        const result = await generateImage({
          model: provider.image('flux-pro-1.0-fill'),
          prompt: { text: input.prompt, images: [input.image], mask: input.mask },
          providerOptions: { blackForestLabs: { outputFormat: 'jpeg' } },
        });
        return { ...record, ok: true, resultBytes: result.image.uint8Array.length };
      } catch (error) {
        const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        const rateLimited = /429|Too Many Requests|Too many active/i.test(text);
        return { ...record, ...failed(text, rateLimited, record.taskId) };
      }
    },
    close: () => Promise.resolve(),
  };
}

function packageClient(options: ClientOptions): Client {
  const account = new Account(
    { region: 'custom', baseUrl: options.apiUrl, apiKey: options.key, maxConcurrent: options.maxConcurrent ?? 24 },
    { stateDir: options.stateDir, maxQueued: options.maxQueued },
  );
  return {
    name: 'package',
    async run(input) {
      const record: JobRecord = { ok: false, rateLimited: false };
      try {
        const service = await account.service();
        const outcome = await fill(
          service,
          {
            inputs: { prompt: input.prompt, outputFormat: 'jpeg', pasteBack: input.pasteBack ?? true, timeout: 600 },
            fallbacks: {},
            image: input.image,
            mask: input.mask,
          },
          new AbortController().signal,
          (phase) => {
            if (phase.phase === 'submitting') record.submittedAt ??= Date.now();
            if (phase.phase === 'downloading') record.seenAt ??= Date.now();
          },
        );
        return { ...record, ok: true, taskId: outcome.metadata.id, resultBytes: outcome.image.length };
      } catch (error) {
        const code = isBflError(error) ? error.code : undefined;
        return { ...record, ...failed(error, code === 'BFL_RATE_LIMITED'), error: `${code}: ${String(error)}` };
      }
    },
    close: () => account.close(),
  };
}

export function makeClient(name: ClientName, options: ClientOptions): Client {
  if (name === 'naive') return naiveClient(options);
  if (name === 'ai-sdk') return aiSdkClient(options);
  return packageClient(options);
}
