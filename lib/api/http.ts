/** Small helpers around undici responses: bounded body reads and header access. */
import type { Dispatcher } from 'undici';

export type ResponseHeaders = Dispatcher.ResponseData['headers'];
export type ResponseBody = Dispatcher.ResponseData['body'];

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`response body larger than ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

export function headerValue(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Reads a body into one Buffer, refusing more than `limit` bytes (checked before and while reading). */
export async function readBody(body: ResponseBody, headers: ResponseHeaders, limit: number): Promise<Buffer> {
  const declared = Number(headerValue(headers, 'content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await body.dump();
    throw new BodyTooLargeError(limit);
  }
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    length += buffer.length;
    if (length > limit) {
      body.destroy();
      throw new BodyTooLargeError(limit);
    }
    chunks.push(buffer);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
}

/** Parses a JSON body; anything unparseable comes back as its text so error messages can quote it. */
export async function readJson(body: ResponseBody, headers: ResponseHeaders, limit: number): Promise<unknown> {
  const text = (await readBody(body, headers, limit)).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text.slice(0, 300);
  }
}

/** Releases the socket of a response whose body is not needed. */
export async function discard(body: ResponseBody): Promise<void> {
  try {
    await body.dump();
  } catch {
    // The connection is going away anyway; nothing to report.
  }
}
