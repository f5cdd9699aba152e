/**
 * BflClient's polls and downloads against the emulator over HTTP on 127.0.0.1, one row of their status tables
 * per test; a tiny local server stands in where the emulator cannot give the answer.
 */
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { RequestAborted } from '../../lib/api/retry';
import { emulatorEndpoint } from '../../lib/api/regions';
import type { TaskOutcome } from '../../lib/emulator';
import { USER_AGENT } from '../../lib/package-info';
import {
  FAST_RETRY,
  KEY,
  PARAMETERS,
  breakOff,
  clientOf,
  failureOf,
  json,
  live,
  readyTask,
  useFixture,
} from './client-support';

/** The attempt limits for polls and downloads too, as for a caller whose signal never ends. */
const LIMITED = { ...FAST_RETRY, taskRetries: 'limited' } as const;

describe('BflClient against the emulator: polls and downloads', function () {
  const fx = useFixture();

  const polls = () => fx.emulator.requests.filter((r) => r.origin === 'cluster');
  const downloads = () => fx.emulator.requests.filter((r) => r.origin === 'delivery');
  const submitted = (outcome: TaskOutcome = 'stuck') => {
    fx.emulator.nextTask({ outcome });
    return clientOf(fx.emulator).submitFill(PARAMETERS, fx.images, live());
  };

  describe('poll', () => {
    const poll = async (outcome?: TaskOutcome, client = clientOf(fx.emulator)) => {
      const task = await submitted(outcome);
      return { task, result: client.poll(task.id, task.pollingUrl, live()) };
    };

    it('polls the polling_url exactly as given, with the key', async () => {
      const task = await submitted();
      await clientOf(fx.emulator).poll(task.id, `${task.pollingUrl}&attempt=1`, live());
      const [sent] = polls();
      assert.equal(`${sent!.path}?${sent!.query}`, `/v1/get_result?id=${task.id}&attempt=1`);
      assert.equal(sent!.headers['x-key'], KEY);
      assert.equal(sent!.headers['user-agent'], USER_AGENT);
    });

    it('reports a task in progress as in-progress', async () => {
      assert.deepEqual(await (await poll()).result, {
        kind: 'in-progress',
        state: { status: 'Pending', progress: undefined },
      });
    });

    it('returns the Ready result with its delivery URL', async () => {
      const ready = await readyTask(fx.emulator, fx.images);
      assert.ok(ready.sampleUrl.startsWith(`${fx.emulator.deliveryUrl}/`), ready.sampleUrl);
    });

    const terminal: [TaskOutcome, string][] = [
      ['request-moderated', 'BFL_REQUEST_MODERATED'],
      ['content-moderated', 'BFL_CONTENT_MODERATED'],
      ['error', 'BFL_TASK_FAILED'],
      ['failed', 'BFL_TASK_FAILED'],
    ];
    for (const [outcome, code] of terminal) {
      it(`says ${code} for a task that ends ${outcome}, naming the task`, async () => {
        const task = await submitted(outcome);
        await fx.emulator.waitForTask((t) => t.id === task.id && t.completedAt !== null);
        const error = await failureOf(clientOf(fx.emulator).poll(task.id, task.pollingUrl, live()));
        assert.equal(error.code, code);
        assert.equal(error.taskId, task.id);
      });
    }

    it('takes a 202 as a task still queued', async () => {
      fx.emulator.injectFault({ target: 'poll', status: 202 });
      const { result } = await poll();
      assert.equal((await result).kind, 'in-progress');
    });

    it('says BFL_AUTH naming the task when the polling host refuses the key it was sent', async () => {
      const { task, result } = await poll('stuck', clientOf(fx.emulator, { apiKey: 'bfl_unknown_key_999' }));
      const error = await failureOf(result);
      assert.equal(error.code, 'BFL_AUTH');
      assert.equal(error.taskId, task.id);
      assert.doesNotMatch(error.message, /polled without the key/);
    });

    it('says BFL_AUTH for a 401', async () => {
      fx.emulator.injectFault({ target: 'poll', status: 401 });
      assert.equal((await failureOf((await poll()).result)).code, 'BFL_AUTH');
    });

    it('does not send the key to a polling host it may not go to, and says so when that host refuses', async () => {
      fx.emulator.injectFault({ target: 'poll', status: 403 });
      const task = await submitted();
      const endpoint = { ...emulatorEndpoint(fx.emulator), trustedOrigins: [] };
      const error = await failureOf(clientOf(fx.emulator, { endpoint }).poll(task.id, task.pollingUrl, live()));
      assert.equal(error.code, 'BFL_AUTH');
      assert.match(error.message, /polled without the key/);
      assert.equal('x-key' in polls()[0]!.headers, false);
    });

    it('says BFL_TASK_NOT_FOUND for a 404, asked once', async () => {
      const { task, result } = await poll('not-found');
      const error = await failureOf(result);
      assert.equal(error.code, 'BFL_TASK_NOT_FOUND');
      assert.equal(error.taskId, task.id);
      assert.equal(polls().length, 1);
    });

    it('asks again after a 429 and a 5xx', async () => {
      fx.emulator.injectFault({ target: 'poll', status: 429, retryAfterSeconds: 0 });
      fx.emulator.injectFault({ target: 'poll', status: 503 });
      assert.equal((await (await poll()).result).kind, 'in-progress');
      assert.equal(polls().length, 3);
    });

    it('keeps asking through 5xx and 429s beyond the attempt limits: the task may be billed already', async () => {
      fx.emulator.injectFault({ target: 'poll', status: 500, count: 10 });
      fx.emulator.injectFault({ target: 'poll', status: 429, count: 10, retryAfterSeconds: 0 });
      assert.equal((await (await poll()).result).kind, 'in-progress');
      assert.equal(polls().length, 21);
    });

    it('stops only when the signal aborts, with the failure it was retrying', async () => {
      const controller = new AbortController();
      const tiny = await fx.serve((res, n) => {
        if (n === 4) controller.abort();
        json(res, 503, { detail: 'Service Unavailable' });
      });
      const error = await clientOf(tiny.url)
        .poll('t', `${tiny.url}/v1/get_result?id=t`, controller.signal)
        .then(
          () => assert.fail('expected the abort'),
          (reason: unknown) => reason,
        );
      assert.ok(error instanceof RequestAborted);
      assert.equal(error.name, 'AbortError');
      assert.equal(error.lastFailure?.code, 'BFL_SERVER');
      assert.equal(error.lastFailure?.taskId, 't');
      assert.equal(tiny.seen.length, 4);
    });

    it('gives BFL_RATE_LIMITED naming the task once the 429s outlast the attempts, when task retries are limited', async () => {
      fx.emulator.injectFault({ target: 'poll', status: 429, count: 10, retryAfterSeconds: 0 });
      const { task, result } = await poll(undefined, clientOf(fx.emulator, { retry: LIMITED }));
      const error = await failureOf(result);
      assert.equal(error.code, 'BFL_RATE_LIMITED');
      assert.equal(error.taskId, task.id);
      assert.equal(polls().length, FAST_RETRY.maxRateLimitedAttempts);
    });

    it('gives BFL_SERVER naming the task when 5xx answers do not stop, when task retries are limited', async () => {
      fx.emulator.injectFault({ target: 'poll', status: 500, count: 10 });
      const { task, result } = await poll(undefined, clientOf(fx.emulator, { retry: LIMITED }));
      const error = await failureOf(result);
      assert.equal(error.code, 'BFL_SERVER');
      assert.equal(error.taskId, task.id);
      assert.equal(polls().length, FAST_RETRY.maxAttempts);
    });

    it('asks again when a 200 is not JSON, and takes the answer that follows', async () => {
      fx.emulator.injectFault('poll:malformed-json');
      assert.equal((await (await poll()).result).kind, 'in-progress');
      assert.equal(polls().length, 2);
    });

    it('gives BFL_SERVER naming the task, within the attempts, when 200s keep coming without a status', async () => {
      fx.emulator.injectFault('poll:malformed-json:x10');
      const { task, result } = await poll();
      const error = await failureOf(result);
      assert.equal(error.code, 'BFL_SERVER');
      assert.equal(error.taskId, task.id);
      assert.match(error.message, new RegExp(`task ${task.id}, HTTP 200: the answer was not JSON with a task status`));
      assert.equal(polls().length, FAST_RETRY.maxAttempts);
    });

    for (const body of [{ id: 't' }, { id: 't', status: '' }, { id: 't', status: 3 }, ['Pending'], 'Pending']) {
      it(`does not take ${JSON.stringify(body)} for a task in progress`, async () => {
        const tiny = await fx.serve((res) => json(res, 200, body));
        const error = await failureOf(clientOf(tiny.url).poll('t', `${tiny.url}/v1/get_result?id=t`, live()));
        assert.equal(error.code, 'BFL_SERVER');
        assert.equal(tiny.seen.length, FAST_RETRY.maxAttempts);
      });
    }

    it('keeps polling through in-progress words it has not met', async () => {
      fx.emulator.injectFault('poll:unknown-status=Reasoning');
      const { result } = await poll();
      assert.deepEqual(await result, { kind: 'in-progress', state: { status: 'Reasoning', progress: undefined } });
    });

    it('says BFL_SERVER, asked once, for a status no row names', async () => {
      const task = await submitted();
      const error = await failureOf(
        clientOf(fx.emulator).poll(task.id, `${fx.emulator.clusterUrl}/v1/get_result`, live()),
      );
      assert.equal(error.code, 'BFL_SERVER');
      assert.equal(error.httpStatus, 422);
      assert.equal(polls().length, 1);
    });

    it('asks again when the connection drops', async () => {
      fx.emulator.injectFault({ target: 'poll', status: 'drop' });
      assert.equal((await (await poll()).result).kind, 'in-progress');
      assert.equal(polls().length, 2);
    });

    it('asks again when the body breaks off', async () => {
      const tiny = await fx.serve((res, n) =>
        n === 1 ? breakOff(res, 200, '{"stat') : json(res, 200, { id: 't', status: 'Pending' }),
      );
      const outcome = await clientOf(tiny.url).poll('t', `${tiny.url}/v1/get_result?id=t`, live());
      assert.equal(outcome.kind, 'in-progress');
      assert.equal(tiny.seen.length, 2);
    });
  });

  describe('download', () => {
    const download = async (client = clientOf(fx.emulator)) => {
      const ready = await readyTask(fx.emulator, fx.images);
      return { ready, result: client.download(ready.id, ready.sampleUrl, live()) };
    };

    it('returns the image, sent with the user-agent and without the key', async () => {
      const { ready, result } = await download();
      const image = await result;
      assert.ok(Buffer.isBuffer(image) && image.length > 0);
      const [sent] = downloads();
      assert.equal(sent!.headers['user-agent'], USER_AGENT);
      assert.equal('x-key' in sent!.headers, false);
      assert.ok(ready.sampleUrl.includes(sent!.path));
    });

    it('never sends the key to the delivery URL, even on an origin that may see it', async () => {
      const endpoint = emulatorEndpoint(fx.emulator);
      const trusting = { ...endpoint, trustedOrigins: [...endpoint.trustedOrigins, fx.emulator.deliveryUrl] };
      await (
        await download(clientOf(fx.emulator, { endpoint: trusting }))
      ).result;
      assert.equal('x-key' in downloads()[0]!.headers, false);
    });

    it('says expired when the link has expired, so the job can poll again', async () => {
      const ready = await readyTask(fx.emulator, fx.images);
      fx.emulator.expireDeliveries();
      assert.equal(await clientOf(fx.emulator).download(ready.id, ready.sampleUrl, live()), 'expired');
    });

    for (const status of [401, 403, 404, 410]) {
      it(`says expired for a ${status}, asked once`, async () => {
        fx.emulator.injectFault({ target: 'download', status });
        assert.equal(await (await download()).result, 'expired');
        assert.equal(downloads().length, 1);
      });
    }

    it('asks again after a 429 and a 5xx', async () => {
      fx.emulator.injectFault({ target: 'download', status: 429, retryAfterSeconds: 0 });
      fx.emulator.injectFault({ target: 'download', status: 502 });
      assert.ok(Buffer.isBuffer(await (await download()).result));
      assert.equal(downloads().length, 3);
    });

    it('keeps asking through 5xx and 429s beyond the attempt limits: the result is billed already', async () => {
      fx.emulator.injectFault({ target: 'download', status: 500, count: 10 });
      fx.emulator.injectFault({ target: 'download', status: 429, count: 10, retryAfterSeconds: 0 });
      assert.ok(Buffer.isBuffer(await (await download()).result));
      assert.equal(downloads().length, 21);
    });

    it('gives BFL_DOWNLOAD naming the task when 5xx answers do not stop, when task retries are limited', async () => {
      fx.emulator.injectFault({ target: 'download', status: 500, count: 10 });
      const { ready, result } = await download(clientOf(fx.emulator, { retry: LIMITED }));
      const error = await failureOf(result);
      assert.equal(error.code, 'BFL_DOWNLOAD');
      assert.equal(error.taskId, ready.id);
      assert.equal(downloads().length, FAST_RETRY.maxAttempts);
    });

    it('gives BFL_DOWNLOAD once the 429s outlast the rate-limited attempts, when task retries are limited', async () => {
      fx.emulator.injectFault({ target: 'download', status: 429, count: 10, retryAfterSeconds: 0 });
      assert.equal(
        (await failureOf((await download(clientOf(fx.emulator, { retry: LIMITED }))).result)).code,
        'BFL_DOWNLOAD',
      );
      assert.equal(downloads().length, FAST_RETRY.maxRateLimitedAttempts);
    });

    for (const fault of ['download:truncated=short', 'download:truncated=length', 'download:break']) {
      it(`asks again after ${fault}, and returns only a whole image`, async () => {
        fx.emulator.injectFault(fault);
        const image = await (await download()).result;
        assert.ok(Buffer.isBuffer(image));
        assert.equal((await sharp(image).stats()).isOpaque, true);
        assert.equal(downloads().length, 2);
        assert.deepEqual(
          fx.emulator.faults.map((f) => f.fault),
          [fault],
        );
      });
    }

    it('gives BFL_DOWNLOAD naming the task, within the attempts, when the image never decodes', async () => {
      fx.emulator.injectFault('download:truncated=short:x10');
      const { ready, result } = await download();
      const error = await failureOf(result);
      assert.equal(error.code, 'BFL_DOWNLOAD');
      assert.equal(error.taskId, ready.id);
      assert.match(error.message, /the image is incomplete or cannot be decoded/);
      assert.equal(downloads().length, FAST_RETRY.maxAttempts);
    });

    it('says BFL_DOWNLOAD, asked once, for a status no row names', async () => {
      fx.emulator.injectFault({ target: 'download', status: 400 });
      assert.equal((await failureOf((await download()).result)).code, 'BFL_DOWNLOAD');
      assert.equal(downloads().length, 1);
    });

    it('asks again when the connection drops', async () => {
      fx.emulator.injectFault({ target: 'download', status: 'drop' });
      assert.ok(Buffer.isBuffer(await (await download()).result));
      assert.equal(downloads().length, 2);
    });

    it('says BFL_DOWNLOAD, asked once, for an image larger than maxResultBytes', async () => {
      const error = await failureOf((await download(clientOf(fx.emulator, { maxResultBytes: 100 }))).result);
      assert.equal(error.code, 'BFL_DOWNLOAD');
      assert.match(error.message, /larger than 100 bytes/);
      assert.equal(downloads().length, 1);
    });

    it('asks again when the image breaks off', async () => {
      const png = fx.images.image;
      const tiny = await fx.serve((res, n) => (n === 1 ? breakOff(res, 200, 'PNG') : res.end(png)));
      const image = await clientOf(tiny.url).download('t', `${tiny.url}/results/t.png`, live());
      assert.deepEqual(image, png);
      assert.equal(tiny.seen.length, 2);
    });

    it('asks again when the image is empty', async () => {
      const png = fx.images.image;
      const tiny = await fx.serve((res, n) => res.end(n === 1 ? '' : png));
      const image = await clientOf(tiny.url).download('t', `${tiny.url}/results/t.png`, live());
      assert.deepEqual(image, png);
    });

    it('does not take an error page served with 200 for the image', async () => {
      const tiny = await fx.serve((res) => res.end('<html>Service Unavailable</html>'));
      const error = await failureOf(clientOf(tiny.url).download('t', `${tiny.url}/results/t.png`, live()));
      assert.equal(error.code, 'BFL_DOWNLOAD');
      assert.match(error.message, /cannot be decoded/);
      assert.equal(tiny.seen.length, FAST_RETRY.maxAttempts);
    });

    for (const [url, reason] of [
      ['not a url', /not a URL/],
      ['ftp://127.0.0.1/x.png', /not http/],
    ] as const) {
      it(`says BFL_DOWNLOAD without a request when result.sample is ${url}`, async () => {
        const error = await failureOf(clientOf(fx.emulator).download('t', url, live()));
        assert.equal(error.code, 'BFL_DOWNLOAD');
        assert.match(error.message, reason);
        assert.equal(downloads().length, 0);
      });
    }
  });
});
