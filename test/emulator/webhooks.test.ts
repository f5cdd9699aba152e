import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BflEmulator } from '../../lib/emulator';
import { isCallableWebhook } from '../../lib/emulator/webhooks';
import { basicBody, poll, startEmulator, submitOk } from './helpers';

interface Hook {
  headers: http.IncomingHttpHeaders;
  body: any;
}

/** A loopback receiver that hands out the calls it gets, in order. */
async function receiver(): Promise<{ url: string; next: () => Promise<Hook>; close: () => Promise<void> }> {
  const received: Hook[] = [];
  const waiting: ((hook: Hook) => void)[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const hook = { headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) };
      res.end('ok');
      const waiter = waiting.shift();
      if (waiter) waiter(hook);
      else received.push(hook);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    next: () => {
      const hook = received.shift();
      return hook ? Promise.resolve(hook) : new Promise((resolve) => waiting.push(resolve));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('emulator: webhooks', () => {
  let emu: BflEmulator;
  let hooks: Awaited<ReturnType<typeof receiver>>;

  before(async () => {
    emu = await startEmulator();
    hooks = await receiver();
  });
  afterEach(() => emu.reset());
  after(async () => {
    await emu.close();
    await hooks.close();
  });

  it('posts the result to a loopback webhook_url with X-Webhook-Secret', async () => {
    const submitted = await submitOk(emu, await basicBody({ webhook_url: hooks.url, webhook_secret: 's3cret' }));
    assert.ok(submitted.polling_url, 'the default answer still has a polling_url');
    const hook = await hooks.next();
    assert.equal(hook.headers['x-webhook-secret'], 's3cret');
    assert.match(String(hook.headers['content-type']), /application\/json/);
    assert.equal(hook.body.id, submitted.id);
    assert.equal(hook.body.status, 'Ready');
    assert.match(hook.body.result.sample, /_sample\.jpeg\?/);
  });

  it('sends no secret header when no secret was given, and reports moderation', async () => {
    emu.nextTask({ outcome: 'request-moderated' });
    const submitted = await submitOk(emu, await basicBody({ webhook_url: hooks.url }));
    const hook = await hooks.next();
    assert.equal(hook.headers['x-webhook-secret'], undefined);
    assert.equal(hook.body.id, submitted.id);
    assert.equal(hook.body.status, 'Request Moderated');
    assert.deepEqual(hook.body.details, { 'Moderation Reasons': ['Sexual Content'] });
  });

  it('answers the AsyncWebhookResponse shape when configured', async () => {
    const webhookEmu = await startEmulator({ webhookResponse: true });
    try {
      const submitted = await submitOk(webhookEmu, await basicBody({ webhook_url: hooks.url }));
      assert.deepEqual(Object.keys(submitted).sort(), ['cost', 'id', 'input_mp', 'output_mp', 'status', 'webhook_url']);
      assert.equal(submitted.webhook_url, hooks.url);
      assert.equal(submitted.status, 'Pending');
      // Polling the cluster still works for clients that want to.
      const polled = await poll(`${webhookEmu.clusterUrl}/v1/get_result?id=${submitted.id}`);
      assert.equal(polled.status, 200);
      assert.equal((await hooks.next()).body.id, submitted.id);
      // Without a webhook_url the normal shape is kept.
      const plain = await submitOk(webhookEmu, await basicBody());
      assert.ok(plain.polling_url);
    } finally {
      await webhookEmu.close();
    }
  });

  it('sends the legacy payload style, twice when duplicates are on', async () => {
    const legacy = await startEmulator({ webhookStyle: 'legacy', webhookDuplicates: true });
    try {
      const submitted = await submitOk(legacy, await basicBody({ webhook_url: hooks.url, webhook_secret: 'k' }));
      const [first, second] = [await hooks.next(), await hooks.next()];
      assert.deepEqual(first.body, second.body);
      assert.equal(first.body.task_id, submitted.id);
      assert.equal(first.body.status, 'SUCCESS');
      assert.equal(first.body.id, undefined);
      assert.match(first.body.result.sample, /_sample\.jpeg\?/);
      assert.equal(second.headers['x-webhook-secret'], 'k');

      legacy.nextTask({ outcome: 'error' });
      await submitOk(legacy, await basicBody({ webhook_url: hooks.url }));
      const failed = [await hooks.next(), await hooks.next()];
      assert.equal(failed[0]!.body.status, 'FAILED');
      assert.equal(failed[0]!.body.error, 'Error');
    } finally {
      await legacy.close();
    }
  });

  it("drops, delays, duplicates and forges a task's webhook as its directives say", async () => {
    const dropped = await submitOk(emu, await basicBody({ prompt: '[emulate:webhook=drop]', webhook_url: hooks.url }));
    await emu.waitForTask((t) => t.id === dropped.id && t.status === 'Ready');
    const delayed = await submitOk(
      emu,
      await basicBody({ prompt: '[emulate:webhook=delay=150]', webhook_url: hooks.url, webhook_secret: 'k' }),
    );
    // The dropped task's webhook never comes: the next one to arrive is the delayed task's.
    const late = await hooks.next();
    assert.equal(late.body.id, delayed.id);
    const sent = emu.webhooks.find((w) => w.taskId === delayed.id)!;
    assert.ok(sent.sentAt - emu.tasks.get(delayed.id)!.completedAt! >= 150);

    const forged = await submitOk(
      emu,
      await basicBody({
        prompt: '[emulate:webhook=forge,duplicate,legacy]',
        webhook_url: hooks.url,
        webhook_secret: 'k',
      }),
    );
    const calls = [await hooks.next(), await hooks.next(), await hooks.next()];
    assert.notEqual(calls[0]!.headers['x-webhook-secret'], 'k');
    assert.equal(calls[0]!.body.result.sample, 'https://forged.example/results/forged_sample.jpeg?sig=forged');
    for (const call of calls.slice(1)) {
      assert.equal(call.headers['x-webhook-secret'], 'k');
      assert.equal(call.body.task_id, forged.id);
    }
    assert.deepEqual(
      emu.webhooks.filter((w) => w.taskId === forged.id).map((w) => [w.forged, w.style]),
      [
        [true, 'legacy'],
        [false, 'legacy'],
        [false, 'legacy'],
      ],
    );
    assert.equal(
      emu.webhooks.some((w) => w.taskId === dropped.id),
      false,
    );
  });

  it('keeps the webhook secret out of what it records of a task', async () => {
    const submitted = await submitOk(emu, await basicBody({ webhook_url: hooks.url, webhook_secret: 'k-secret' }));
    await hooks.next();
    assert.equal(emu.tasks.get(submitted.id)!.body.webhook_secret, '<secret>');
  });

  it('only ever calls loopback http URLs', () => {
    assert.equal(isCallableWebhook('http://127.0.0.1:9/x'), true);
    assert.equal(isCallableWebhook('http://localhost:9/x'), true);
    assert.equal(isCallableWebhook('http://[::1]:9/x'), true);
    assert.equal(isCallableWebhook('https://127.0.0.1:9/x'), false);
    assert.equal(isCallableWebhook('http://example.com/x'), false);
    assert.equal(isCallableWebhook('http://10.0.0.1/x'), false);
    assert.equal(isCallableWebhook('not a url'), false);
  });
});
