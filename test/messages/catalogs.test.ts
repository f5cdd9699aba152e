/**
 * The engine's message catalogs (lib/messages/<lang>.json): both languages have the same keys with the same
 * parameters, every key the sources use exists, every key exists for a reason, and the build merges them into
 * the bfl-fill node's Node-RED catalogs.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { CONFIG_FIELDS, FILL_FIELDS } from '../../lib/fields';
import { ENGINE_CATALOGS } from '../../lib/messages';

const ROOT = join(__dirname, '..', '..');

type Catalog = { [key: string]: string | Catalog };

/** Every leaf as key path -> template. */
function leaves(catalog: Catalog, prefix = ''): Map<string, string> {
  const found = new Map<string, string>();
  for (const [name, value] of Object.entries(catalog)) {
    const key = prefix ? `${prefix}.${name}` : name;
    if (typeof value === 'string') found.set(key, value);
    else for (const [inner, template] of leaves(value, key)) found.set(inner, template);
  }
  return found;
}

function parameters(template: string): string[] {
  return [...new Set([...template.matchAll(/__([A-Za-z0-9_]+?)__/g)].map((match) => match[1]!))].sort();
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

const en = leaves(ENGINE_CATALOGS.en as Catalog);
const de = leaves(ENGINE_CATALOGS.de as Catalog);
const GROUPS = Object.keys(ENGINE_CATALOGS.en!);

/**
 * Catalog keys the engine and glue name: every quoted string that starts with a catalog group and a dot
 * (so `text(cond ? 'a.b' : 'a.c')` counts too), and the fixed prefix of template keys (`action.${action}`).
 */
function usedKeys(): { exact: Map<string, string>; prefixes: Map<string, string> } {
  const exact = new Map<string, string>();
  const prefixes = new Map<string, string>();
  const group = `(?:${GROUPS.join('|')})`;
  const quoted = new RegExp(`(['"])(${group}\\.[A-Za-z0-9_.]+)\\1`, 'g');
  const template = new RegExp(`\`(${group}\\.[A-Za-z0-9_.]*)\\$\\{`, 'g');
  for (const file of [...sourceFiles('lib'), ...sourceFiles('nodes')]) {
    if (file.startsWith(join('lib', 'emulator'))) continue;
    const source = readFileSync(join(ROOT, file), 'utf8');
    for (const match of source.matchAll(quoted)) exact.set(match[2]!, file);
    for (const match of source.matchAll(template)) prefixes.set(match[1]!, file);
  }
  return { exact, prefixes };
}

describe('message catalogs', () => {
  it('has the same keys in English and German', () => {
    assert.deepEqual([...de.keys()].sort(), [...en.keys()].sort());
  });

  it('uses the same __parameters__ in both languages for every key', () => {
    for (const [key, template] of en) {
      assert.deepEqual(parameters(de.get(key) ?? ''), parameters(template), `parameters of ${key}`);
    }
  });

  it('has no empty text', () => {
    for (const [key, template] of [...en, ...de]) assert.notEqual(template.trim(), '', key);
  });

  it('has every key the sources use, and template keys end in a group of texts', () => {
    const { exact, prefixes } = usedKeys();
    assert.ok(exact.size > 50, `found only ${exact.size} keys in the sources`);
    for (const [key, file] of exact) assert.ok(en.has(key), `${relative(ROOT, join(ROOT, file))} uses ${key}`);
    for (const [prefix, file] of prefixes) {
      assert.ok(
        [...en.keys()].some((key) => key.startsWith(prefix)),
        `${file} builds keys below ${prefix}, which the catalog lacks`,
      );
    }
  });

  it('has every key the dynamic keys can name', () => {
    const dynamic = [
      ...['submitting', 'polling', 'credits'].map((action) => `action.${action}`),
      ...[...Object.keys(FILL_FIELDS), ...Object.keys(CONFIG_FIELDS)].map((name) => `field.label.${name}`),
      ...['number', 'boolean', 'bigint'].map((type) => `value.${type}`),
      ...['svg', 'pdf'].map((format) => `image.kind.${format}`),
    ];
    for (const key of dynamic) assert.ok(en.has(key), key);
  });

  it('has no key that nothing uses', () => {
    const { exact, prefixes } = usedKeys();
    const unused = [...en.keys()].filter(
      (key) => !exact.has(key) && ![...prefixes.keys()].some((prefix) => key.startsWith(prefix)),
    );
    assert.deepEqual(unused, []);
  });

  it('never asks for a key or secret as a parameter', () => {
    for (const template of en.values()) {
      assert.doesNotMatch(template, /__(apiKey|key|secret|webhookSecret)__/);
    }
  });
});

describe('message catalogs in the build', () => {
  const built = (language: string) => {
    const path = join(ROOT, 'dist', 'nodes', 'locales', language, 'bfl-fill.json');
    assert.ok(existsSync(path), `${path} is missing: run npm run build`);
    return JSON.parse(readFileSync(path, 'utf8')) as { 'bfl-fill': Record<string, unknown> };
  };
  const source = (language: string) =>
    JSON.parse(readFileSync(join(ROOT, 'locales', language, 'bfl-fill.json'), 'utf8')) as {
      'bfl-fill': Record<string, unknown>;
    };

  for (const [engine, language] of [
    ['en', 'en-US'],
    ['de', 'de'],
  ] as const) {
    it(`puts lib/messages/${engine}.json into dist/nodes/locales/${language}/bfl-fill.json as bfl-fill.messages`, () => {
      const catalog = built(language)['bfl-fill'];
      assert.deepEqual(catalog.messages, ENGINE_CATALOGS[engine]);
      // The editor's strings stay as they are.
      const { messages: _messages, ...editor } = catalog;
      assert.deepEqual(editor, source(language)['bfl-fill']);
    });
  }

  describe('merge', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'bfl-catalogs-'));
      mkdirSync(join(dir, 'messages'));
      mkdirSync(join(dir, 'locales', 'en-US'), { recursive: true });
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const merge = (): string => {
      const script = join(ROOT, 'scripts', 'lib', 'catalogs.mjs');
      return execFileSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `import { mergeEngineCatalogs } from ${JSON.stringify(`file://${script}`)};
           mergeEngineCatalogs(${JSON.stringify(join(dir, 'messages'))}, ${JSON.stringify(join(dir, 'locales'))});`,
        ],
        { encoding: 'utf8', stdio: 'pipe' },
      );
    };
    const write = (path: string, value: unknown) => writeFileSync(join(dir, path), JSON.stringify(value));

    it('maps en to en-US and adds the messages beside the editor strings', () => {
      write('messages/en.json', { a: { b: 'text' } });
      write('locales/en-US/bfl-fill.json', { 'bfl-fill': { label: { x: 'X' } } });
      merge();
      assert.deepEqual(JSON.parse(readFileSync(join(dir, 'locales/en-US/bfl-fill.json'), 'utf8')), {
        'bfl-fill': { label: { x: 'X' }, messages: { a: { b: 'text' } } },
      });
    });

    it('fails loudly when a key would collide', () => {
      write('messages/en.json', { a: { b: 'engine' } });
      write('locales/en-US/bfl-fill.json', { 'bfl-fill': { messages: { a: { b: 'editor', c: 'kept' } } } });
      assert.throws(merge, /key collision at locales\/en-US\/bfl-fill\.json: bfl-fill\.messages\.a\.b/);
    });

    it('fails when a language has no node catalog to go into', () => {
      write('messages/fr.json', { a: 'texte' });
      assert.throws(merge, /lib\/messages\/fr\.json has no node catalog/);
    });
  });
});
