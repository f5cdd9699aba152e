/**
 * The table of fields (lib/fields.ts) and everything that reads it: the engine's checks, the dialogs' defaults
 * and inline validators (run from the built .html), the hints and the help. One table, so they must agree.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import {
  CONFIG_FIELDS,
  EXPAND_FIELDS,
  FILL_FIELDS,
  fieldSource,
  readBoolean,
  readChoice,
  readNumber,
  resolveFillSettings,
  readShapes,
  resolveImageOptions,
  type Field,
} from '../lib/fields';
import { parseDrawnShapes } from '../lib/image/shapes';
import { ENGINE_CATALOGS } from '../lib/messages';

const ROOT = join(__dirname, '..');
const DIST_NODES = join(ROOT, 'dist', 'nodes');

function invalid(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: { code?: string; message: string }) => {
    assert.equal(error.code, 'BFL_INVALID_INPUT');
    assert.match(error.message, pattern);
    return true;
  });
}

/** Whether the engine takes `value` for the field (it throws BFL_INVALID_INPUT otherwise). */
function engineAccepts(field: Field, value: unknown): boolean {
  const subject = { property: 'value' };
  try {
    if (field.kind === 'integer' || field.kind === 'number') readNumber(field, value, subject);
    else if (field.kind === 'boolean') readBoolean(field, value, subject);
    else if (field.kind === 'choice') readChoice(field, value, subject);
    else if (field.kind === 'shapes') {
      const list = readShapes(field, value, subject);
      if (list.length > 0) parseDrawnShapes(list);
    }
    return true;
  } catch (error) {
    assert.equal((error as { code?: string }).code, 'BFL_INVALID_INPUT');
    return false;
  }
}

/** Values on both sides of every edge of a field, as the editor would hold them (strings). */
function samples(field: Field): unknown[] {
  switch (field.kind) {
    case 'integer':
    case 'number': {
      const step = field.kind === 'integer' ? 1 : 0.01;
      const values = [field.min, field.max, field.min - step, field.max + step, (field.min + field.max) / 2];
      if (field.kind === 'integer') values.push(field.min + 0.5);
      return [...values.map(String), '', '0', 'abc', '1e1', ' 20 ', 'NaN', 'Infinity'];
    }
    case 'boolean':
      return ['true', 'false', '', 'yes'];
    case 'choice':
      return [...field.choices, '', 'nothing', ...Object.keys(field.aliases ?? {})];
    case 'shapes':
      return SHAPE_SAMPLES;
    default:
      return [];
  }
}

/** Lists of shapes in every form the parser reads, and lists it refuses for their form. */
const SHAPE_SAMPLES: unknown[] = [
  [],
  '',
  [{ x: 0.1, y: 0.1, width: 0.2, height: 0.2 }],
  JSON.stringify([{ x: 0.1, y: 0.1, width: 0.2, height: 0.2 }]),
  [{ cx: 0.5, cy: 0.5, rx: 0.1, ry: 0.2 }],
  [{ points: [[0, 0], [1, 0], { x: 1, y: 1 }] }],
  [{ x_min: 0.1, y_min: 0.1, x_max: 0.2, y_max: 0.3 }],
  [[0.1, 0.1, 0.2, 0.2]],
  [{ bbox: [0.1, 0.1, 0.2, 0.2] }],
  [{ box: [0.1, 0.1, 0.2, 0.2] }],
  [{ x: 5, y: 5, width: 10, height: 10, relative: false, label: 'car' }],
  [{ x: 0.1 }],
  [{ x: 0.1, y: 0.1, width: 0, height: 0.2 }],
  [{ x: 0.1, y: 0.1, width: 0.1, height: 0.1, cx: 0.5 }],
  [
    {
      points: [
        [0, 0],
        [1, 1],
      ],
    },
  ],
  [{ x: '0.1', y: 0, width: 1, height: 1 }],
  [{ x: 0.1, y: 0.1, width: 0.2, height: 0.2, relative: 'yes' }],
  [{ box: [0.1, 0.1, 0.2, 0.2], relative: false }],
  [{ box: [0.1, 0.1, 1.5, 0.2] }],
  [{ x_min: 0.3, y_min: 0.1, x_max: 0.2, y_max: 0.3 }],
  [[0.1, 0.1, 0.2]],
  [0.1, 0.1, 0.2, 0.2],
  { x: 0.1, y: 0.1, width: 0.2, height: 0.2 },
  '{not json',
  42,
];

interface EditorDefinition {
  defaults: Record<string, { value: unknown; validate?: (this: object, v: unknown, opt?: object) => unknown }>;
}

/** Runs a built dialog's script as the editor would and returns what it registered. */
function registeredDefinition(file: string, type: string): EditorDefinition {
  const path = join(DIST_NODES, file);
  assert.ok(existsSync(path), `${path} is missing: run npm run build`);
  const script = /<script type="text\/javascript">([\s\S]*?)<\/script>/.exec(readFileSync(path, 'utf8'))?.[1];
  assert.ok(script, `no editor script in ${file}`);
  const registered: Record<string, EditorDefinition> = {};
  const RED = {
    _: (key: string) => key,
    nodes: { registerType: (name: string, definition: EditorDefinition) => (registered[name] = definition) },
    comms: { subscribe: () => undefined },
    utils: { validatePropertyExpression: () => true },
    i18n: { lang: () => 'en-US' },
  };
  // jQuery as far as the script uses it when it loads: an empty selection, and requests that never answer.
  const pending = { done: () => pending, fail: () => pending };
  const $ = Object.assign(() => ({ length: 0 }), { getJSON: () => pending });
  runInNewContext(script, { RED, $, document: {} });
  const definition = registered[type];
  assert.ok(definition, `${file} registered no ${type}`);
  return definition;
}

describe('the table of fields', () => {
  describe('the engine', () => {
    it('uses the defaults for fields left out', () => {
      const { parameters, timeoutMs, imageOptions } = resolveFillSettings({});
      assert.deepEqual(parameters, {
        model: 'flux-pro-1.0-fill',
        prompt: '',
        steps: 50,
        guidance: 60,
        seed: undefined,
        outputFormat: 'jpeg',
        safetyTolerance: 2,
        promptUpsampling: false,
      });
      assert.equal(timeoutMs, 300_000);
      assert.deepEqual(imageOptions, {
        maskInvert: false,
        maskGrow: 0,
        maskFeather: 0,
        pasteBack: true,
        cropToMask: false,
        cropMargin: 64,
        maxMegapixels: 0,
      });
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
        model: 'flux-pro-1.0-fill',
        prompt: 'a cat',
        steps: 30,
        guidance: 2.5,
        seed: 42,
        outputFormat: 'png',
        safetyTolerance: 0,
        promptUpsampling: true,
      });
      assert.equal(resolveFillSettings({ outputFormat: 'jpg' }).parameters.outputFormat, 'jpeg');
      assert.deepEqual(resolveImageOptions({ maskInvert: 'true', maskGrow: '12', maxMegapixels: '4' }), {
        ...resolveImageOptions(),
        maskInvert: true,
        maskGrow: 12,
        maxMegapixels: 4,
      });
    });

    it('takes an empty or zero megapixel cap as no cap', () => {
      assert.equal(resolveImageOptions({ maxMegapixels: '' }).maxMegapixels, 0);
      assert.equal(resolveImageOptions({ maxMegapixels: 0 }).maxMegapixels, 0);
      assert.equal(resolveImageOptions({ maxMegapixels: '0' }).maxMegapixels, 0);
    });

    it('fills prompt and seed from the message only when the node leaves them empty', () => {
      assert.equal(resolveFillSettings({ prompt: '' }, { prompt: 'from msg' }).parameters.prompt, 'from msg');
      assert.equal(resolveFillSettings({ prompt: 'node' }, { prompt: 'from msg' }).parameters.prompt, 'node');
      assert.equal(resolveFillSettings({ seed: '' }, { seed: 7 }).parameters.seed, 7);
      assert.equal(resolveFillSettings({ seed: 3 }, { seed: 7 }).parameters.seed, 3);
    });

    it('refuses out-of-range and malformed values, naming the field by its label and the value', () => {
      invalid(() => resolveFillSettings({ steps: 14 }), /^Steps must be a whole number from 15 to 50, but it is 14\./);
      invalid(
        () => resolveFillSettings({ steps: 20.5 }),
        /^Steps must be a whole number from 15 to 50, but it is 20\.5/,
      );
      invalid(() => resolveFillSettings({ guidance: 100.5 }), /^Guidance must be a number from 1.5 to 100/);
      invalid(() => resolveFillSettings({ guidance: 'lots' }), /^Guidance .*, but it is "lots"\./);
      invalid(() => resolveFillSettings({ safetyTolerance: 7 }), /^Tolerance must be a whole number from 0 to 6/);
      invalid(
        () => resolveFillSettings({ outputFormat: 'gif' }),
        /^Format must be one of jpeg, png, webp, but it is "gif"/,
      );
      invalid(
        () => resolveFillSettings({ seed: -1 }),
        /^Seed must be empty or a whole number of 0 or more, but it is -1/,
      );
      invalid(() => resolveFillSettings({ seed: 2 ** 53 }), /^Seed must be empty or a whole number of 0 or more/);
      invalid(() => resolveFillSettings({}, { seed: 'abc' }), /^msg\.seed must be empty or a whole number/);
      invalid(() => resolveFillSettings({ promptUpsampling: 'maybe' }), /^Upsampling must be true or false/);
      invalid(() => resolveFillSettings({ timeout: 0 }), /^Timeout must be a number from 1 to 86400, but it is 0/);
      invalid(
        () => resolveFillSettings({}, { prompt: { text: 'x' } }),
        /^msg\.prompt must be text, but it is an object/,
      );
      invalid(
        () => resolveImageOptions({ maskGrow: -1 }),
        /^Grow mask must be a whole number from 0 to 1000, but it is -1\./,
      );
      invalid(() => resolveImageOptions({ maskFeather: 'soft' }), /^Feather must be .*, but it is "soft"/);
      invalid(() => resolveImageOptions({ cropMargin: 10_001 }), /^Crop margin must be a whole number from 0 to 10000/);
      invalid(
        () => resolveImageOptions({ maxMegapixels: 30 }),
        /^Max\. size must be empty or 0 \(off\), or a number from 0\.25 to 20, but it is 30\./,
      );
      invalid(() => resolveImageOptions({ pasteBack: [] }), /^Paste back must be true or false, but it is an array/);
      invalid(() => resolveImageOptions({ maskInvert: 'yes' }), /^Invert mask must be true or false, but it is "yes"/);
    });

    it('says "nothing was submitted" for every refused value', () => {
      invalid(() => resolveFillSettings({ steps: 99 }), /Nothing was submitted\.$/);
    });
  });

  describe('TypedInput sources', () => {
    it('takes a value without a companion type as a literal, so older and hand-written flows keep working', () => {
      assert.deepEqual(fieldSource(30, undefined), { value: 30 });
      assert.deepEqual(fieldSource('30', ''), { value: '30' });
    });

    it('treats an empty literal as not given and evaluates everything else', () => {
      assert.deepEqual(fieldSource('', 'num'), { value: undefined });
      assert.deepEqual(fieldSource(' ', 'str'), { value: undefined });
      assert.deepEqual(fieldSource('30', 'num'), { evaluate: { value: '30', type: 'num' } });
      assert.deepEqual(fieldSource('steps', 'msg'), { evaluate: { value: 'steps', type: 'msg' } });
      assert.deepEqual(fieldSource(true, 'bool'), { evaluate: { value: 'true', type: 'bool' } });
      assert.deepEqual(fieldSource('', 'env'), { evaluate: { value: '', type: 'env' } });
    });
  });

  for (const [file, type, table] of [
    ['bfl-fill.html', 'bfl-fill', FILL_FIELDS],
    ['bfl-expand.html', 'bfl-expand', EXPAND_FIELDS],
    ['bfl-config.html', 'bfl-config', CONFIG_FIELDS],
  ] as const) {
    describe(`the ${type} dialog`, () => {
      it('has the default and the TypedInput of every field in the table, and no other field', () => {
        const { defaults } = registeredDefinition(file, type);
        const expected = Object.entries(table as Record<string, Field>).flatMap(([name, field]) => [
          name,
          ...(field.typedInput ? [`${name}Type`] : []),
        ]);
        assert.deepEqual(Object.keys(defaults).sort(), expected.sort());
        for (const [name, field] of Object.entries(table as Record<string, Field>)) {
          // Through JSON: a list made in the dialog's script belongs to another realm.
          assert.deepEqual(JSON.parse(JSON.stringify(defaults[name]!.value)), field.default, `default of ${name}`);
          if (field.typedInput) assert.equal(defaults[`${name}Type`]!.value, field.typedInput, `type of ${name}`);
        }
      });

      it('accepts exactly what the engine accepts, on both sides of every range', () => {
        const { defaults } = registeredDefinition(file, type);
        for (const [name, field] of Object.entries(table as Record<string, Field>)) {
          const validate = defaults[name]!.validate;
          for (const value of samples(field)) {
            assert.ok(validate, `${name} has no validator`);
            const editor = validate.call({}, value) === true;
            assert.equal(editor, engineAccepts(field, value), `${name} = ${JSON.stringify(value)}`);
          }
        }
      });

      it('refuses with the engine catalog sentence that names the field', () => {
        const { defaults } = registeredDefinition(file, type);
        for (const [name, field] of Object.entries(table as Record<string, Field>)) {
          const value = samples(field).find((sample) => !engineAccepts(field, sample));
          if (value === undefined) continue;
          const said = defaults[name]!.validate!.call({}, value, {});
          assert.equal(typeof said, 'string', `${name} = ${JSON.stringify(value)}`);
          const key = String(said).replace(/^.*?:bfl-fill\.messages\./, '');
          const template = key
            .split('.')
            .reduce<unknown>((node, part) => (node as Record<string, unknown>)?.[part], ENGINE_CATALOGS.en);
          assert.equal(typeof template, 'string', `${name}: ${String(said)} is no engine message`);
        }
      });
    });
  }

  it('writes a form row with an input for every field of the bfl-expand dialog, and no row twice', () => {
    const html = readFileSync(join(DIST_NODES, 'bfl-expand.html'), 'utf8');
    for (const [name, field] of Object.entries(EXPAND_FIELDS as Record<string, Field>)) {
      const inputs = html.match(new RegExp(`id="node-input-${name}"`, 'g')) ?? [];
      assert.equal(inputs.length, 1, `inputs of ${name}`);
      if (field.typedInput) assert.ok(html.includes(`id="node-input-${name}Type"`), `${name}Type`);
    }
    assert.doesNotMatch(html, /data-bfl-rows/);
  });

  describe('the hints and the help', () => {
    const catalog = (language: string, type: string) =>
      JSON.parse(readFileSync(join(ROOT, 'locales', language, `${type}.json`), 'utf8')) as Record<
        string,
        { hint: Record<string, string> }
      >;

    it('quote ranges and defaults only through parameters the dialog fills in from the table', () => {
      for (const language of ['en-US', 'de']) {
        for (const [type, table] of [
          ['bfl-fill', FILL_FIELDS],
          ['bfl-expand', EXPAND_FIELDS],
          ['bfl-config', CONFIG_FIELDS],
        ] as const) {
          // A hint per choice (hint.region.eu) counts as the field's hint.
          const hints = Object.entries(catalog(language, type)[type]!.hint as Record<string, string | object>).flatMap(
            ([name, hint]) =>
              typeof hint === 'string' ? [[name, hint]] : Object.values(hint).map((one) => [name, one]),
          ) as Array<[string, string]>;
          for (const [name, hint] of hints) {
            const field = (table as Record<string, Field>)[name];
            if (field && 'min' in field) {
              assert.match(hint, /__min__/, `${language} ${type} hint.${name} quotes its range as parameters`);
            } else {
              assert.doesNotMatch(hint, /__(min|max|default)__/, `${language} ${type} hint.${name}`);
            }
          }
        }
      }
    });

    it('name the fields by the labels the dialogs show, through parameters', () => {
      for (const [source, built, language, open, close] of [
        ['nodes/bfl-fill.html', 'bfl-fill.html', 'en', '"', '"'],
        ['locales/de/bfl-fill.html', 'locales/de/bfl-fill.html', 'de', '„', '“'],
      ] as const) {
        const labels = (ENGINE_CATALOGS[language] as { field: { label: Record<string, string> } }).field.label;
        const written = readFileSync(join(ROOT, source), 'utf8');
        const help = readFileSync(join(DIST_NODES, built), 'utf8');
        for (const [name, label] of Object.entries(labels)) {
          assert.ok(
            !written.includes(`${open}${label}${close}`),
            `${source} quotes ${label} as text, not as {{label.${name}}}`,
          );
        }
        for (const name of ['maskInvert', 'maskGrow', 'pasteBack', 'cropToMask', 'timeout'] as const) {
          assert.ok(help.includes(`${open}${labels[name]}${close}`), `${built} names ${name} as the dialog does`);
        }
      }
    });

    for (const [file, language, words] of [
      ['bfl-fill.html', 'en', { to: 'to', default: 'default' }],
      ['locales/de/bfl-fill.html', 'de', { to: 'bis', default: 'Standard' }],
    ] as const) {
      it(`in ${file} quote the table's ranges, written as ${language} writes numbers`, () => {
        const help = readFileSync(join(DIST_NODES, file), 'utf8');
        const n = (value: number) => value.toLocaleString(language, { useGrouping: false });
        for (const name of ['maskGrow', 'maskFeather', 'timeout'] as const) {
          const { min, max } = FILL_FIELDS[name];
          const fieldDefault = FILL_FIELDS[name].default;
          assert.ok(
            help.includes(`${n(min)} ${words.to} ${n(max)}, ${words.default} ${n(fieldDefault)})`),
            `${file} quotes ${name}`,
          );
        }
        const megapixels = FILL_FIELDS.maxMegapixels;
        assert.ok(help.includes(`(${n(megapixels.min)} ${words.to} ${n(megapixels.max)} `), `${file} maxMegapixels`);
        assert.doesNotMatch(help, /\{\{|@bfl-fields/);
      });
    }

    for (const [file, language, words] of [
      ['bfl-expand.html', 'en', { to: 'to', default: 'default' }],
      ['locales/de/bfl-expand.html', 'de', { to: 'bis', default: 'Standard' }],
    ] as const) {
      it(`in ${file} quote the expand table's ranges, written as ${language} writes numbers`, () => {
        const help = readFileSync(join(DIST_NODES, file), 'utf8');
        const { min, max } = EXPAND_FIELDS.seamFeather;
        assert.ok(help.includes(`${min} ${words.to} ${max}, ${words.default} ${EXPAND_FIELDS.seamFeather.default})`));
        assert.ok(help.includes(`${EXPAND_FIELDS.top.min} ${words.to} ${EXPAND_FIELDS.top.max} (`));
        assert.doesNotMatch(help, /\{\{|@bfl-fields/);
      });
    }
  });
});

describe('the README', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

  /** The README's property table row of `name`, under the heading of its node: [default, meaning]. */
  function row(heading: string, name: string): [string, string] {
    const section = readme.slice(readme.indexOf(heading));
    const match = new RegExp(`^\\| \`${name}\` +\\| ([^|]*)\\| ([^|]*)\\|$`, 'm').exec(section);
    assert.ok(match, `README has no row for ${name} under ${heading}`);
    return [match[1]!.trim(), match[2]!.trim()];
  }

  for (const [heading, table] of [
    ['### bfl-fill', FILL_FIELDS],
    ['### bfl-expand', EXPAND_FIELDS],
    ['### bfl-config', CONFIG_FIELDS],
  ] as const) {
    it(`documents every ${heading.slice(4)} field with the table's default and range`, () => {
      for (const [name, field] of Object.entries(table as Record<string, Field>)) {
        if (name === 'name' && heading !== '### bfl-config') continue;
        const [shown, meaning] = row(heading, name);
        if (field.kind === 'node') continue;
        const expected =
          field.kind === 'shapes'
            ? /^`\[\]`$/
            : field.default === ''
              ? /^(""|empty)$/
              : new RegExp(`^\`?${String(field.default)}\`?$`);
        assert.match(shown, expected, `default of ${name}`);
        if ('min' in field && field.max !== Number.MAX_SAFE_INTEGER) {
          assert.ok(meaning.includes(`${field.min}–${field.max}`), `range of ${name}: ${meaning}`);
        }
      }
    });
  }
});
