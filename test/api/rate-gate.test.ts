import assert from 'node:assert/strict';
import { RateGate } from '../../lib/api/rate-gate';

function fakeClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

describe('the account’s poll rate', () => {
  it('lets polls through while the window has room', async () => {
    const clock = fakeClock();
    const gate = new RateGate(clock.now);
    gate.observe(200, { 'x-ratelimit-limit': '1200', 'x-ratelimit-remaining': '2', 'x-ratelimit-reset': '1' });
    await gate.pass(new AbortController().signal);
    assert.equal(gate.waitMs(), 0);
  });

  it('holds every poll until the window resets once it is used up, counting the polls sent meanwhile', async () => {
    const clock = fakeClock();
    const gate = new RateGate(clock.now);
    const reset = ((clock.now() + 800) / 1000).toFixed(3);
    gate.observe(200, { 'x-ratelimit-remaining': '1', 'x-ratelimit-reset': reset });
    await gate.pass(new AbortController().signal);
    assert.equal(gate.waitMs(), 800);
    clock.advance(800);
    assert.equal(gate.waitMs(), 0);
  });

  it('holds every poll for as long as a 429 asks', () => {
    const clock = fakeClock();
    const gate = new RateGate(clock.now);
    gate.observe(429, { 'retry-after': '2' });
    assert.equal(gate.waitMs(), 2_000);
    clock.advance(1_500);
    assert.equal(gate.waitMs(), 500);
  });

  it('takes a refusal’s Retry-After over the window it names', () => {
    const clock = fakeClock();
    const gate = new RateGate(clock.now);
    const reset = ((clock.now() + 1_000) / 1000).toFixed(3);
    gate.observe(429, { 'retry-after': '0', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset });
    assert.equal(gate.waitMs(), 0);
    gate.observe(429, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset });
    assert.equal(gate.waitMs(), 1_000);
  });

  it('takes no Retry-After on a 200 as a reason to wait: BFL sends one on every poll', () => {
    const gate = new RateGate(fakeClock().now);
    gate.observe(200, { 'retry-after': '1' });
    assert.equal(gate.waitMs(), 0);
  });

  it('never holds longer than a minute, whatever a header says', () => {
    const gate = new RateGate(fakeClock().now);
    gate.observe(429, { 'retry-after': '86400' });
    assert.equal(gate.waitMs(), 60_000);
  });

  it('stops waiting when the job ends', async () => {
    const gate = new RateGate();
    gate.observe(429, { 'retry-after': '30' });
    const controller = new AbortController();
    const passing = gate.pass(controller.signal);
    controller.abort(new Error('closed'));
    await assert.rejects(passing, { name: 'AbortError' });
  });
});
