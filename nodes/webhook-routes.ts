/**
 * The package's webhook receiver on Node-RED's HTTP node server (RED.httpNode, so below httpNodeRoot):
 * `POST <httpNodeRoot>bfl/webhook/<config node id>/<job token>` takes BFL's announcements, `GET
 * <httpNodeRoot>bfl/webhook/<config node id>` answers Check key's probe. The routes are added once per runtime;
 * each config node's account adds its receiver while it lives (a redeployed one beside its predecessor until the
 * old account has finished its jobs). The work is lib/engine/webhook-http's.
 */
import type { NodeAPI } from 'node-red';
import type { Request, Response } from 'express';
import { serveWebhook, serveWebhookProbe } from '../lib/engine/webhook-http';
import type { WebhookReceiver } from '../lib/engine/webhooks';

const ROUTE = '/bfl/webhook';

type Receivers = Map<string, WebhookReceiver[]>;

/** One table per HTTP node server: the test helper loads the node module once per flow, with the same server. */
const tables = new WeakMap<object, Receivers>();

/** The receiver's path as BFL must call it, below the webhook URL; undefined when the HTTP node server is off. */
export function webhookPath(RED: NodeAPI, configId: string): string | undefined {
  const root = (RED.settings as { httpNodeRoot?: unknown }).httpNodeRoot;
  if (root === false) return undefined;
  const prefix = typeof root === 'string' ? root.replace(/\/+$/, '') : '';
  const base = prefix === '' || prefix.startsWith('/') ? prefix : `/${prefix}`;
  return `${base}${ROUTE}/${encodeURIComponent(configId)}`;
}

function table(RED: NodeAPI): Receivers | undefined {
  const app = RED.httpNode as unknown as object | undefined;
  if (!app) return undefined;
  let receivers = tables.get(app);
  if (receivers) return receivers;
  const known = new Map<string, WebhookReceiver[]>();
  receivers = known;
  tables.set(app, known);
  const post = (req: Request, res: Response): void => {
    const params = req.params as { config?: string; job?: string };
    serveWebhook(known.get(params.config ?? '') ?? [], params.job, req, res);
  };
  RED.httpNode.post(`${ROUTE}/:config/:job`, post);
  RED.httpNode.post(`${ROUTE}/:config`, post);
  RED.httpNode.get(`${ROUTE}/:config`, (_req: Request, res: Response) => serveWebhookProbe(res));
  return known;
}

/** Adds the routes (once per HTTP node server), so Check key's probe is answered before any receiver exists. */
export function addWebhookRoutes(RED: NodeAPI): void {
  table(RED);
}

/** Serves `receiver` for the config node `configId` until the returned function is called. */
export function addReceiver(RED: NodeAPI, configId: string, receiver: WebhookReceiver): () => void {
  const receivers = table(RED);
  if (!receivers) return () => undefined;
  receivers.set(configId, [receiver, ...(receivers.get(configId) ?? [])]);
  return () => {
    const left = (receivers.get(configId) ?? []).filter((candidate) => candidate !== receiver);
    if (left.length === 0) receivers.delete(configId);
    else receivers.set(configId, left);
  };
}
