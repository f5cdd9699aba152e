import assert from 'node:assert/strict';
import { RetainedStore } from '../../lib/engine/retained';

describe('engine/retained: what editors opened later are shown', () => {
  const store = () => new RetainedStore<string>(10, (value) => value.length);

  it('keeps one value per node, the newest', () => {
    const kept = store();
    kept.put('a', 'old');
    kept.put('a', 'new!');
    assert.equal(kept.get('a'), 'new!');
    assert.equal(kept.bytes, 4);
    assert.deepEqual(kept.entries(), [['a', 'new!']]);
  });

  it('drops the values put longest ago when the bound would be passed', () => {
    const kept = store();
    kept.put('a', 'aaaa');
    kept.put('b', 'bbbb');
    kept.put('a', 'AAAA'); // now the newest
    kept.put('c', 'cccc');
    assert.deepEqual(
      kept.entries().map(([key]) => key),
      ['a', 'c'],
    );
    assert.equal(kept.bytes, 8);
  });

  it('keeps nothing bigger than the bound, and forgets what is deleted', () => {
    const kept = store();
    kept.put('a', 'aa');
    kept.put('a', 'x'.repeat(11));
    assert.equal(kept.get('a'), undefined);
    kept.put('b', 'bb');
    kept.delete('b');
    kept.delete('missing');
    assert.deepEqual([kept.entries(), kept.bytes], [[], 0]);
  });
});
