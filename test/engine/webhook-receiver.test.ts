import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_WEBHOOK_BYTES, serveWebhook } from '../../lib/engine/webhook-http';
import {
  WebhookReceiver,
  generateWebhookSecret,
  type WebhookExpectation,
  type WebhookNews,
} from '../../lib/engine/webhooks';
import { readWebhookPayload } from '../../lib/api/webhook-payload';
import { RECEIVER_PATH, startWebhookServer, type WebhookServer } from '../support/webhook-server';

const SECRET = 'whsec-receiver-test-fedcba9876543210';
const READY = (id: string) => ({ id, status: 'Ready', result: { sample: 'https://delivery.eu1.bfl.ai/r.png?sig=1' } });

/** Whether the expectation has heard anything by the time every pending callback has run. */
async function heard(expectation: WebhookExpectation): Promise<WebhookNews | undefined> {
  const none = new Promise<undefined>((resolve) => setImmediate(() => resolve(undefined)));
  return Promise.race([expectation.news, none]);
}

describe('webhook receiver over HTTP', () => {
  let hooks: WebhookServer;
  let expectation: WebhookExpectation;
  let path: string;

  before(async () => {
    hooks = await startWebhookServer(SECRET);
  });
  beforeEach(() => {
    expectation = hooks.receiver.expect();
    expectation.forTask('task-1');
    path = `${RECEIVER_PATH}/${expectation.token}`;
  });
  afterEach(() => expectation.dispose());
  after(() => hooks.close());

  it('takes a webhook with the right secret for the task its job submitted', async () => {
    const answer = await hooks.post(path, READY('task-1'), SECRET);
    assert.equal(answer.status, 200);
    const news = await expectation.news;
    assert.equal(news.kind, 'ready');
    assert.equal(news.kind === 'ready' && news.result.sampleUrl, 'https://delivery.eu1.bfl.ai/r.png?sig=1');
  });

  it('answers 401 to a missing or wrong secret, and the body changes nothing', async () => {
    assert.equal((await hooks.post(path, READY('task-1'), undefined)).status, 401);
    assert.equal((await hooks.post(path, READY('task-1'), `${SECRET}x`)).status, 401);
    assert.equal((await hooks.post(path, READY('task-1'), SECRET.slice(0, -1))).status, 401);
    assert.equal((await hooks.post(path, READY('task-1'), '')).status, 401);
    assert.equal(await heard(expectation), undefined);
  });

  it('answers 400 to bodies that are no task news, and they change nothing', async () => {
    for (const body of [
      '{not json',
      '[]',
      '"Ready"',
      { status: 'Ready' },
      { id: 'task-1' },
      { id: 'task-1', status: 'Ready' },
    ]) {
      assert.equal((await hooks.post(path, body, SECRET)).status, 400, JSON.stringify(body));
    }
    assert.equal(await heard(expectation), undefined);
  });

  it('refuses a body over the cap with 413', async () => {
    const big = { ...READY('task-1'), padding: 'x'.repeat(MAX_WEBHOOK_BYTES) };
    assert.equal((await hooks.post(path, big, SECRET)).status, 413);
    assert.equal(await heard(expectation), undefined);
  });

  it('stops reading a body sent without a length once it passes the cap, and answers 413', async () => {
    const { port } = new URL(hooks.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(`http://127.0.0.1:${port}${path}`, {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'x-webhook-secret': SECRET },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('{"id":"task-1","status":"Ready","padding":"');
      // Chunked, in pieces: the receiver cannot know the size up front.
      for (let sent = 0; sent <= MAX_WEBHOOK_BYTES; sent += 8192) req.write('x'.repeat(8192));
    });
    assert.equal(status, 413);
    assert.equal(await heard(expectation), undefined);
  });

  it('ignores, with a 2xx, webhooks for unknown tokens, other tasks and in-progress news', async () => {
    assert.equal((await hooks.post(`${RECEIVER_PATH}/${'0'.repeat(32)}`, READY('task-1'), SECRET)).status, 200);
    assert.equal((await hooks.post(RECEIVER_PATH, READY('task-1'), SECRET)).status, 200);
    assert.equal((await hooks.post(path, READY('task-2'), SECRET)).status, 200);
    assert.equal((await hooks.post(path, { id: 'task-1', status: 'Pending' }, SECRET)).status, 200);
    assert.equal(await heard(expectation), undefined);
  });

  it('keeps the first terminal news and ignores duplicates and later contradictions', async () => {
    assert.equal((await hooks.post(path, READY('task-1'), SECRET)).status, 200);
    assert.equal((await hooks.post(path, { id: 'task-1', status: 'Error' }, SECRET)).status, 200);
    assert.equal((await expectation.news).kind, 'ready');
  });

  it('answers a GET of the receiver, so Check key can tell that the URL reaches it', async () => {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      http
        .get(hooks.url, { agent: false }, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        })
        .on('error', reject);
    });
    assert.equal(answer.status, 200);
    assert.deepEqual(JSON.parse(answer.body), { receiver: 'bfl-config' });
  });
});

describe('webhook receiver', () => {
  it('keeps a webhook that comes before the submit answer, until the task id is known', async () => {
    const hooks = await startWebhookServer(SECRET);
    try {
      const early = hooks.receiver.expect();
      assert.equal(hooks.receiver.deliver(early.token, READY('task-9')), 'accepted');
      assert.equal(hooks.receiver.deliver(early.token, READY('task-8')), 'accepted');
      early.forTask('task-9');
      const news = await early.news;
      assert.equal(news.kind, 'ready');
      early.dispose();
      assert.equal(hooks.receiver.size, 0);
    } finally {
      await hooks.close();
    }
  });

  it('gives a webhook to whichever of two receivers with the same secret waits for its job (a redeploy)', async () => {
    const old = new WebhookReceiver({ url: 'http://127.0.0.1:9/bfl/webhook/cfg', secret: SECRET });
    const successor = new WebhookReceiver({ url: 'http://127.0.0.1:9/bfl/webhook/cfg', secret: SECRET });
    const server = http.createServer((req, res) => {
      const token = new URL(req.url ?? '/', 'http://x').pathname.split('/')[4];
      serveWebhook([successor, old], token, req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const handedOver = old.expect();
      handedOver.forTask('task-1');
      const { port } = server.address() as AddressInfo;
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request(`http://127.0.0.1:${port}/bfl/webhook/cfg/${handedOver.token}`, {
          method: 'POST',
          agent: false,
          headers: { 'content-type': 'application/json', 'x-webhook-secret': SECRET },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(JSON.stringify(READY('task-1')));
      });
      assert.equal(status, 200);
      assert.equal((await handedOver.news).kind, 'ready');
      handedOver.dispose();
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('makes secrets of 256 random bits, different each time', () => {
    const one = generateWebhookSecret();
    assert.match(one, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(one, generateWebhookSecret());
  });
});

describe('webhook payloads', () => {
  it('reads the current style and the legacy style into the words of a poll', () => {
    assert.deepEqual(readWebhookPayload({ id: 'a', status: 'Ready', result: {} }), {
      taskId: 'a',
      answer: { id: 'a', status: 'Ready', result: {} },
    });
    const legacy = readWebhookPayload({ task_id: 'b', status: 'SUCCESS', result: { sample: 'u' } });
    assert.deepEqual(legacy, {
      taskId: 'b',
      answer: { task_id: 'b', id: 'b', status: 'Ready', result: { sample: 'u' } },
    });
    const failed = readWebhookPayload({ task_id: 'c', status: 'FAILED', error: 'Content Moderated' });
    assert.equal('answer' in failed && failed.answer.status, 'Content Moderated');
    const plainFailure = readWebhookPayload({ task_id: 'c', status: 'FAILED', error: 'boom' });
    assert.equal('answer' in plainFailure && plainFailure.answer.status, 'Error');
  });
});
