import assert from 'node:assert/strict';
import { parseRetryAfter, retryDelay, withRetries, DEFAULT_RETRY_POLICY, RequestAborted } from '../../lib/api/retry';
import { serverError } from '../../lib/errors';

describe('retry policy', () => {
  it('reads Retry-After as seconds or as an HTTP date', () => {
    assert.equal(parseRetryAfter('2'), 2000);
    assert.equal(parseRetryAfter('0.5'), 500);
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:03 GMT', now), 3000);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(undefined), undefined);
  });

  it('backs off exponentially with jitter, capped, and waits at least what Retry-After asks', () => {
    const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1000 };
    assert.equal(
      retryDelay(policy, 1, undefined, () => 0),
      50,
    );
    assert.equal(
      retryDelay(policy, 1, undefined, () => 1),
      100,
    );
    assert.equal(
      retryDelay(policy, 3, undefined, () => 1),
      400,
    );
    assert.equal(
      retryDelay(policy, 10, undefined, () => 1),
      1000,
    );
    assert.equal(
      retryDelay(policy, 1, '3', () => 1),
      3000,
    );
    assert.equal(
      retryDelay(policy, 1, '3600', () => 1),
      policy.maxRetryAfterMs,
    );
  });

  it('gives up after maxAttempts transient failures with the last error', async () => {
    const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 1, maxDelayMs: 1, maxAttempts: 3 };
    let calls = 0;
    await assert.rejects(
      withRetries(policy, new AbortController().signal, async () => {
        calls += 1;
        return { retry: serverError(500, `failure ${calls}`, 'polling') };
      }),
      /failure 3/,
    );
    assert.equal(calls, 3);
  });

  it('stops waiting as soon as the signal aborts', async () => {
    const controller = new AbortController();
    const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 60_000, maxDelayMs: 60_000 };
    const running = withRetries(policy, controller.signal, async () => ({ retry: serverError(500, 'x', 'polling') }));
    setImmediate(() => controller.abort());
    await assert.rejects(running, { name: 'AbortError' });
  });

  it('has no attempt limit for requests about a task, but for unusable answers', async () => {
    const policy = {
      ...DEFAULT_RETRY_POLICY,
      baseDelayMs: 1,
      maxDelayMs: 1,
      maxAttempts: 3,
      maxRateLimitedAttempts: 2,
    };
    let calls = 0;
    const done = await withRetries(
      policy,
      new AbortController().signal,
      async () => {
        calls += 1;
        if (calls > 20) return { done: calls };
        return { retry: serverError(503, 'x', 'polling', 't'), rateLimited: calls % 2 === 0 };
      },
      'task',
    );
    assert.equal(done, 21);
    calls = 0;
    await assert.rejects(
      withRetries(
        policy,
        new AbortController().signal,
        async () => {
          calls += 1;
          return { retry: serverError(200, `garbage ${calls}`, 'polling', 't'), unusable: true };
        },
        'task',
      ),
      /garbage 3/,
    );
  });

  it('holds requests about a task to the attempt limits when taskRetries is limited', async () => {
    const policy = {
      ...DEFAULT_RETRY_POLICY,
      baseDelayMs: 1,
      maxDelayMs: 1,
      maxAttempts: 3,
      taskRetries: 'limited' as const,
    };
    let calls = 0;
    await assert.rejects(
      withRetries(
        policy,
        new AbortController().signal,
        async () => {
          calls += 1;
          return { retry: serverError(503, 'x', 'polling', 't') };
        },
        'task',
      ),
    );
    assert.equal(calls, 3);
  });

  it('says, when the signal aborts, which failure it was retrying', async () => {
    const controller = new AbortController();
    const failure = serverError(503, 'x', 'polling', 't');
    const running = withRetries(
      { ...DEFAULT_RETRY_POLICY, baseDelayMs: 60_000, maxDelayMs: 60_000 },
      controller.signal,
      async () => ({ retry: failure }),
      'task',
    );
    setImmediate(() => controller.abort());
    const error: unknown = await running.then(
      () => assert.fail('expected the abort'),
      (reason: unknown) => reason,
    );
    assert.ok(error instanceof RequestAborted);
    assert.equal(error.lastFailure, failure);
    assert.equal(error.taskMayExist, false);
  });
});
