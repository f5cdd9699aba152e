import assert from 'node:assert/strict';
import * as path from 'node:path';
import { runTs } from './helpers';

describe('emulator faults: close()', () => {
  it('leaves no timer or socket of a stall or a restart behind: the process exits by itself', async function () {
    this.timeout(30_000);
    const result = await runTs(path.join(__dirname, 'fixtures', 'faults-close-child.ts'), [], 20_000);
    assert.equal(result.stderr, '');
    assert.equal(result.stdout, 'closed\n');
    assert.equal(result.code, 0);
  });
});
