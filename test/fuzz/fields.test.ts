/**
 * Fuzzing every per-message value (lib/fields.ts): each input of a fill, and msg.prompt and msg.seed, with
 * values of every type, numeric strings, NaN, ±Infinity, -0, negative and huge numbers, and seeds beyond
 * 2^53 − 1. Each set of inputs becomes settings within the table's ranges or is refused with
 * BFL_INVALID_INPUT (see ./support for the rule and for FUZZ_RUNS and FUZZ_SEED).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isBflError } from '../../lib/errors';
import {
  FILL_FIELDS,
  FILL_INPUTS,
  OUTPUT_FORMATS,
  resolveFillSettings,
  resolveImageOptions,
  type FillSettings,
  type NumberField,
  type RawFillInputs,
} from '../../lib/fields';
import { TIMEOUT, outcome, settings, text, watchUnhandledRejections } from './support';

const special = fc.constantFrom(
  0,
  -0,
  Number.NaN,
  Infinity,
  -Infinity,
  -1,
  1e308,
  -1e308,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 1,
  2 ** 53 + 2,
  2 ** 64,
  Number.MIN_VALUE,
  0.5,
  '',
  ' ',
  'NaN',
  'Infinity',
  '-0',
  '1e400',
  '0x10',
  ' 12 ',
  '9007199254740993',
  'true',
  'false',
  'jpg',
  'PNG',
);

/** Beyond Number.MAX_SAFE_INTEGER, in every form a seed may come in. */
const unsafeSeed = fc.oneof(
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 80n }),
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 80n }).map(String),
  fc.double({ min: 2 ** 53, noNaN: true }),
  fc.double({ min: 2 ** 53, noNaN: true }).map(String),
);

const anyValue = fc.oneof(
  { weight: 3, arbitrary: special },
  { weight: 2, arbitrary: fc.integer({ min: -100, max: 200 }) },
  { weight: 2, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.double().map(String) },
  { weight: 1, arbitrary: unsafeSeed },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: text },
  { weight: 1, arbitrary: fc.constantFrom(null, undefined) },
  {
    weight: 1,
    arbitrary: fc.anything({ key: text, values: [text, fc.double(), fc.boolean()], maxDepth: 1, withBigInt: true }),
  },
  { weight: 1, arbitrary: fc.constantFrom(Symbol('x'), () => 1, new Date(0), [1], { value: 1 }) },
);

/** Each input given or not, each a value of any kind. */
const inputs: fc.Arbitrary<RawFillInputs> = fc.record(
  Object.fromEntries(FILL_INPUTS.map((name) => [name, anyValue])) as Record<keyof RawFillInputs, typeof anyValue>,
  { requiredKeys: [] },
);
const fallbacks = fc.record({ prompt: anyValue, seed: anyValue }, { requiredKeys: [] });

function inRange(field: NumberField, value: number): boolean {
  return value >= field.min && value <= field.max && (field.kind === 'number' || Number.isInteger(value));
}

/** Settings, once accepted, hold only what the table allows. */
function checkSettings(result: FillSettings): void {
  const { parameters, timeoutMs, imageOptions } = result;
  const F = FILL_FIELDS;
  assert.equal(typeof parameters.prompt, 'string');
  assert.ok(inRange(F.steps, parameters.steps));
  assert.ok(inRange(F.guidance, parameters.guidance));
  assert.ok(parameters.seed === undefined || (Number.isSafeInteger(parameters.seed) && parameters.seed >= 0));
  assert.ok(OUTPUT_FORMATS.includes(parameters.outputFormat));
  assert.ok(inRange(F.safetyTolerance, parameters.safetyTolerance));
  assert.equal(typeof parameters.promptUpsampling, 'boolean');
  assert.ok(Number.isSafeInteger(timeoutMs) && timeoutMs >= 1000 && timeoutMs <= 86_400_000);
  for (const flag of ['maskInvert', 'pasteBack', 'cropToMask'] as const)
    assert.equal(typeof imageOptions[flag], 'boolean');
  assert.ok(inRange(F.maskGrow, imageOptions.maskGrow));
  assert.ok(inRange(F.maskFeather, imageOptions.maskFeather));
  assert.ok(inRange(F.cropMargin, imageOptions.cropMargin));
  assert.ok(imageOptions.maxMegapixels === 0 || inRange(F.maxMegapixels, imageOptions.maxMegapixels));
}

describe('fuzz: per-message values', function () {
  this.timeout(TIMEOUT);
  watchUnhandledRejections();

  it('resolveFillSettings: any inputs and fallbacks', async () => {
    await fc.assert(
      fc.asyncProperty(inputs, fallbacks, async (given, messageValues) => {
        const result = await outcome(() => resolveFillSettings(given, messageValues));
        if (!isBflError(result)) checkSettings(result);
      }),
      settings(2000),
    );
  });

  it('resolveImageOptions: any inputs', async () => {
    await fc.assert(
      fc.asyncProperty(inputs, async (given) => {
        const result = await outcome(() => resolveImageOptions(given));
        if (!isBflError(result)) checkSettings({ ...resolveFillSettings({}), imageOptions: result });
      }),
      settings(1000),
    );
  });

  it('refuses every seed beyond 2^53 − 1, from the node and from msg.seed', async () => {
    await fc.assert(
      fc.asyncProperty(unsafeSeed, fc.boolean(), async (seed, fromMessage) => {
        const result = await outcome(() =>
          fromMessage ? resolveFillSettings({}, { seed }) : resolveFillSettings({ seed }),
        );
        assert.ok(isBflError(result), `seed ${String(seed)} is refused`);
        assert.match(result.message, fromMessage ? /^msg\.seed / : /^Seed /);
      }),
      settings(300),
    );
  });

  it('takes every whole seed from 0 to 2^53 − 1, as a number or a string', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.boolean(), async (seed, asText) => {
        const result = resolveFillSettings({ seed: asText ? String(seed) : seed });
        assert.equal(result.parameters.seed, seed);
      }),
      settings(300),
    );
  });
});
