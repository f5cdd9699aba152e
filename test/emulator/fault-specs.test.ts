import assert from 'node:assert/strict';
import {
  describeFault,
  everyFault,
  FAULT_APPLIES_TO,
  FAULT_KINDS,
  parseFaultSpec,
  promptFaults,
  resolveFault,
  toResolvedFault,
} from '../../lib/emulator/fault-specs';
import { FaultQueue } from '../../lib/emulator/faults';

const described = (spec: string) => describeFault(toResolvedFault(spec));

describe('emulator faults: the vocabulary', () => {
  it('reads target:kind[=arg][:xN]', () => {
    assert.deepEqual(parseFaultSpec('poll:reset-after'), { target: 'poll', kind: 'reset-after' });
    assert.deepEqual(parseFaultSpec('poll:status=503:x3'), { target: 'poll', kind: 'status', status: 503, count: 3 });
    assert.deepEqual(parseFaultSpec('submit:rate-limit-storm=2:x10'), {
      target: 'submit',
      kind: 'rate-limit-storm',
      retryAfterSeconds: 2,
      count: 10,
    });
    assert.deepEqual(parseFaultSpec('download:truncated=short'), {
      target: 'download',
      kind: 'truncated',
      variant: 'short',
    });
    assert.deepEqual(parseFaultSpec('poll:unknown-status=reasoning'), {
      target: 'poll',
      kind: 'unknown-status',
      word: 'Reasoning',
    });
  });

  it('takes a bare status, the count after a space or right after the kind, and the long names', () => {
    assert.deepEqual(parseFaultSpec('poll:503x2'), { target: 'poll', kind: 'status', status: 503, count: 2 });
    assert.deepEqual(parseFaultSpec(' Poll:Reset-After x2 '), { target: 'poll', kind: 'reset-after', count: 2 });
    assert.equal(parseFaultSpec('download:download-break').kind, 'break');
    assert.equal(parseFaultSpec('download:download-truncated').kind, 'truncated');
    assert.equal(parseFaultSpec('submit:submit-500-after-create').kind, '500-after-create');
    assert.equal(parseFaultSpec('submit:drop').kind, 'reset-before');
  });

  it('spells out each kind’s arguments, defaults included', () => {
    assert.equal(described('poll:status'), 'poll:status=503');
    assert.equal(described('submit:500-after-create'), 'submit:500-after-create=500');
    assert.equal(described('download:expired'), 'download:expired=403');
    assert.equal(described('poll:stall'), 'poll:stall=headers');
    assert.equal(described('download:truncated'), 'download:truncated=length');
    assert.equal(described('poll:restart'), 'poll:restart=keep');
    assert.equal(described('poll:unknown-status'), 'poll:unknown-status=Queued');
    assert.equal(described('credits:rate-limit-storm=3'), 'credits:rate-limit-storm=3');
    assert.equal(described('download:break'), 'download:break');
    assert.equal(described('submit:delay'), 'submit:delay=1000');
  });

  it('keeps the older Fault form: a status, or drop for a reset before the answer', () => {
    assert.deepEqual(resolveFault({ target: 'submit', status: 503, retryAfterSeconds: 2 }), {
      target: 'submit',
      kind: 'status',
      count: 1,
      status: 503,
      retryAfterSeconds: 2,
      variant: null,
      word: null,
      delayMs: null,
    });
    assert.equal(resolveFault({ target: 'poll', status: 'drop', count: 3 }).kind, 'reset-before');
    assert.equal(resolveFault({ target: 'poll', status: 202 }).status, 202);
    assert.equal(resolveFault({ target: 'poll', kind: 'rate-limit-storm' }).count, 5);
  });

  it('refuses faults that cannot be', () => {
    const refusals: [unknown, RegExp][] = [
      [{ target: 'poll', status: 42 }, /HTTP status/],
      [{ target: 'poll', status: 500, count: 0 }, /count/],
      [{ target: 'poll' }, /kind or a status/],
      [{ target: 'inbox', kind: 'status' }, /target/],
      [{ target: 'download', kind: 'malformed-json' }, /applies to submit, poll, credits, not to download/],
      [{ target: 'poll', kind: 'break' }, /applies to download/],
      [{ target: 'credits', kind: 'unknown-status' }, /applies to poll/],
      [{ target: 'poll', kind: '500-after-create' }, /applies to submit/],
      [{ target: 'download', kind: 'expired', status: 500 }, /403 or 404/],
      [{ target: 'submit', kind: '500-after-create', status: 404 }, /5xx/],
      [{ target: 'poll', kind: 'stall', variant: 'short' }, /headers, body/],
      [{ target: 'poll', kind: 'reset-after', retryAfterSeconds: 1 }, /Retry-After/],
      [{ target: 'poll', kind: 'unknown-status', word: 'Ready' }, /terminal/],
      [{ target: 'poll', kind: 'unknown-status', word: '<b>' }, /letters/],
      [{ target: 'poll', kind: 'status', word: 'Queued' }, /no word/],
    ];
    for (const [fault, message] of refusals) {
      assert.throws(() => resolveFault(fault as never), RangeError, JSON.stringify(fault));
      assert.throws(() => resolveFault(fault as never), message, JSON.stringify(fault));
    }
    assert.equal(toResolvedFault('download:delay=250').delayMs, 250);
    assert.equal(toResolvedFault('poll:delay').delayMs, 1000);
    assert.throws(() => toResolvedFault({ target: 'poll', kind: 'delay', delayMs: -1 }), RangeError);
    assert.throws(() => toResolvedFault({ target: 'poll', kind: 'stall', delayMs: 5 }), RangeError);
    for (const spec of [
      'poll',
      'poll:',
      'poll:teapot',
      'poll:reset-after=3',
      'poll:status=abc',
      'poll:503=1',
      'poll:delay=soon',
    ]) {
      assert.throws(() => parseFaultSpec(spec), RangeError, spec);
    }
  });

  it('lists every failing kind on every endpoint it applies to, in each variant, for the rate to draw from', () => {
    const all = everyFault();
    assert.equal(
      all.some((f) => f.kind === 'delay'),
      false,
      'a delay is not a failure',
    );
    for (const kind of FAULT_KINDS.filter((k) => k !== 'delay')) {
      for (const target of FAULT_APPLIES_TO[kind]) {
        assert.ok(
          all.some((f) => f.kind === kind && f.target === target),
          `${target}:${kind}`,
        );
      }
    }
    const names = new Set(all.map(describeFault));
    for (const name of [
      'download:truncated=short',
      'poll:restart=forget',
      'submit:stall=body',
      'download:expired=404',
    ]) {
      assert.ok(names.has(name), name);
    }
    assert.ok(all.every((f) => FAULT_APPLIES_TO[f.kind].includes(f.target)));
  });

  it('finds the fault directives of a prompt and the ones it cannot read', () => {
    const { faults, refused } = promptFaults(
      'a cat [emulate:fault=poll:503:x2, download:break] [emulate:stuck] [EMULATE:FAULT=submit:teapot]',
    );
    assert.deepEqual(faults.map(describeFault), ['poll:status=503', 'download:break']);
    assert.equal(faults[0]!.count, 2);
    assert.equal(refused.length, 1);
    assert.match(refused[0]!, /teapot/);
    assert.deepEqual(promptFaults('no directive here'), { faults: [], refused: [] });
  });

  it('queues faults first in first out per endpoint and uses them up', () => {
    const queue = new FaultQueue();
    queue.inject('poll:503:x2');
    queue.inject({ target: 'credits', status: 'drop' });
    queue.inject('poll:reset-after');
    assert.equal(queue.take('poll')?.kind, 'status');
    assert.equal(queue.take('poll')?.kind, 'status');
    assert.equal(queue.take('poll')?.kind, 'reset-after');
    assert.equal(queue.take('poll'), undefined);
    assert.equal(queue.take('credits')?.kind, 'reset-before');
  });
});
