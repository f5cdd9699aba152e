/**
 * BflClient's submit and credits against the emulator over HTTP on 127.0.0.1, one row of their status tables
 * per test; a tiny local server stands in where the emulator cannot give the answer. Polls and downloads are in
 * client-task.test.ts.
 */
import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { RequestAborted } from '../../lib/api/retry';
import { isBflError } from '../../lib/errors';
import { USER_AGENT } from '../../lib/package-info';
import {
  FAST_RETRY,
  KEY,
  PARAMETERS,
  breakOff,
  clientOf,
  failureOf,
  freePort,
  json,
  live,
  smallImages,
  useFixture,
} from './client-support';

describe('BflClient against the emulator: submit and credits', function () {
  const fx = useFixture();

  const submit = (client = clientOf(fx.emulator), fill = fx.images) => client.submitFill(PARAMETERS, fill, live());
  const submits = () => fx.emulator.requests.filter((r) => r.origin === 'api' && r.method === 'POST');
  const creditReads = () => fx.emulator.requests.filter((r) => r.origin === 'api' && r.path === '/v1/credits');

  describe('submitFill', () => {
    it('sends the fill once with the key and user-agent, and returns the task with its polling_url as given', async () => {
      const task = await submit();
      const [sent] = submits();
      assert.equal(submits().length, 1);
      assert.equal(sent!.headers['x-key'], KEY);
      assert.equal(sent!.headers['user-agent'], USER_AGENT);
      assert.equal(task.id, [...fx.emulator.tasks.keys()][0]);
      assert.equal(task.pollingUrl, `${fx.emulator.clusterUrl}/v1/get_result?id=${task.id}`);
      assert.equal(task.cost, 5);
    });

    it('says BFL_AUTH for a key the API does not know (403), and the message never holds the key', async () => {
      const error = await failureOf(submit(clientOf(fx.emulator, { apiKey: 'bfl_unknown_key_999' })));
      assert.equal(error.code, 'BFL_AUTH');
      assert.equal(error.httpStatus, 403);
      assert.doesNotMatch(error.message, /bfl_unknown_key_999/);
      assert.equal(submits().length, 1);
    });

    it('says BFL_AUTH for a 401', async () => {
      fx.emulator.injectFault({ target: 'submit', status: 401 });
      assert.equal((await failureOf(submit())).code, 'BFL_AUTH');
      assert.equal(submits().length, 1);
    });

    it('says BFL_CREDITS when the account cannot pay (402), and no task is created', async () => {
      fx.emulator.setCredits(KEY, 2);
      assert.equal((await failureOf(submit())).code, 'BFL_CREDITS');
      assert.equal(fx.emulator.tasks.size, 0);
    });

    it('says BFL_AUTH for a 422 whose detail is about a malformed API key', async () => {
      const error = await failureOf(submit(clientOf(fx.emulator, { apiKey: 'short' })));
      assert.equal(error.code, 'BFL_AUTH');
      assert.equal(error.httpStatus, 422);
    });

    it("says BFL_VALIDATION for a 422 about the request's fields", async () => {
      const error = await failureOf(submit(clientOf(fx.emulator), await smallImages({ width: 8, height: 8 })));
      assert.equal(error.code, 'BFL_VALIDATION');
      assert.match(error.message, /mask/i);
    });

    it('says BFL_VALIDATION for a 422 whose detail does not name the key', async () => {
      fx.emulator.injectFault({ target: 'submit', status: 422 });
      assert.equal((await failureOf(submit())).code, 'BFL_VALIDATION');
    });

    it('says BFL_VALIDATION for any other 4xx, sent once', async () => {
      fx.emulator.injectFault({ target: 'submit', status: 400 });
      assert.equal((await failureOf(submit())).code, 'BFL_VALIDATION');
      assert.equal(submits().length, 1);
    });

    for (const status of [500, 502, 503]) {
      it(`never sends it again after a ${status}: it may have been billed`, async () => {
        fx.emulator.injectFault({ target: 'submit', status, count: 3 });
        assert.equal((await failureOf(submit())).code, 'BFL_SERVER');
        assert.equal(submits().length, 1);
      });
    }

    it('says BFL_SERVER for a status no row names (a redirect), sent once', async () => {
      fx.emulator.injectFault({ target: 'submit', status: 302 });
      assert.equal((await failureOf(submit())).code, 'BFL_SERVER');
      assert.equal(submits().length, 1);
    });

    it('sends it again after a 429 and creates one task', async () => {
      fx.emulator.injectFault({ target: 'submit', status: 429, count: 2, retryAfterSeconds: 0 });
      await submit();
      assert.equal(submits().length, 3);
      assert.equal(fx.emulator.tasks.size, 1);
    });

    it('waits at least the Retry-After of a 429 before sending again', async () => {
      fx.emulator.injectFault({ target: 'submit', status: 429, retryAfterSeconds: 0.2 });
      await submit();
      const [first, second] = submits();
      assert.ok(second!.at - first!.at >= 190, `sent again after ${second!.at - first!.at} ms`);
    });

    it('gives BFL_RATE_LIMITED once the 429s outlast the rate-limited attempts', async () => {
      fx.emulator.injectFault({ target: 'submit', status: 429, count: 10, retryAfterSeconds: 0 });
      assert.equal((await failureOf(submit())).code, 'BFL_RATE_LIMITED');
      assert.equal(submits().length, FAST_RETRY.maxRateLimitedAttempts);
      assert.equal(fx.emulator.tasks.size, 0);
    });

    it('never sends it again when the connection drops after sending, and says the outcome is unknown', async () => {
      fx.emulator.injectFault({ target: 'submit', status: 'drop', count: 3 });
      const error = await failureOf(submit());
      assert.equal(error.code, 'BFL_NETWORK');
      assert.match(error.message, /not sent again/);
      assert.equal(submits().length, 1);
    });

    it('sends it again when the connection never opened, and creates one task', async () => {
      const port = await freePort();
      let starting: ReturnType<typeof fx.serve> | undefined;
      // The API comes up as soon as the first connection is refused: the next attempt must reach it.
      const onRefused = () => {
        starting ??= fx.serve((res) => json(res, 200, { id: 'task-1', polling_url: 'http://127.0.0.1:1/p' }), port);
      };
      diagnosticsChannel.subscribe('undici:client:connectError', onRefused);
      try {
        const client = clientOf(`http://127.0.0.1:${port}`, {
          retry: { ...FAST_RETRY, baseDelayMs: 20, maxDelayMs: 50, maxAttempts: 6 },
        });
        const task = await submit(client);
        assert.equal(task.id, 'task-1');
        assert.equal((await starting)!.seen.length, 1);
      } finally {
        diagnosticsChannel.unsubscribe('undici:client:connectError', onRefused);
      }
    });

    it('says BFL_NETWORK (could not reach) when the connection never opens', async () => {
      const error = await failureOf(submit(clientOf(`http://127.0.0.1:${await freePort()}`)));
      assert.equal(error.code, 'BFL_NETWORK');
      assert.match(error.message, /Could not reach/);
    });

    it('never sends it again when the body of its 200 breaks off', async () => {
      const tiny = await fx.serve((res) => breakOff(res, 200, '{"id":"task-1","poll'));
      const error = await failureOf(submit(clientOf(tiny.url)));
      assert.equal(error.code, 'BFL_NETWORK');
      assert.match(error.message, /not sent again/);
      assert.equal(tiny.seen.length, 1);
    });

    it('still takes a 429 whose body breaks off as a 429, and sends it again', async () => {
      const tiny = await fx.serve((res, n) =>
        n === 1 ? breakOff(res, 429, '{"det') : json(res, 200, { id: 'task-1' }),
      );
      assert.equal((await submit(clientOf(tiny.url))).id, 'task-1');
      assert.equal(tiny.seen.length, 2);
    });

    it('says BFL_NETWORK, not sent again, when a 200 names no task', async () => {
      const tiny = await fx.serve((res) => json(res, 200, { polling_url: 'http://127.0.0.1:1/p' }));
      const error = await failureOf(submit(clientOf(tiny.url)));
      assert.equal(error.code, 'BFL_NETWORK');
      assert.match(error.message, /no task id/);
      assert.equal(tiny.seen.length, 1);
    });

    it('falls back to the generic get_result URL when the answer has no polling_url', async () => {
      const tiny = await fx.serve((res) =>
        json(res, 200, { id: 'a b', status: 'Pending', webhook_url: 'https://x.example/' }),
      );
      const task = await submit(clientOf(tiny.url));
      assert.equal(task.pollingUrl, `${tiny.url}/v1/get_result?id=a%20b`);
      assert.equal(task.cost, null);
    });

    const abortOf = (client: ReturnType<typeof clientOf>, signal: AbortSignal) =>
      client.submitFill(PARAMETERS, fx.images, signal).then(
        () => assert.fail('expected the abort'),
        (reason: unknown) => reason,
      );

    it('leaves an abort to the job: it rejects with the abort, which says the task may exist once the body left', async () => {
      const controller = new AbortController();
      const tiny = await fx.serve(() => controller.abort());
      const error = await abortOf(clientOf(tiny.url), controller.signal);
      assert.equal(isBflError(error), false);
      assert.ok(error instanceof RequestAborted);
      assert.equal(error.taskMayExist, true);
      assert.equal(tiny.seen.length, 1);
    });

    it('says the task cannot exist when the abort comes while the connection is refused', async () => {
      const controller = new AbortController();
      // Once the refusal is judged, so the abort meets the client waiting to try again.
      const onRefused = () => setImmediate(() => controller.abort());
      diagnosticsChannel.subscribe('undici:client:connectError', onRefused);
      try {
        const client = clientOf(`http://127.0.0.1:${await freePort()}`, {
          retry: { ...FAST_RETRY, baseDelayMs: 60_000 },
        });
        const error = await abortOf(client, controller.signal);
        assert.ok(error instanceof RequestAborted);
        assert.equal(error.taskMayExist, false);
        assert.equal(error.lastFailure?.code, 'BFL_NETWORK');
      } finally {
        diagnosticsChannel.unsubscribe('undici:client:connectError', onRefused);
      }
    });
  });

  describe('credits', () => {
    const credits = (client = clientOf(fx.emulator)) => client.credits(live());

    it('reads the balance, sending the key', async () => {
      fx.emulator.setCredits(KEY, 42.5);
      assert.equal(await credits(), 42.5);
      assert.equal(creditReads()[0]!.headers['x-key'], KEY);
    });

    it('says BFL_SERVER when a 200 holds no balance', async () => {
      const tiny = await fx.serve((res) => json(res, 200, { balance: 3 }));
      assert.equal((await failureOf(credits(clientOf(tiny.url)))).code, 'BFL_SERVER');
    });

    it('says BFL_AUTH for a key the API does not know (403)', async () => {
      assert.equal(
        (await failureOf(credits(clientOf(fx.emulator, { apiKey: 'bfl_unknown_key_999' })))).code,
        'BFL_AUTH',
      );
    });

    it('says BFL_AUTH for a 401', async () => {
      fx.emulator.injectFault({ target: 'credits', status: 401 });
      assert.equal((await failureOf(credits())).code, 'BFL_AUTH');
    });

    it('says BFL_AUTH for a 422 whose detail is about a malformed API key', async () => {
      const error = await failureOf(credits(clientOf(fx.emulator, { apiKey: 'short' })));
      assert.equal(error.code, 'BFL_AUTH');
      assert.equal(error.httpStatus, 422);
    });

    it('says BFL_SERVER, asked once, for a 422 that is not about the key', async () => {
      fx.emulator.injectFault({ target: 'credits', status: 422, count: 3 });
      const error = await failureOf(credits());
      assert.equal(error.code, 'BFL_SERVER');
      assert.equal(error.httpStatus, 422);
      assert.equal(creditReads().length, 1);
    });

    it('asks again after a 429', async () => {
      fx.emulator.injectFault({ target: 'credits', status: 429, retryAfterSeconds: 0 });
      assert.equal(await credits(), 1000);
      assert.equal(creditReads().length, 2);
    });

    it('gives BFL_RATE_LIMITED after the transient attempts, not the patient rate-limited ones', async () => {
      fx.emulator.injectFault({ target: 'credits', status: 429, count: 10, retryAfterSeconds: 0 });
      assert.equal((await failureOf(credits())).code, 'BFL_RATE_LIMITED');
      assert.equal(creditReads().length, FAST_RETRY.maxAttempts);
    });

    it('asks again after a 5xx', async () => {
      fx.emulator.injectFault({ target: 'credits', status: 503 });
      assert.equal(await credits(), 1000);
      assert.equal(creditReads().length, 2);
    });

    it('gives BFL_SERVER when 5xx answers do not stop', async () => {
      fx.emulator.injectFault({ target: 'credits', status: 500, count: 10 });
      assert.equal((await failureOf(credits())).code, 'BFL_SERVER');
      assert.equal(creditReads().length, FAST_RETRY.maxAttempts);
    });

    it('says BFL_SERVER, asked once, for a status no row names', async () => {
      fx.emulator.injectFault({ target: 'credits', status: 404, count: 3 });
      assert.equal((await failureOf(credits())).code, 'BFL_SERVER');
      assert.equal(creditReads().length, 1);
    });

    it('asks again when the connection drops', async () => {
      fx.emulator.injectFault({ target: 'credits', status: 'drop' });
      assert.equal(await credits(), 1000);
    });

    it('asks again when the JSON body breaks off while being read', async () => {
      const tiny = await fx.serve((res, n) =>
        n === 1 ? breakOff(res, 200, '{"cred') : json(res, 200, { credits: 7 }),
      );
      assert.equal(await credits(clientOf(tiny.url)), 7);
      assert.equal(tiny.seen.length, 2);
    });

    it('says BFL_NETWORK, not a raw error, when the body keeps breaking off', async () => {
      const tiny = await fx.serve((res) => breakOff(res, 200, '{"cred'));
      const error = await failureOf(credits(clientOf(tiny.url)));
      assert.equal(error.code, 'BFL_NETWORK');
      assert.equal(tiny.seen.length, FAST_RETRY.maxAttempts);
    });
  });
});
