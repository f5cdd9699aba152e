import assert from 'node:assert/strict';
import { Agent, request } from 'undici';
import type { BflEmulator, FaultTarget } from '../../lib/emulator';
import { KEY, startEmulator } from './helpers';
import {
  answer,
  callTo,
  codeOf,
  creditsCall,
  getKeepingSocket,
  json,
  LogWatch,
  pollCall,
  readyTask,
  see,
  submitCall,
} from './fault-helpers';

const EVERY: readonly FaultTarget[] = ['submit', 'poll', 'download', 'credits'];

/** The faults on the wire that every endpoint can meet: statuses, resets, stalls, 429 storms. */
describe('emulator faults: on every endpoint', () => {
  let emu: BflEmulator;
  const watch = new LogWatch();

  before(async () => {
    emu = await startEmulator({ log: watch.log });
  });
  afterEach(() => emu.reset());
  after(() => emu.close());

  const lastRecord = () => emu.requests[emu.requests.length - 1]!;

  for (const target of EVERY) {
    describe(target, () => {
      it('status: answers the status in the origin’s own format, and nothing else happens', async () => {
        const call = await callTo(emu, target);
        const tasksBefore = emu.tasks.size;
        emu.injectFault({ target, kind: 'status', status: 503, retryAfterSeconds: 2 });
        const seen = answer(await see(call));
        assert.equal(seen.status, 503);
        assert.equal(seen.headers['retry-after'], '2');
        if (target === 'download') {
          assert.match(seen.body.toString(), /<Code>ServerBusy<\/Code>/);
        } else {
          assert.deepEqual(json(seen), { detail: 'Service Unavailable' });
        }
        assert.equal(emu.tasks.size, tasksBefore);
        assert.equal(lastRecord().status, 503);
        assert.equal(lastRecord().fault, `${target}:status=503`);
      });

      it('reset-before: resets the connection before any answer, with no effect', async () => {
        const call = await callTo(emu, target);
        const tasksBefore = emu.tasks.size;
        emu.injectFault({ target, kind: 'reset-before' });
        const seen = await see(call);
        assert.equal(seen.kind, 'no-answer');
        assert.equal(codeOf(seen.error), 'ECONNRESET');
        assert.equal(emu.tasks.size, tasksBefore);
        assert.equal(lastRecord().status, 0);
        assert.deepEqual(
          emu.faults.map((f) => [f.fault, f.source]),
          [[`${target}:reset-before`, 'injected']],
        );
      });

      it('rate-limit-storm: answers count 429s in a row with Retry-After, then recovers', async () => {
        const call = await callTo(emu, target);
        emu.injectFault(`${target}:rate-limit-storm=2:x3`);
        for (let i = 0; i < 3; i++) {
          const seen = answer(await see(call));
          assert.equal(seen.status, 429, `request ${i + 1}`);
          assert.equal(seen.headers['retry-after'], '2');
          if (target === 'download') assert.match(seen.body.toString(), /<Code>ServerBusy<\/Code>/);
          else assert.equal(typeof json(seen).detail, 'string');
          if (target === 'poll') assert.equal(seen.headers['x-ratelimit-remaining'], '0');
        }
        if (target === 'submit') assert.equal(emu.tasks.size, 0);
        assert.equal(answer(await see(call)).status, 200);
        assert.equal(emu.faults.length, 3);
      });

      it('stall: sends nothing until the client gives up, then lets the request go', async () => {
        const call = await callTo(emu, target);
        emu.injectFault({ target, kind: 'stall' });
        const released = watch.next(new RegExp(`fault=${target}:stall=headers`));
        const seen = await see(call, AbortSignal.timeout(100));
        assert.equal(seen.kind, 'no-answer');
        assert.match(seen.error.name, /AbortError|TimeoutError/);
        assert.match(await released, / dropped /);
        if (target === 'submit') assert.equal(emu.tasks.size, 1, 'the stalled submit created its task');
      });

      it('stall=body: sends the status and half the body, then nothing', async () => {
        const call = await callTo(emu, target);
        emu.injectFault({ target, kind: 'stall', variant: 'body' });
        const released = watch.next(new RegExp(`fault=${target}:stall=body`));
        const seen = answer(await see(call, AbortSignal.timeout(150)));
        assert.equal(seen.status, 200);
        assert.ok(seen.bodyError, 'the body never finished');
        assert.ok(seen.body.length > 0 && seen.body.length < Number(seen.headers['content-length']));
        await released;
      });
    });
  }

  it('reset-after on a submit: the task is created and charged, and its answer lost in a reset', async () => {
    emu.injectFault('submit:reset-after');
    const seen = await see(await submitCall(emu));
    assert.equal(seen.kind, 'no-answer');
    assert.equal(codeOf(seen.error), 'ECONNRESET');
    assert.equal(emu.tasks.size, 1);
    const task = [...emu.tasks.values()][0]!;
    assert.equal(emu.credits(KEY), 995);
    assert.equal(emu.faults[0]!.taskId, task.id);
    assert.equal((await emu.waitForTask((t) => t.id === task.id && t.status === 'Ready')).id, task.id);
  });

  for (const target of ['poll', 'download', 'credits'] as const) {
    it(`reset-after on ${target}: the whole answer arrives, then the connection is reset`, async () => {
      const call = await callTo(emu, target);
      emu.injectFault({ target, kind: 'reset-after' });
      const got = await getKeepingSocket(call.url, call.headers);
      try {
        assert.equal(got.status, 200);
        if (target === 'download') assert.equal(got.body.subarray(1, 4).toString(), 'PNG');
        else assert.equal(typeof JSON.parse(got.body.toString()), 'object');
        await got.closed;
        assert.equal(lastRecord().fault, `${target}:reset-after`);
      } finally {
        got.agent.destroy();
      }
    });
  }

  it('ends a stall by itself after stallMs with a reset', async () => {
    const quick = await startEmulator({ stallMs: 30 });
    try {
      const { pollingUrl } = await readyTask(quick);
      quick.injectFault('poll:stall');
      const seen = await see(pollCall(pollingUrl));
      assert.equal(seen.kind, 'no-answer');
      assert.equal(codeOf(seen.error), 'ECONNRESET');
    } finally {
      await quick.close();
    }
  });

  it('ends a stalled request when the emulator closes', async () => {
    const other = await startEmulator();
    other.injectFault('credits:stall=body');
    const dispatcher = new Agent();
    try {
      const call = creditsCall(other);
      const res = await request(call.url, { headers: call.headers, dispatcher });
      // The status line came; the body stalls until close() lets it go.
      assert.equal(res.statusCode, 200);
      await other.close();
      await assert.rejects(res.body.text());
    } finally {
      await dispatcher.destroy();
    }
  });
});
