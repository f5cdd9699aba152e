/** A loopback HTTP server that serves one WebhookReceiver the way Node-RED's HTTP node server does. */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveWebhook, serveWebhookProbe } from '../../lib/engine/webhook-http';
import { WebhookReceiver } from '../../lib/engine/webhooks';

export const RECEIVER_PATH = '/bfl/webhook/cfg';

export interface WebhookServer {
  receiver: WebhookReceiver;
  /** The receiver's URL (append a job's token as a path segment). */
  url: string;
  /** Posts `body` (JSON unless a Buffer or string) with `secret` and resolves with the status and body. */
  post(
    path: string,
    body: unknown,
    secret: string | undefined,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

export async function startWebhookServer(secret: string): Promise<WebhookServer> {
  // Made once the port is known: its URL names it.
  const served: { receiver?: WebhookReceiver } = {};
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (!path.startsWith(RECEIVER_PATH)) {
      res.writeHead(404).end();
      return;
    }
    const token = path.slice(RECEIVER_PATH.length + 1) || undefined;
    if (req.method === 'GET') serveWebhookProbe(res);
    else serveWebhook(served.receiver ? [served.receiver] : [], token, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  const receiver = new WebhookReceiver({ url: `${origin}${RECEIVER_PATH}`, secret });
  served.receiver = receiver;
  return {
    receiver,
    url: receiver.url,
    post: (path, body, given, headers = {}) =>
      new Promise((resolve, reject) => {
        const payload = Buffer.isBuffer(body)
          ? body
          : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
        const req = http.request(`${origin}${path}`, {
          method: 'POST',
          agent: false,
          headers: {
            'content-type': 'application/json',
            'content-length': payload.length,
            ...(given === undefined ? {} : { 'x-webhook-secret': given }),
            ...headers,
          },
        });
        req.on('response', (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        });
        // The receiver may close the connection while a refused body is still going out.
        req.on('error', reject);
        req.end(payload);
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
