import assert from 'node:assert/strict';
import { BflEmulator } from '../../lib/emulator';
import { startEmulator } from './helpers';
import { FAULT_APPLIES_TO } from '../../lib/emulator/fault-specs';
import { answer, creditsCall, json, pollCall, see, submitCall, type Seen } from './fault-helpers';

/** What a run of requests met: the status of each, or 'reset' when no answer came. */
async function statuses(emu: BflEmulator, calls: number, call = creditsCall(emu)): Promise<(number | 'reset')[]> {
  const seen: (number | 'reset')[] = [];
  for (let i = 0; i < calls; i++) {
    const one: Seen = await see(call);
    seen.push(one.kind === 'answer' ? one.status : 'reset');
  }
  return seen;
}

/** Faults drawn at random at `faultRate`, from `faults`, reproducibly with `seed`. */
describe('emulator faults: by rate', () => {
  const open: BflEmulator[] = [];
  const start = async (options: Parameters<typeof BflEmulator.start>[0]) => {
    const emu = await startEmulator(options);
    open.push(emu);
    return emu;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((emu) => emu.close()));
  });

  it('faults no request by default', async () => {
    const emu = await start({});
    assert.deepEqual(await statuses(emu, 20), Array<number>(20).fill(200));
    assert.equal(emu.faults.length, 0);
  });

  it('faults every request at rate 1, only with the faults listed and only on their endpoints', async () => {
    const emu = await start({ faultRate: 1, faults: ['poll:status=502'] });
    const { id, polling_url: pollingUrl } = json(await see(await submitCall(emu)));
    assert.equal(answer(await see(pollCall(pollingUrl))).status, 502);
    assert.deepEqual(await statuses(emu, 5), [200, 200, 200, 200, 200]);
    assert.deepEqual(
      emu.faults.map((f) => [f.fault, f.source, f.taskId]),
      [['poll:status=502', 'rate', id]],
    );
  });

  it('draws the same faults from the same seed, and other faults from another', async () => {
    const options = { faultRate: 0.5, faults: ['credits:status=500'] };
    const first = await statuses(await start({ ...options, seed: 42 }), 40);
    const again = await statuses(await start({ ...options, seed: 42 }), 40);
    const other = await statuses(await start({ ...options, seed: 7 }), 40);
    assert.deepEqual(again, first);
    assert.notDeepEqual(other, first);
    const faulted = first.filter((s) => s === 500).length;
    assert.ok(faulted > 5 && faulted < 35, `${faulted} of 40 faulted at rate 0.5`);
  });

  it('reports its seed, and replays the same draws after reset()', async () => {
    const emu = await start({ faultRate: 0.3, faults: ['credits:503', 'credits:reset-before'] });
    assert.ok(Number.isInteger(emu.faultSeed));
    const first = await statuses(emu, 30);
    const applied = emu.faults.map((f) => f.fault);
    emu.reset();
    assert.deepEqual(await statuses(emu, 30), first);
    assert.deepEqual(
      emu.faults.map((f) => f.fault),
      applied,
    );
    const replay = await start({
      faultRate: 0.3,
      faults: ['credits:503', 'credits:reset-before'],
      seed: emu.faultSeed,
    });
    assert.deepEqual(await statuses(replay, 30), first);
  });

  it('answers the whole count of a drawn storm in a row', async () => {
    const emu = await start({ faultRate: 0.2, faults: ['credits:rate-limit-storm=0:x3'], seed: 3 });
    const seen = await statuses(emu, 60);
    const firstStorm = seen.indexOf(429);
    assert.ok(firstStorm >= 0, 'a storm was drawn');
    assert.deepEqual(seen.slice(firstStorm, firstStorm + 3), [429, 429, 429]);
    // Every run of 429s is a whole number of storms.
    const runs = seen
      .join(',')
      .split(/,?200,?/)
      .filter((run) => run !== '')
      .map((run) => run.split(',').length);
    for (const run of runs) assert.equal(run % 3, 0, `a run of ${run} 429s`);
    assert.deepEqual(new Set(emu.faults.map((f) => f.source)), new Set(['rate']));
  });

  it('draws from every kind that applies to the endpoint by default', async () => {
    const emu = await start({ faultRate: 1, seed: 5, stallMs: 1, restartMs: 1 });
    for (let i = 0; i < 40; i++) {
      await see(creditsCall(emu));
      // A drawn restart takes the API origin down for a moment.
      await emu.whenListening();
    }
    assert.ok(
      emu.requests.every((r) => r.fault !== undefined),
      'every request met a fault',
    );
    const kinds = new Set(emu.faults.map((f) => f.kind));
    for (const kind of kinds) assert.ok(FAULT_APPLIES_TO[kind].includes('credits'), kind);
    assert.ok(kinds.size >= 5, [...kinds].join(', '));
  });

  it('lets injected and prompt faults go first', async () => {
    const emu = await start({ faultRate: 1, faults: ['poll:503'] });
    const { polling_url: pollingUrl } = json(
      await see(await submitCall(emu, { prompt: '[emulate:fault=poll:unknown-status=Reasoning]' })),
    );
    emu.injectFault('poll:502');
    assert.equal(answer(await see(pollCall(pollingUrl))).status, 502);
    assert.equal(json(await see(pollCall(pollingUrl))).status, 'Reasoning');
    assert.equal(answer(await see(pollCall(pollingUrl))).status, 503);
    assert.deepEqual(
      emu.faults.map((f) => f.source),
      ['injected', 'prompt', 'rate'],
    );
  });

  it('refuses options that cannot be', async () => {
    await assert.rejects(BflEmulator.start({ faultRate: 1.5 }), RangeError);
    await assert.rejects(BflEmulator.start({ faultRate: -0.1 }), RangeError);
    await assert.rejects(BflEmulator.start({ faults: ['download:malformed-json'] }), /applies to submit, poll/);
    await assert.rejects(BflEmulator.start({ faults: ['poll:teapot'] }), RangeError);
    await assert.rejects(BflEmulator.start({ seed: -1 }), RangeError);
    await assert.rejects(BflEmulator.start({ seed: 1.5 }), RangeError);
    await assert.rejects(BflEmulator.start({ stallMs: -1 }), RangeError);
  });
});
