import assert from 'node:assert/strict';
import { render } from '../lib/messages';
import { describeValue, isGiven, isJsonBuffer, toNumber } from '../lib/values';

const said = (value: unknown): string => {
  const described = describeValue(value);
  return typeof described === 'string' ? described : render(described);
};

describe('values', () => {
  it('counts undefined, null and blank strings as not given, and everything else as given', () => {
    for (const value of [undefined, null, '', '  ']) assert.equal(isGiven(value), false, String(value));
    for (const value of [0, false, 'x', [], {}]) assert.equal(isGiven(value), true, JSON.stringify(value));
  });

  it('reads numbers and numeric strings, and nothing else, as numbers', () => {
    assert.equal(toNumber(' 12.5 '), 12.5);
    assert.equal(toNumber(7), 7);
    assert.equal(toNumber('seven'), undefined);
    assert.equal(toNumber(''), undefined);
    assert.equal(toNumber(true), undefined);
  });

  it('describes a bad value in words, without dumping it', () => {
    assert.equal(said('a'.repeat(50)), `"${'a'.repeat(40)}…"`);
    assert.equal(said(14), 'a number (14)');
    assert.equal(said(Buffer.from('x')), 'a Buffer');
    assert.equal(said([1, 2]), 'an array of 2 items');
    assert.equal(said({ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 }), 'an object with keys a, b, c, d, e, …');
    assert.equal(said(Buffer.from('x').toJSON()), 'a JSON-serialised Buffer ({"type":"Buffer","data":[...]})');
    assert.equal(said(undefined), 'missing (undefined)');
    assert.equal(said(null), 'null');
  });

  it('recognises a Buffer that went through JSON', () => {
    assert.equal(isJsonBuffer(Buffer.from('x').toJSON()), true);
    assert.equal(isJsonBuffer({ type: 'Buffer' }), false);
    assert.equal(isJsonBuffer(null), false);
  });
});
