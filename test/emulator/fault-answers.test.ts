import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import type { BflEmulator } from '../../lib/emulator';
import { KEY, startEmulator } from './helpers';
import { answer, creditsCall, downloadCall, json, pollCall, readyTask, see, submitCall } from './fault-helpers';

/** The faults that belong to one endpoint's answers: JSON cut short, unknown words, broken images, lost links. */
describe('emulator faults: spoiled answers', () => {
  let emu: BflEmulator;

  before(async () => {
    emu = await startEmulator();
  });
  afterEach(() => emu.reset());
  after(() => emu.close());

  describe('malformed-json', () => {
    it('cuts a submit’s 200 in half after creating and charging its task', async () => {
      emu.injectFault('submit:malformed-json');
      const seen = answer(await see(await submitCall(emu)));
      assert.equal(seen.status, 200);
      assert.match(String(seen.headers['content-type']), /application\/json/);
      assert.equal(Number(seen.headers['content-length']), seen.body.length);
      assert.throws(() => JSON.parse(seen.body.toString()), SyntaxError);
      const task = [...emu.tasks.values()][0]!;
      assert.ok(seen.body.toString().startsWith(`{"id":"${task.id}"`));
      assert.equal(emu.credits(KEY), 995);
    });

    it('cuts a poll’s answer in half', async () => {
      const { id, pollingUrl } = await readyTask(emu);
      emu.injectFault('poll:malformed-json');
      const seen = answer(await see(pollCall(pollingUrl)));
      assert.equal(seen.status, 200);
      assert.ok(seen.body.toString().startsWith(`{"id":"${id}","status":"Ready"`));
      assert.throws(() => JSON.parse(seen.body.toString()), SyntaxError);
      assert.equal(json(await see(pollCall(pollingUrl))).status, 'Ready');
    });

    it('cuts the credits answer in half', async () => {
      emu.injectFault('credits:malformed-json');
      const seen = answer(await see(creditsCall(emu)));
      assert.equal(seen.status, 200);
      const whole = JSON.stringify({ credits: 1000 });
      assert.equal(seen.body.toString(), whole.slice(0, Math.floor(whole.length / 2)));
    });
  });

  describe('unknown-status', () => {
    it('answers polls with an in-progress word the client has not met, then the real status', async () => {
      const { id, pollingUrl } = await readyTask(emu);
      emu.injectFault('poll:unknown-status=Reasoning:x2');
      for (let i = 0; i < 2; i++) {
        const seen = answer(await see(pollCall(pollingUrl)));
        assert.equal(seen.status, 200);
        assert.deepEqual(json(seen), {
          id,
          status: 'Reasoning',
          result: null,
          progress: null,
          details: null,
          preview: null,
        });
      }
      assert.equal(json(await see(pollCall(pollingUrl))).status, 'Ready');
      assert.deepEqual(
        emu.faults.map((f) => f.fault),
        ['poll:unknown-status=Reasoning', 'poll:unknown-status=Reasoning'],
      );
    });

    it('says Queued by default', async () => {
      const { pollingUrl } = await readyTask(emu);
      emu.injectFault({ target: 'poll', kind: 'unknown-status' });
      assert.equal(json(await see(pollCall(pollingUrl))).status, 'Queued');
    });
  });

  describe('download faults', () => {
    it('break: sends half the image under the full Content-Length, then resets', async () => {
      const { sample } = await readyTask(emu);
      emu.injectFault('download:break');
      const seen = answer(await see(downloadCall(sample)));
      assert.equal(seen.status, 200);
      const declared = Number(seen.headers['content-length']);
      assert.ok(seen.body.length < declared, `${seen.body.length} of ${declared} bytes`);
      assert.ok(seen.bodyError, 'the client sees the body break off');
    });

    it('truncated: sends half the image under the full Content-Length, then closes in order', async () => {
      const { sample } = await readyTask(emu);
      const whole = answer(await see(downloadCall(sample))).body;
      emu.injectFault('download:truncated');
      const seen = answer(await see(downloadCall(sample)));
      assert.equal(seen.status, 200);
      assert.equal(Number(seen.headers['content-length']), whole.length);
      assert.deepEqual(seen.body, whole.subarray(0, Math.floor(whole.length / 2)));
      assert.ok(seen.bodyError, 'the client sees the body end early');
    });

    it('truncated=short: a whole answer of half the image, which only decoding shows', async () => {
      const { sample } = await readyTask(emu);
      const whole = answer(await see(downloadCall(sample))).body;
      emu.injectFault('download:truncated=short');
      const seen = answer(await see(downloadCall(sample)));
      assert.equal(seen.status, 200);
      assert.equal(seen.bodyError, null);
      assert.equal(seen.body.length, Math.floor(whole.length / 2));
      assert.equal(Number(seen.headers['content-length']), seen.body.length);
      assert.equal(seen.headers['content-md5'], createHash('md5').update(seen.body).digest('base64'));
      await assert.rejects(sharp(seen.body).raw().toBuffer());
    });

    it('expired: answers 403 AuthenticationFailed; a new poll gives a link that works', async () => {
      const { pollingUrl, sample } = await readyTask(emu);
      emu.injectFault('download:expired');
      const seen = answer(await see(downloadCall(sample)));
      assert.equal(seen.status, 403);
      assert.match(seen.body.toString(), /<Code>AuthenticationFailed<\/Code>/);
      assert.equal(seen.headers['x-ms-error-code'], 'AuthenticationFailed');
      assert.equal(answer(await see(downloadCall(sample))).status, 403, 'the link stays expired');
      const fresh = json(await see(pollCall(pollingUrl))).result.sample;
      assert.notEqual(fresh, sample);
      assert.equal(answer(await see(downloadCall(fresh))).status, 200);
    });

    it('expired=404: answers BlobNotFound', async () => {
      const { sample } = await readyTask(emu);
      emu.injectFault('download:expired=404');
      const seen = answer(await see(downloadCall(sample)));
      assert.equal(seen.status, 404);
      assert.match(seen.body.toString(), /<Code>BlobNotFound<\/Code>/);
    });
  });

  describe('500-after-create', () => {
    it('answers a submit 500 while its task exists, is charged and finishes', async () => {
      emu.injectFault('submit:500-after-create');
      const seen = answer(await see(await submitCall(emu)));
      assert.equal(seen.status, 500);
      assert.deepEqual(json(seen), { detail: 'Internal Server Error' });
      const task = [...emu.tasks.values()][0]!;
      assert.equal(emu.credits(KEY), 995);
      assert.equal(emu.faults[0]!.taskId, task.id);
      assert.equal((await emu.waitForTask((t) => t.id === task.id && t.status === 'Ready')).status, 'Ready');
    });

    it('answers the 5xx it is given', async () => {
      emu.injectFault('submit:500-after-create=502');
      assert.equal(answer(await see(await submitCall(emu))).status, 502);
      assert.equal(emu.tasks.size, 1);
    });

    it('waits for a submit that creates a task: a refused one answers as usual and leaves the fault', async () => {
      emu.injectFault('submit:500-after-create');
      const call = await submitCall(emu);
      const refused = answer(await see({ ...call, headers: { ...call.headers, 'x-key': 'short' } }));
      assert.equal(refused.status, 422);
      assert.equal(emu.tasks.size, 0);
      assert.equal(emu.faults.length, 0);
      assert.equal(answer(await see(await submitCall(emu))).status, 500);
    });
  });
});
