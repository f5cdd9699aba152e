/**
 * Closing a bfl-fill node in every phase of its jobs: deleted (a full deploy without it), disabled (its flow tab
 * disabled) and stopped (the flows stopped, no successor started). Each close must settle every message, leave
 * no timer, socket or listener behind (handles counted with process.getActiveResourcesInfo(), listeners on the
 * process and on Node-RED's runtime events, both against a baseline taken before the flow was loaded) and finish
 * well inside Node-RED's 15 s close timeout, also with 100 messages waiting in the queue.
 *
 * How a job is held in each phase:
 * - preparing: every thread of libuv's pool is kept busy (pbkdf2), so sharp cannot decode the image yet;
 * - queued: maxConcurrent 1 and a task that never finishes ahead of it;
 * - submitting: the emulator stalls the submit (`[emulate:fault=submit:stall]`);
 * - polling: a task that stays Pending (`[emulate:stuck]`);
 * - downloading: the emulator stalls the download (`[emulate:fault=download:stall]`);
 * - composing: the thread pool is made busy the moment the emulator has sent the result, so pasting it back
 *   waits for a thread.
 *
 * A node closed for a redeploy (the same node, changed) hands its submitted jobs to its successor: that is
 * tested in bfl-fill.test.ts; here no successor ever comes.
 */
import assert from 'node:assert/strict';
import { pbkdf2 } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import * as nodeRedUtil from '@node-red/util';
import type { BflEmulator } from '../../lib/emulator';
import type { Account } from '../../lib/engine/account';
import { TEST_KEY, gradientPng, rectangleMask, startEmulator } from '../support/emulator';
import { configNode, fillNode, flow, helper, node, settings, type FlowNode } from './flow';

helper.init(require.resolve('node-red'));

const FAST = { bflConfigPollInterval: 10, bflConfigRetryDelay: 5 };
/** Node-RED gives a closing node this long before it reports "Close timed out". */
const NODE_RED_CLOSE_TIMEOUT_MS = 15_000;
/** Well inside it: the bound every close here must keep. */
const CLOSE_BOUND_MS = 3_000;
const THREADS = Number(process.env.UV_THREADPOOL_SIZE) || 4;
/** How long the thread pool is kept busy to hold a job in preparing or composing. */
const BLOCK_MS = 500;

type Phase = 'preparing' | 'queued' | 'submitting' | 'polling' | 'downloading' | 'composing';
type CloseKind = 'delete' | 'disable' | 'stop';

const PHASES: readonly Phase[] = ['preparing', 'queued', 'submitting', 'polling', 'downloading', 'composing'];
const CLOSES: readonly CloseKind[] = ['delete', 'disable', 'stop'];

const hooks = (nodeRedUtil as unknown as { hooks: { add(name: string, fn: (event: any) => void): void } }).hooks;
const removeHooks = () =>
  (nodeRedUtil as unknown as { hooks: { remove(name: string): void } }).hooks.remove('*.lifecycle');
const runtimeEvents = (nodeRedUtil as unknown as { events: EventEmitter }).events;

/** How many of each kind of handle and request keep the event loop alive right now. */
function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

/** Listeners on the process and on Node-RED's runtime events, by event name. */
function listeners(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of process.eventNames()) counts[`process:${String(name)}`] = process.listenerCount(name);
  for (const name of runtimeEvents.eventNames())
    counts[`RED.events:${String(name)}`] = runtimeEvents.listenerCount(name);
  return counts;
}

/** What `now` holds beyond `baseline`: kinds with more entries than before. */
function excess(baseline: Record<string, number>, now: Record<string, number>): Record<string, number> {
  const extra: Record<string, number> = {};
  for (const [kind, count] of Object.entries(now)) {
    if (count > (baseline[kind] ?? 0)) extra[kind] = count - (baseline[kind] ?? 0);
  }
  return extra;
}

/** Resolves once `check` holds, polling every 5 ms; rejects with `what` after `timeoutMs`. */
async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Keeps every thread of libuv's pool busy for about `ms`: sharp's work waits behind it. */
function blockThreadPool(ms: number): Promise<void> {
  // Iterations per millisecond with every thread busy: calibrated once in before().
  const iterations = Math.max(1, Math.round(ms * iterationsPerMs));
  return Promise.all(
    Array.from(
      { length: THREADS },
      () =>
        new Promise<void>((resolve, reject) =>
          pbkdf2('lifecycle', 'salt', iterations, 32, 'sha256', (error) => (error ? reject(error) : resolve())),
        ),
    ),
  ).then(() => undefined);
}
let iterationsPerMs = 1_000;

interface Row {
  close: CloseKind;
  phase: string;
  messages: number;
  settled: number;
  closeMs: number;
  settledMs: number;
  codes: string;
  leftover: string;
}
const rows: Row[] = [];

describe('bfl-fill lifecycle: closing in every phase', function () {
  this.timeout(30_000);
  let emulator: BflEmulator;
  let image: Buffer;
  let mask: Buffer;
  /** Set by a test to run when the emulator has sent a result (the composing phase starts then). */
  let onDelivered: (() => void) | undefined;
  let baseline: Record<string, number>;
  let baselineListeners: Record<string, number>;
  let settled: Array<{ error?: { code?: string; message?: string } }>;

  before(async () => {
    emulator = await startEmulator({
      stallMs: 60_000,
      log: (line) => {
        if (/^GET delivery \S+ 200 /.test(line)) onDelivered?.();
      },
    });
    image = await gradientPng(40, 30);
    mask = await rectangleMask(40, 30, { left: 10, top: 10, width: 10, height: 10 });
    settings(FAST);
    // Calibrated with every thread busy at once, as blockThreadPool runs them.
    const calibration = 200_000;
    const start = Date.now();
    iterationsPerMs = 1;
    await blockThreadPool(calibration);
    iterationsPerMs = calibration / Math.max(1, Date.now() - start);
    // One flow loaded and unloaded first, so what Node-RED keeps for good (its registry, express) is in the baseline.
    await helper.load([configNode, fillNode], flow({}, account()), credentials);
    await helper.unload();
    runtimeEvents.emit('flows:started', {});
  });

  beforeEach(async () => {
    emulator.reset();
    onDelivered = undefined;
    settled = [];
    // Idle sockets of earlier tests (the emulator's keep-alive side) close within its keepAliveTimeout.
    await new Promise((resolve) => setTimeout(resolve, 50));
    baseline = activeResources();
    baselineListeners = listeners();
    hooks.add(
      'onComplete.lifecycle',
      (event: { node: { id: string }; error?: { code?: string; message?: string } }) => {
        if (event.node.id === 'fill') settled.push({ error: event.error });
      },
    );
  });

  afterEach(async () => {
    removeHooks();
    await helper.unload();
    runtimeEvents.emit('flows:started', {});
  });

  after(async () => {
    settings({});
    await emulator.close();
    console.log(
      '\n  close   | phase                   | msgs | settled | close ms | all settled ms | codes         | left behind',
    );
    for (const row of rows) {
      console.log(
        `  ${row.close.padEnd(7)} | ${row.phase.padEnd(23)} | ${String(row.messages).padStart(4)} | ${String(row.settled).padStart(7)} | ${String(row.closeMs).padStart(8)} | ${String(row.settledMs).padStart(14)} | ${row.codes.padEnd(13)} | ${row.leftover}`,
      );
    }
  });

  const account = () => ({ region: 'custom', baseUrl: emulator.apiUrl });
  const credentials = { cfg: { apiKey: TEST_KEY } };

  function flowOf(fill: Record<string, unknown>, config: Record<string, unknown>): FlowNode[] {
    return flow(fill, { ...account(), ...config });
  }

  const accountOf = (): Account => (helper.getNode('cfg') as unknown as { account: Account }).account;
  const slots = async () => (await accountOf().service()).slots;

  /** Loads the flow for `phase` and sends `count` messages; resolves once the last one is in that phase. */
  async function hold(
    phase: Phase,
    count = 1,
  ): Promise<{ fill: Record<string, unknown>; config: Record<string, unknown> }> {
    const config: Record<string, unknown> = { maxConcurrent: phase === 'queued' || count > 1 ? 1 : 2 };
    const prompts: Record<Phase, string> = {
      preparing: 'a lamp',
      queued: '[emulate:stuck]',
      submitting: '[emulate:fault=submit:stall]',
      polling: '[emulate:stuck]',
      downloading: '[emulate:fault=download:stall]',
      composing: 'a lamp',
    };
    const fill = { prompt: prompts[phase], outputFormat: 'png', timeout: 60 };
    await helper.load([configNode, fillNode], flowOf(fill, config), credentials);
    const send = () => node('fill').receive({ payload: image, mask });
    const faultApplied = (spec: string) => () => emulator.faults.some((f) => f.fault === spec);
    switch (phase) {
      case 'preparing': {
        const blocked = blockThreadPool(BLOCK_MS);
        blocked.catch(() => undefined);
        for (let i = 0; i < count; i += 1) send();
        // The input handler has run and is waiting for sharp, which waits for a thread.
        await new Promise((resolve) => setTimeout(resolve, 50));
        break;
      }
      case 'queued': {
        for (let i = 0; i < count + 1; i += 1) send();
        await emulator.waitForTask();
        const s = await slots();
        await until(() => s.waiting === count, `${count} queued jobs`);
        break;
      }
      case 'submitting':
        for (let i = 0; i < count; i += 1) send();
        await until(faultApplied('submit:stall=headers'), 'the stalled submit');
        break;
      case 'polling':
        for (let i = 0; i < count; i += 1) send();
        await until(
          () => emulator.requests.some((r) => r.origin === 'cluster' && r.status === 200),
          'a poll of the stuck task',
        );
        break;
      case 'downloading':
        for (let i = 0; i < count; i += 1) send();
        await until(faultApplied('download:stall=headers'), 'the stalled download');
        break;
      case 'composing': {
        let blocked: Promise<void> | undefined;
        onDelivered = () => {
          onDelivered = undefined;
          blocked = blockThreadPool(BLOCK_MS);
          blocked.catch(() => undefined);
        };
        for (let i = 0; i < count; i += 1) send();
        await until(() => blocked !== undefined, 'the result sent');
        // The client reads the last bytes and starts composing, which waits for a thread.
        await new Promise((resolve) => setTimeout(resolve, 50));
        break;
      }
    }
    return { fill, config };
  }

  /** Closes the fill node the way `kind` says; resolves with how long Node-RED took to stop it. */
  async function close(
    kind: CloseKind,
    fill: Record<string, unknown>,
    config: Record<string, unknown>,
  ): Promise<number> {
    const start = Date.now();
    switch (kind) {
      case 'delete':
        await helper.setFlows(
          flowOf(fill, config).filter((n) => n.id !== 'fill'),
          'full',
          credentials,
        );
        break;
      case 'disable':
        await helper.setFlows(
          flowOf(fill, config).map((n) => (n.type === 'tab' ? { ...n, disabled: true } : n)),
          'full',
          credentials,
        );
        break;
      case 'stop': {
        // The flows stop as at a shutdown and nothing starts again: no successor takes the jobs.
        await helper.unload();
        const stopped = Date.now() - start;
        runtimeEvents.emit('flows:started', {});
        return stopped;
      }
    }
    return Date.now() - start;
  }

  /** `queued`: for the queued phase, how many messages wait behind the polled one. */
  async function closeAndCheck(kind: CloseKind, phase: Phase, queued = 1): Promise<void> {
    const messages = phase === 'queued' ? queued + 1 : 1;
    const { fill, config } = await hold(phase, phase === 'queued' ? queued : 1);
    const start = Date.now();
    const closeMs = await close(kind, fill, config);
    // Checked below, with the rest: a message that never settles must not hide what else the close left.
    await until(() => settled.length >= messages, 'every message settled', 5_000).catch(() => undefined);
    const settledMs = Date.now() - start;
    // Whatever the jobs held is released once they have settled; the emulator's side of a socket closes when
    // the client's does, a moment later.
    let leftover: Record<string, number> = {};
    try {
      await until(() => Object.keys(excess(baseline, activeResources())).length === 0, 'the baseline', 2_000);
    } catch {
      leftover = excess(baseline, activeResources());
    }
    const extraListeners = excess(baselineListeners, listeners());
    const codes = [...new Set(settled.map((s) => s.error?.code ?? 'ok'))].sort().join(',');
    rows.push({
      close: kind,
      phase: phase === 'queued' ? `queued (${queued}, 1 polling)` : phase,
      messages,
      settled: settled.length,
      closeMs,
      settledMs,
      codes,
      leftover: JSON.stringify({ ...leftover, ...extraListeners }),
    });

    assert.equal(
      settled.length,
      messages,
      `${messages - settled.length} of ${messages} messages never settled (done() was not called within 5 s)`,
    );
    for (const { error } of settled) {
      assert.equal(error?.code, 'BFL_CANCELLED', `settled with ${JSON.stringify(error)}`);
      assert.match(String(error?.message), /cancelled because the node was stopped or redeployed/);
    }
    assert.ok(closeMs < CLOSE_BOUND_MS, `closing took ${closeMs} ms (Node-RED allows ${NODE_RED_CLOSE_TIMEOUT_MS})`);
    assert.ok(settledMs < CLOSE_BOUND_MS, `settling took ${settledMs} ms`);
    assert.deepEqual(leftover, {}, 'handles left behind');
    assert.deepEqual(extraListeners, {}, 'listeners left behind');
    // No request goes out after the close: count, wait several poll intervals, count again.
    const seen = emulator.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(emulator.requests.length, seen, 'requests after the close');
  }

  for (const kind of CLOSES) {
    for (const phase of PHASES) {
      it(`${kind}: while ${phase}`, async () => {
        await closeAndCheck(kind, phase);
        const submits = emulator.requests.filter((r) => r.method === 'POST').length;
        const expectedSubmits: Record<Phase, number> = {
          preparing: 0,
          queued: 1,
          submitting: 1,
          polling: 1,
          downloading: 1,
          composing: 1,
        };
        assert.equal(submits, expectedSubmits[phase], 'submits');
        if (phase === 'composing') {
          assert.ok(
            emulator.requests.some((r) => r.origin === 'delivery' && r.status === 200),
            'the result was downloaded',
          );
        }
      });
    }
    it(`${kind}: with 100 messages queued behind a polled task (maxConcurrent 1)`, async () => {
      await closeAndCheck(kind, 'queued', 100);
      assert.equal(emulator.requests.filter((r) => r.method === 'POST').length, 1, 'submits');
    });
  }
});
