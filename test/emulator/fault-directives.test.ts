import assert from 'node:assert/strict';
import type { BflEmulator } from '../../lib/emulator';
import { basicBody, pollUntilDone, startEmulator, submitOk } from './helpers';
import { answer, codeOf, downloadCall, json, LogWatch, pollCall, see, submitCall } from './fault-helpers';

/** Faults one task asks for in its prompt: `[emulate:fault=target:kind[=arg][:xN],...]`. */
describe('emulator faults: prompt directives', () => {
  let emu: BflEmulator;
  const watch = new LogWatch();

  before(async () => {
    emu = await startEmulator({ log: watch.log });
  });
  afterEach(() => emu.reset());
  after(() => emu.close());

  const prompted = (directive: string) => submitCall(emu, { prompt: `a red balloon ${directive}` });

  it('faults the polls of its own task only', async () => {
    const faulted = await submitOk(emu, await basicBody({ prompt: 'x [emulate:fault=poll:status=503:x2]' }));
    const plain = await submitOk(emu, await basicBody());
    assert.equal(answer(await see(pollCall(faulted.polling_url))).status, 503);
    assert.equal(answer(await see(pollCall(plain.polling_url))).status, 200);
    assert.equal(answer(await see(pollCall(faulted.polling_url))).status, 503);
    assert.equal(answer(await see(pollCall(faulted.polling_url))).status, 200);
    assert.deepEqual(
      emu.faults.map((f) => [f.fault, f.source, f.taskId]),
      [
        ['poll:status=503', 'prompt', faulted.id],
        ['poll:status=503', 'prompt', faulted.id],
      ],
    );
  });

  it('answers the first polls with an unknown in-progress word, then the task’s own', async () => {
    const submitted = await submitOk(
      emu,
      await basicBody({ prompt: '[emulate:fault=poll:unknown-status=generating x2]' }),
    );
    await emu.waitForTask((t) => t.id === submitted.id && t.status === 'Ready');
    assert.equal(json(await see(pollCall(submitted.polling_url))).status, 'Generating');
    assert.equal(json(await see(pollCall(submitted.polling_url))).status, 'Generating');
    assert.equal(json(await see(pollCall(submitted.polling_url))).status, 'Ready');
  });

  it('expires the task’s first link, and the one a new poll gives works', async () => {
    const submitted = await submitOk(emu, await basicBody({ prompt: '[emulate:fault=download:expired]' }));
    const first = (await pollUntilDone(submitted.polling_url)).json.result.sample;
    assert.equal(answer(await see(downloadCall(first))).status, 403);
    const fresh = json(await see(pollCall(submitted.polling_url))).result.sample;
    assert.equal(answer(await see(downloadCall(fresh))).status, 200);
  });

  it('breaks off the task’s download', async () => {
    const submitted = await submitOk(emu, await basicBody({ prompt: '[emulate:fault=download:break]' }));
    const sample = (await pollUntilDone(submitted.polling_url)).json.result.sample;
    const seen = answer(await see(downloadCall(sample)));
    assert.ok(seen.bodyError);
    assert.equal(answer(await see(downloadCall(sample))).bodyError, null);
  });

  it('reads several faults from one marker and from several markers, in order', async () => {
    const prompt = 'cat [emulate:fault=poll:reset-before,poll:503] on a mat [emulate:fault=poll:unknown-status]';
    const submitted = await submitOk(emu, await basicBody({ prompt }));
    const first = await see(pollCall(submitted.polling_url));
    assert.equal(first.kind === 'no-answer' && codeOf(first.error), 'ECONNRESET');
    assert.equal(answer(await see(pollCall(submitted.polling_url))).status, 503);
    assert.equal(json(await see(pollCall(submitted.polling_url))).status, 'Queued');
    assert.equal(answer(await see(pollCall(submitted.polling_url))).status, 200);
  });

  it('creates the task of a submit answered 500, and does so again for the next job with that prompt', async () => {
    const call = await prompted('[emulate:fault=submit:500-after-create]');
    assert.equal(answer(await see(call)).status, 500);
    assert.equal(answer(await see(call)).status, 500);
    assert.equal(emu.tasks.size, 2);
    assert.deepEqual(
      emu.faults.map((f) => f.taskId),
      [...emu.tasks.keys()],
    );
  });

  it('resets a submit after creating its task (submitted, outcome unknown)', async () => {
    const seen = await see(await prompted('[emulate:fault=submit:reset-after]'));
    assert.equal(seen.kind, 'no-answer');
    assert.equal(emu.tasks.size, 1);
  });

  it('answers a storm of 429s to a prompt’s submits, takes the next, and starts over for a new job', async () => {
    const call = await prompted('[emulate:fault=submit:rate-limit-storm=0:x2]');
    for (const expected of [429, 429, 200, 429, 429, 200]) assert.equal(answer(await see(call)).status, expected);
    assert.equal(emu.tasks.size, 2);
  });

  it('keeps the submit faults of different prompts apart', async () => {
    const stormy = await prompted('[emulate:fault=submit:rate-limit-storm=0:x1]');
    const other = await prompted('[emulate:fault=submit:503]');
    assert.equal(answer(await see(stormy)).status, 429);
    assert.equal(answer(await see(other)).status, 503);
    assert.equal(answer(await see(stormy)).status, 200);
    assert.equal(answer(await see(other)).status, 503, 'a 503 is not retried, so the next submit is a new job');
  });

  it('lets an injected fault go first', async () => {
    emu.injectFault('poll:502');
    const submitted = await submitOk(emu, await basicBody({ prompt: '[emulate:fault=poll:503]' }));
    assert.equal(answer(await see(pollCall(submitted.polling_url))).status, 502);
    assert.equal(answer(await see(pollCall(submitted.polling_url))).status, 503);
  });

  it('combines with outcome directives', async () => {
    const submitted = await submitOk(emu, await basicBody({ prompt: '[emulate:failed] [emulate:fault=poll:503]' }));
    assert.equal(answer(await see(pollCall(submitted.polling_url))).status, 503);
    assert.equal((await pollUntilDone(submitted.polling_url)).json.status, 'Failed');
  });

  it('says in the log why a directive did nothing, and submits as usual', async () => {
    const refused = watch.next(/fault directive ignored: .*malformed-json/);
    const notPerTask = watch.next(/fault directive ignored: credits faults are not per task/);
    const submitted = await submitOk(
      emu,
      await basicBody({ prompt: '[emulate:fault=download:malformed-json,credits:503,poll:nonsense]' }),
    );
    await refused;
    await notPerTask;
    assert.ok(watch.lines.some((line) => /fault directive ignored: .*nonsense/.test(line)));
    assert.equal(answer(await see(pollCall(submitted.polling_url))).status, 200);
    assert.equal(emu.faults.length, 0);
  });
});
