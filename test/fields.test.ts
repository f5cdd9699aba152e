import assert from 'node:assert/strict';
import { resolveFillSettings } from '../../lib/engine/parameters';

function invalid(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: { code?: string; message: string }) => {
    assert.equal(error.code, 'BFL_INVALID_INPUT');
    assert.match(error.message, pattern);
    return true;
  });
}

describe('fill parameters', () => {
  it('uses the API defaults for fields left out', () => {
    const { parameters, timeoutMs } = resolveFillSettings({});
    assert.deepEqual(parameters, {
      prompt: '',
      steps: 50,
      guidance: 60,
      seed: undefined,
      outputFormat: 'jpeg',
      safetyTolerance: 2,
      promptUpsampling: false,
    });
    assert.equal(timeoutMs, 300_000);
  });

  it('takes plain values of their natural type and numeric strings alike', () => {
    const { parameters } = resolveFillSettings({
      prompt: 'a cat',
      steps: '30',
      guidance: 2.5,
      seed: '42',
      outputFormat: 'PNG',
      safetyTolerance: '0',
      promptUpsampling: 'true',
      timeout: 20,
    });
    assert.deepEqual(parameters, {
      prompt: 'a cat',
      steps: 30,
      guidance: 2.5,
      seed: 42,
      outputFormat: 'png',
      safetyTolerance: 0,
      promptUpsampling: true,
    });
  });

  it('fills prompt and seed from the message only when the node leaves them empty', () => {
    assert.equal(resolveFillSettings({ prompt: '' }, { prompt: 'from msg' }).parameters.prompt, 'from msg');
    assert.equal(resolveFillSettings({ prompt: 'node' }, { prompt: 'from msg' }).parameters.prompt, 'node');
    assert.equal(resolveFillSettings({ seed: '' }, { seed: 7 }).parameters.seed, 7);
    assert.equal(resolveFillSettings({ seed: 3 }, { seed: 7 }).parameters.seed, 3);
  });

  it('refuses out-of-range and malformed values, naming the field and the value', () => {
    invalid(() => resolveFillSettings({ steps: 14 }), /Steps must be a whole number from 15 to 50, but it is 14/);
    invalid(() => resolveFillSettings({ steps: 20.5 }), /Steps must be a whole number/);
    invalid(() => resolveFillSettings({ guidance: 100.5 }), /Guidance must be a number from 1.5 to 100/);
    invalid(() => resolveFillSettings({ guidance: 'lots' }), /Guidance .* "lots"/);
    invalid(() => resolveFillSettings({ safetyTolerance: 7 }), /Safety tolerance must be a whole number from 0 to 6/);
    invalid(() => resolveFillSettings({ outputFormat: 'gif' }), /output format must be jpeg, png or webp/);
    invalid(() => resolveFillSettings({ seed: -1 }), /seed must be a whole number of 0 or more/);
    invalid(() => resolveFillSettings({}, { seed: 'abc' }), /msg.seed must be a whole number/);
    invalid(() => resolveFillSettings({ promptUpsampling: 'maybe' }), /Prompt upsampling must be true or false/);
    invalid(() => resolveFillSettings({ timeout: 0 }), /Timeout/);
    invalid(() => resolveFillSettings({}, { prompt: { text: 'x' } }), /prompt must be text/);
  });
});
