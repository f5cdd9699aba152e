import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as path from 'node:path';
import sharp from 'sharp';
import { request } from 'undici';
import { BflEmulator, DEFAULT_EMULATOR_KEY, type EmulatorOptions } from '../../lib/emulator';

export const KEY = DEFAULT_EMULATOR_KEY;

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json: any;
}

export async function http(
  url: string,
  init: { method?: 'GET' | 'POST' | 'HEAD' | 'PUT'; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Reply> {
  const res = await request(url, { method: init.method ?? 'GET', headers: init.headers, body: init.body });
  const body = Buffer.from(await res.body.arrayBuffer());
  let json: unknown = undefined;
  if (String(res.headers['content-type'] ?? '').includes('json')) json = JSON.parse(body.toString('utf8'));
  return { status: res.statusCode, headers: res.headers, body, json };
}

export function submit(
  emu: BflEmulator,
  body: unknown,
  options: { key?: string | null; headers?: Record<string, string>; raw?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(options.headers ?? {}) };
  const key = options.key === undefined ? KEY : options.key;
  if (key !== null) headers['x-key'] = key;
  return http(`${emu.apiUrl}/v1/flux-pro-1.0-fill`, {
    method: 'POST',
    headers,
    body: options.raw ?? JSON.stringify(body),
  });
}

export function poll(url: string, key: string | null = KEY): Promise<Reply> {
  return http(url, { headers: key === null ? {} : { 'x-key': key } });
}

/** Polls until the status is no longer an in-progress word; short interval, bounded. */
export async function pollUntilDone(url: string, key: string | null = KEY, timeoutMs = 5000): Promise<Reply> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reply = await poll(url, key);
    if (reply.status !== 200 && reply.status !== 404)
      throw new Error(`poll answered ${reply.status}: ${reply.body.toString()}`);
    const status = reply.json?.status;
    if (!['Pending', 'Reasoning', 'Generating'].includes(status)) return reply;
    if (Date.now() > deadline) throw new Error(`task still ${status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<BflEmulator> {
  return BflEmulator.start({ processingMs: 20, ...options });
}

/** A deterministic colourful RGB image (every pixel distinct enough that a fill is visible). */
export function gradientRaw(width: number, height: number): Buffer {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = (x * 7 + y * 3) % 256;
      data[i + 1] = (x * 13 + y * 5 + 40) % 256;
      data[i + 2] = (x * 3 + y * 11 + 90) % 256;
    }
  }
  return data;
}

export async function gradientPng(width: number, height: number): Promise<Buffer> {
  return sharp(gradientRaw(width, height), { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/** Mask value per pixel from a function; PNG greyscale. */
export async function maskPng(width: number, height: number, value: (x: number, y: number) => number): Promise<Buffer> {
  const data = Buffer.alloc(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = value(x, y);
  return sharp(data, { raw: { width, height, channels: 1 } })
    .png()
    .toBuffer();
}

/** RGBA PNG whose alpha comes from a function (0 = transparent = fill). */
export async function alphaPng(
  width: number,
  height: number,
  alpha: (x: number, y: number) => number,
): Promise<Buffer> {
  const rgb = gradientRaw(width, height);
  const data = Buffer.alloc(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    data[p * 4] = rgb[p * 3]!;
    data[p * 4 + 1] = rgb[p * 3 + 1]!;
    data[p * 4 + 2] = rgb[p * 3 + 2]!;
    data[p * 4 + 3] = alpha(p % width, Math.floor(p / width));
  }
  return sharp(data, { raw: { width, height, channels: 4 } })
    .png()
    .toBuffer();
}

export const b64 = (data: Buffer) => data.toString('base64');

/** A minimal valid submit body: 64x48 gradient with its right half masked. */
export async function basicBody(extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  return {
    image: b64(await gradientPng(64, 48)),
    mask: b64(await maskPng(64, 48, (x) => (x >= 32 ? 255 : 0))),
    prompt: 'a red balloon',
    ...extra,
  };
}

/** Submits, expecting 200, and returns the submit JSON. */
export async function submitOk(emu: BflEmulator, body: Record<string, unknown>, key = KEY): Promise<any> {
  const reply = await submit(emu, body, { key });
  if (reply.status !== 200) throw new Error(`submit answered ${reply.status}: ${reply.body.toString()}`);
  return reply.json;
}

export const ROOT = path.resolve(__dirname, '../..');

/** Starts a TypeScript file in a fresh node process (through tsx), from the package root. */
export function spawnTs(file: string, args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--require', 'tsx/cjs', file, ...args], { cwd: ROOT, stdio: 'pipe' });
}

/** Runs a TypeScript file to its end; fails if it has not exited by the deadline. */
export function runTs(
  file: string,
  args: string[],
  deadlineMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawnTs(file, args);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`process did not exit within ${deadlineMs} ms; stdout: ${stdout}; stderr: ${stderr}`));
    }, deadlineMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
