/**
 * The submit body carries two base64 images, often tens of megabytes as text. Building it with
 * JSON.stringify would stall the event loop and hold several copies at once, so it is streamed in small
 * chunks instead, with an exact Content-Length computed up front.
 */
import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { modelOf, modelRequestFields } from './models';
import type { FillParameters } from './types';

/** Bytes of input per base64 chunk: a multiple of 3 so chunks concatenate into valid base64. */
const CHUNK_INPUT_BYTES = 3 * 16 * 1024;
/**
 * On loopback or a fast link the socket takes every chunk at once, so without a break the whole body would be
 * encoded in one turn of the event loop (about 80 ms for a 12 MP PNG): other flows get a turn this often.
 */
const TURN_MS = 4;

export interface FillImages {
  image: Buffer;
  /** Absent for a model that takes no mask (expand). */
  mask?: Buffer;
  /** The size of the picture the task makes, for the account to learn how long such tasks take. */
  width?: number;
  height?: number;
}

/** Where BFL announces the task's end: the receiver's URL for this task, and the secret it sends back. */
export interface WebhookRequest {
  url: string;
  secret: string;
}

/** The JSON fields of a request other than the images, with the API's names and JSON types. */
export function fillRequestFields(
  parameters: FillParameters,
  webhook?: WebhookRequest,
): Record<string, string | number | boolean> {
  const fields: Record<string, string | number | boolean> = {
    ...modelRequestFields(modelOf(parameters.model), parameters.modelFields),
    prompt: parameters.prompt,
    steps: parameters.steps,
    guidance: parameters.guidance,
    output_format: parameters.outputFormat,
    safety_tolerance: parameters.safetyTolerance,
    prompt_upsampling: parameters.promptUpsampling,
  };
  if (parameters.seed !== undefined) fields.seed = parameters.seed;
  if (webhook) {
    fields.webhook_url = webhook.url;
    fields.webhook_secret = webhook.secret;
  }
  return fields;
}

function base64Length(bytes: number): number {
  return 4 * Math.ceil(bytes / 3);
}

function* base64Chunks(buffer: Buffer): Generator<Buffer> {
  for (let start = 0; start < buffer.length; start += CHUNK_INPUT_BYTES) {
    const text = buffer.toString('base64', start, Math.min(buffer.length, start + CHUNK_INPUT_BYTES));
    yield Buffer.from(text, 'latin1');
  }
}

export interface StreamedBody {
  contentLength: number;
  /**
   * A fresh stream each call, so a retried request can send the body again. `onStart` is called when its first
   * chunk is read: undici reads the body only once the connection is open and the headers are written, so from
   * then on the request may reach the server.
   */
  chunks: (onStart?: () => void) => Readable;
}

export function fillRequestBody(
  parameters: FillParameters,
  images: FillImages,
  webhook?: WebhookRequest,
): StreamedBody {
  const { mask } = images;
  const head = '{"image":"';
  const middle = mask ? '","mask":"' : '';
  // The remaining fields follow the images; stringify them once (they are small) and splice off the braces.
  const tail = `",${JSON.stringify(fillRequestFields(parameters, webhook)).slice(1)}`;
  const contentLength =
    Buffer.byteLength(head) +
    base64Length(images.image.length) +
    Buffer.byteLength(middle) +
    (mask ? base64Length(mask.length) : 0) +
    Buffer.byteLength(tail);
  return {
    contentLength,
    chunks: (onStart) =>
      Readable.from(
        (async function* () {
          onStart?.();
          let turnStart = performance.now();
          // Breaks for other flows between chunks of base64: raw parts pass as they are.
          const sliced = async function* (chunks: Iterable<Buffer>) {
            for (const chunk of chunks) {
              yield chunk;
              if (performance.now() - turnStart < TURN_MS) continue;
              await nextTurn();
              turnStart = performance.now();
            }
          };
          yield Buffer.from(head);
          yield* sliced(base64Chunks(images.image));
          if (mask) {
            yield Buffer.from(middle);
            yield* sliced(base64Chunks(mask));
          }
          yield Buffer.from(tail);
        })(),
        { objectMode: false },
      ),
  };
}
