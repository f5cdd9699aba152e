/**
 * One webhook request, as any Node.js HTTP server (Node-RED's HTTP node server, a test's, a bench's) hands it
 * over: the secret checked before a byte of the body is read (401 otherwise), the body read within a cap (413),
 * parsed (400 when it is no JSON or no task's news) and handed to the receiver, and a quick answer: BFL waits for
 * nothing but this, so the download that follows happens after the answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebhookReceiver, WebhookVerdict } from './webhooks';

/** Far more than any task's news (a result URL and a few numbers); a body this large is not a webhook. */
export const MAX_WEBHOOK_BYTES = 64 * 1024;

function reply(req: IncomingMessage, res: ServerResponse, status: number, body: Record<string, unknown>): void {
  const json = JSON.stringify(body);
  // A body left unread (refused, too large) is not worth reading: the connection closes after the answer.
  const unread = !req.complete;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
    ...(unread ? { connection: 'close' } : {}),
  });
  res.end(json);
  if (unread) res.once('finish', () => req.destroy());
}

/** The body, or 'too-large' once it passes the cap; a body a middleware has parsed already is taken as it is. */
function readBody(req: IncomingMessage): Promise<Buffer | 'too-large' | { parsed: unknown }> {
  const parsed = (req as { body?: unknown }).body;
  if (parsed !== undefined && req.complete) return Promise.resolve({ parsed });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (value: Buffer | 'too-large'): void => {
      if (done) return;
      done = true;
      req.off('data', onData);
      resolve(value);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > MAX_WEBHOOK_BYTES) {
        req.pause();
        finish('too-large');
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => finish(Buffer.concat(chunks)));
    req.once('error', () => finish('too-large'));
    req.once('close', () => finish(Buffer.concat(chunks)));
  });
}

const ANSWERS: Record<WebhookVerdict, number> = { accepted: 200, ignored: 200, malformed: 400 };

/**
 * Serves a POST for `token` (the job's segment of the URL; undefined when the URL has none) to whichever of the
 * `receivers` holds the secret in X-Webhook-Secret: during a redeploy the old account's receiver still serves
 * the jobs it runs beside the new one.
 */
export function serveWebhook(
  receivers: readonly WebhookReceiver[],
  token: string | undefined,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  // A caller that hung up must not turn the answer into an uncaught error.
  res.on('error', () => undefined);
  req.on('error', () => undefined);
  const header = req.headers['x-webhook-secret'];
  const accepting = receivers.filter((candidate) => candidate.accepts(header));
  // Both accounts of a redeploy may hold the same secret: the one whose job has the token hears it.
  const receiver = accepting.find((candidate) => candidate.knows(token)) ?? accepting[0];
  if (!receiver) {
    reply(req, res, 401, { error: 'unauthorized' });
    return;
  }
  const length = Number(req.headers['content-length']);
  if (Number.isFinite(length) && length > MAX_WEBHOOK_BYTES) {
    reply(req, res, 413, { error: 'too large' });
    return;
  }
  void readBody(req).then((body) => {
    if (body === 'too-large') {
      reply(req, res, 413, { error: 'too large' });
      return;
    }
    let json: unknown;
    if (Buffer.isBuffer(body)) {
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch {
        reply(req, res, 400, { error: 'not JSON' });
        return;
      }
    } else {
      json = body.parsed;
    }
    const verdict = receiver.deliver(token, json);
    reply(req, res, ANSWERS[verdict], verdict === 'malformed' ? { error: 'not a task' } : { ok: true });
  });
}

/** The answer to a GET of the receiver: proof, for Check key, that the URL reaches this Node-RED. */
export function serveWebhookProbe(res: ServerResponse): void {
  const json = JSON.stringify({ receiver: 'bfl-config' });
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}
