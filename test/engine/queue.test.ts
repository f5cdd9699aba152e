import assert from 'node:assert/strict';
import { ArrivalOrder, TaskSlots } from '../../lib/engine/queue';

describe('task slots', () => {
  it('grants up to the limit at once and queues the rest in order', async () => {
    const slots = new TaskSlots(2, 10);
    const signal = new AbortController().signal;
    const first = await slots.acquire(signal);
    await slots.acquire(signal);
    const order: number[] = [];
    const third = slots.acquire(signal).then((release) => (order.push(3), release));
    const fourth = slots.acquire(signal).then((release) => (order.push(4), release));
    assert.equal(slots.active, 2);
    assert.equal(slots.waiting, 2);
    first();
    first(); // releasing twice must not free two slots
    (await third)();
    (await fourth)();
    assert.deepEqual(order, [3, 4]);
    assert.equal(slots.active, 1);
    assert.equal(slots.waiting, 0);
  });

  it('refuses with BFL_QUEUE_FULL when the queue is full', async () => {
    const slots = new TaskSlots(1, 1);
    const signal = new AbortController().signal;
    await slots.acquire(signal);
    const waiting = slots.acquire(signal);
    assert.equal(slots.hasRoom, false);
    await assert.rejects(slots.acquire(signal), { code: 'BFL_QUEUE_FULL' });
    assert.equal(slots.waiting, 1);
    void waiting;
  });

  it('drops a waiter whose signal aborts', async () => {
    const slots = new TaskSlots(1, 5);
    const release = await slots.acquire(new AbortController().signal);
    const controller = new AbortController();
    const waiting = slots.acquire(controller.signal);
    controller.abort(new Error('closed'));
    await assert.rejects(waiting, /closed/);
    assert.equal(slots.waiting, 0);
    release();
    assert.equal(slots.active, 0);
  });
});

describe('task slots: adopted tasks', () => {
  it('counts an adopted task at once, over the limit, and lets waiters in only below the limit', async () => {
    const slots = new TaskSlots(1, 10);
    const first = await slots.acquire(new AbortController().signal);
    const adopted = slots.adopt();
    assert.equal(slots.active, 2);
    let granted = false;
    const waiting = slots.acquire(new AbortController().signal).then((release) => {
      granted = true;
      return release;
    });
    first();
    await Promise.resolve();
    assert.equal(granted, false, 'still over the limit with the adopted task');
    assert.equal(slots.active, 1);
    adopted();
    const release = await waiting;
    assert.equal(slots.active, 1);
    release();
    assert.equal(slots.active, 0);
  });
});

describe('task slots: a redeployed account', () => {
  it('counts the tasks its predecessor still runs, and frees a slot as each of them ends', async () => {
    const signal = new AbortController().signal;
    const before = new TaskSlots(2, 10);
    const first = await before.acquire(signal);
    const second = await before.acquire(signal);
    const after = new TaskSlots(2, 10);
    before.passOn(after);
    assert.equal(after.active, 2);
    let started = false;
    const waiting = after.acquire(signal).then((release) => ((started = true), release));
    await Promise.resolve();
    assert.equal(started, false, 'a third task ran beside the two of the old account');
    first();
    first();
    const release = await waiting;
    assert.equal(after.active, 2);
    second();
    assert.equal(after.active, 1);
    release();
    assert.equal(after.active, 0);
    assert.equal(before.active, 0);
  });

  it('passes on along a chain of redeploys', async () => {
    const signal = new AbortController().signal;
    const first = new TaskSlots(1, 10);
    const release = await first.acquire(signal);
    const second = new TaskSlots(1, 10);
    first.passOn(second);
    const third = new TaskSlots(1, 10);
    second.passOn(third);
    assert.equal(third.active, 1);
    release();
    assert.equal(third.active, 0);
    assert.equal(second.active, 0);
  });
});

describe('arrival order', () => {
  it('lets messages enter the queue in the order they arrived, whenever their preparation ends', async () => {
    const arrivals = new ArrivalOrder(3);
    const signal = new AbortController().signal;
    const entered: number[] = [];
    const finishes = [30, 5, 15];
    await Promise.all(
      finishes.map(async (ms, index) => {
        const turn = arrivals.arrive(signal);
        try {
          await turn.mayPrepare;
          await new Promise((resolve) => setTimeout(resolve, ms));
          await turn.mayEnter;
        } finally {
          turn.leave();
        }
        entered.push(index);
      }),
    );
    assert.deepEqual(entered, [0, 1, 2]);
    assert.equal(arrivals.inLine, 0);
  });

  it('lets few prepare at once, the earliest first', async () => {
    const arrivals = new ArrivalOrder(1);
    const signal = new AbortController().signal;
    const first = arrivals.arrive(signal);
    const second = arrivals.arrive(signal);
    let secondMayPrepare = false;
    void second.mayPrepare.then(() => (secondMayPrepare = true));
    await first.mayPrepare;
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(secondMayPrepare, false);
    assert.equal(arrivals.inLine, 2);
    first.leave();
    await second.mayPrepare;
    second.leave();
    assert.equal(arrivals.inLine, 0);
    const third = arrivals.arrive(signal);
    await third.mayPrepare;
    third.leave();
  });

  it('lets the next message go on when one ends before it enters the queue', async () => {
    const arrivals = new ArrivalOrder(1);
    const signal = new AbortController().signal;
    const failing = arrivals.arrive(signal);
    const next = arrivals.arrive(signal);
    failing.leave();
    failing.leave();
    await next.mayPrepare;
    await next.mayEnter;
    next.leave();
    assert.equal(arrivals.inLine, 0);
  });

  it('stops waiting for its turn when the message ends, and lets the next go on', async () => {
    const arrivals = new ArrivalOrder(1);
    const first = arrivals.arrive(new AbortController().signal);
    const controller = new AbortController();
    const closed = arrivals.arrive(controller.signal);
    const last = arrivals.arrive(new AbortController().signal);
    controller.abort(new Error('closed'));
    await assert.rejects(closed.mayPrepare, /closed/);
    closed.leave();
    first.leave();
    await last.mayPrepare;
    await last.mayEnter;
    last.leave();
    assert.equal(arrivals.inLine, 0);
  });
});
