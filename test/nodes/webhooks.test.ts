/**
 * bfl-config with a webhook URL, in a flow: the receiver on Node-RED's HTTP node server, reached by the built-in
 * emulator over real HTTP, the generated secret kept as a credential, and Check key's probe of the receiver URL.
 */
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestListener } from 'node:http';
import { runningLocalEmulator } from '../../lib/engine/local-emulator';
import { gradientPng, rectangleMask } from '../support/emulator';
import type { NodeAPI } from 'node-red';
import { webhookPath } from '../../nodes/webhook-routes';
import { configNode, expandNode, fillNode, flow, helper, nextOutput, node, settings, unloadFlows } from './flow';

helper.init(require.resolve('node-red'));

/** Node-RED's HTTP node server as the test helper builds it (an express app it never listens with). */
let httpNode: RequestListener | undefined;
const captureHttpNode = (red: unknown): void => {
  httpNode = (red as { httpNode: RequestListener }).httpNode;
};

describe('bfl-config webhooks in a flow', function () {
  let server: http.Server;
  let webhookUrl: string;
  let picture: Buffer;
  let mask: Buffer;

  before(async () => {
    server = http.createServer((req, res) => (httpNode ? httpNode(req, res) : res.writeHead(503).end()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    webhookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    picture = await gradientPng(32, 24);
    mask = await rectangleMask(32, 24, { left: 4, top: 4, width: 8, height: 8 });
  });
  beforeEach(() =>
    settings({ bflConfigPollInterval: 10, bflConfigRetryDelay: 5, bflConfigEmulator: { processingMs: 30 } }),
  );
  afterEach(async () => {
    await unloadFlows();
    settings({});
  });
  after(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );

  const load = (config: Record<string, unknown>, credentials: Record<string, string> = {}) =>
    helper.load([captureHttpNode, configNode, fillNode], flow({ outputFormat: 'png' }, config), { cfg: credentials });
  const polls = async () =>
    (await runningLocalEmulator())!.requests.filter((request) => request.path === '/v1/get_result').length;

  it('finishes a fill on its webhook without a poll, and the secret appears nowhere in the msg', async () => {
    const secret = 'whsec-flow-test-aaaabbbbccccdddd';
    await load({ region: 'emulator', webhookUrl }, { webhookSecret: secret });
    const emulator = (await runningLocalEmulator())!;
    const answered = emulator.waitForWebhook();
    const output = nextOutput();
    node('fill').receive({ payload: picture, mask, topic: 't' });
    const msg = await output;
    await answered;
    assert.equal(await polls(), 0);
    assert.equal(emulator.webhooks.length, 1);
    assert.equal(emulator.webhooks[0]!.answer, 200);
    const task = [...emulator.tasks.values()][0]!;
    assert.match(String(task.body.webhook_url), new RegExp(`^${webhookUrl}/bfl/webhook/cfg/[0-9a-f]{32}$`));
    assert.equal((msg.bfl as { id: string }).id, task.id);
    assert.doesNotMatch(JSON.stringify(msg), new RegExp(secret));
  });

  it('finishes an expand on the same receiver without a poll', async () => {
    await helper.load(
      [captureHttpNode, configNode, expandNode],
      flow({ type: 'bfl-expand', outputFormat: 'png', left: 32 }, { region: 'emulator', webhookUrl }),
      { cfg: { webhookSecret: 'whsec-flow-test-expand-eeeeffff' } },
    );
    const emulator = (await runningLocalEmulator())!;
    const output = nextOutput();
    node('fill').receive({ payload: await gradientPng(256, 256) });
    const msg = await output;
    assert.equal(await polls(), 0);
    assert.equal(emulator.webhooks.length, 1);
    const task = [...emulator.tasks.values()][0]!;
    assert.equal((msg.bfl as { id: string }).id, task.id);
    assert.match(String(task.body.webhook_url), new RegExp(`^${webhookUrl}/bfl/webhook/cfg/`));
  });

  it('makes a strong secret and keeps it as a credential when the node has none', async () => {
    await load({ region: 'emulator', webhookUrl });
    const credentials = (node('cfg') as unknown as { credentials: { webhookSecret?: string } }).credentials;
    assert.match(credentials.webhookSecret ?? '', /^[A-Za-z0-9_-]{43}$/);
    const output = nextOutput();
    node('fill').receive({ payload: picture, mask });
    await output;
    assert.equal(await polls(), 0);
  });

  it('falls back to polling when the webhook is lost', async () => {
    settings({
      bflConfigPollInterval: 10,
      bflConfigRetryDelay: 5,
      bflConfigWebhookFallback: 100,
      bflConfigEmulator: { processingMs: 30 },
    });
    await load({ region: 'emulator', webhookUrl });
    const output = nextOutput();
    node('fill').receive({ payload: picture, mask, prompt: 'x [emulate:webhook=drop]' });
    await output;
    assert.ok((await polls()) >= 1);
  });

  it('polls as before when the webhook URL is empty', async () => {
    await load({ region: 'emulator', webhookUrl: '' });
    const output = nextOutput();
    node('fill').receive({ payload: picture, mask });
    await output;
    const emulator = (await runningLocalEmulator())!;
    assert.ok((await polls()) >= 1);
    assert.equal(emulator.webhooks.length, 0);
    assert.equal([...emulator.tasks.values()][0]!.body.webhook_url, undefined);
  });

  it('reports a webhook URL that is no http(s) URL when the flow starts', async () => {
    await load({ region: 'emulator', webhookUrl: 'ftp://example.com' });
    const output = nextOutput();
    node('fill').receive({ payload: picture, mask });
    await assert.rejects(output, (error: { code?: string; message: string }) => {
      assert.equal(error.code, 'BFL_INVALID_INPUT');
      assert.match(error.message, /webhook URL/i);
      return true;
    });
  });

  it('keeps waiting for the webhook of a job handed over at a redeploy of the account and the fill node', async () => {
    const secret = 'whsec-flow-redeploy-0000111122223333';
    await load({ region: 'emulator', webhookUrl }, { webhookSecret: secret });
    node('fill').receive({ payload: picture, mask, topic: 'kept', prompt: 'x [emulate:webhook=delay=300]' });
    const emulator = (await runningLocalEmulator())!;
    const answered = emulator.waitForWebhook();
    await emulator.waitForTask();
    // Both changed: the old account runs the job on, its receiver still listening beside the new one's.
    await helper.setFlows(
      flow({ outputFormat: 'png', name: 'changed' }, { region: 'emulator', webhookUrl, name: 'changed' }),
      'full',
      { cfg: { webhookSecret: secret } },
    );
    const msg = await nextOutput();
    assert.equal(msg.topic, 'kept');
    assert.equal(await polls(), 0);
    await answered;
    assert.deepEqual(
      emulator.webhooks.map((w) => w.answer),
      [200],
    );
  });

  it('Check key says whether the receiver URL answers from this Node-RED', async () => {
    // A config node not deployed yet (none with a webhook URL runs): the receiver URL answers all the same.
    await load({ region: 'emulator' });
    const reachable = await helper
      .request()
      .post('/bfl-config/check-key')
      .send({ id: 'cfg', region: 'emulator', webhookUrl })
      .expect(200);
    assert.deepEqual(reachable.body.webhook, {
      url: `${webhookUrl}/bfl/webhook/cfg`,
      reachable: true,
      status: 200,
    });
    const wrong = await helper
      .request()
      .post('/bfl-config/check-key')
      .send({ id: 'cfg', region: 'emulator', webhookUrl: `${webhookUrl}/elsewhere` })
      .expect(200);
    assert.equal(wrong.body.webhook.reachable, false);
    assert.equal(wrong.body.webhook.status, 404);
  });
});

describe('the webhook receiver path', () => {
  const path = (httpNodeRoot: unknown) => webhookPath({ settings: { httpNodeRoot } } as unknown as NodeAPI, 'a1.b2');

  it('lies below httpNodeRoot, as the http in nodes do', () => {
    assert.equal(path(undefined), '/bfl/webhook/a1.b2');
    assert.equal(path('/'), '/bfl/webhook/a1.b2');
    assert.equal(path('/api/'), '/api/bfl/webhook/a1.b2');
    assert.equal(path('api'), '/api/bfl/webhook/a1.b2');
  });

  it('is none when the HTTP node server is off', () => {
    assert.equal(path(false), undefined);
  });
});
