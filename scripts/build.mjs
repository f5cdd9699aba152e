// Compiles the TypeScript to CommonJS in dist/ and puts each node's editor file, message catalogs and icons
// beside its compiled .js: Node-RED looks for a node's .html, locales/ and icons/ only there.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { mergeEngineCatalogs } from './lib/catalogs.mjs';
import { fillFieldsInFile } from './lib/fields.mjs';
import { inlineEditorScripts } from './lib/inline.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const NODE_TYPES = ['bfl-config', 'bfl-fill', 'bfl-expand'];
const dist = join(root, 'dist');

rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], {
  stdio: 'inherit',
});

const nodesOut = join(dist, 'nodes');
for (const file of readdirSync(join(root, 'nodes'))) {
  if (file.endsWith('.html')) cpSync(join(root, 'nodes', file), join(nodesOut, file));
}
cpSync(join(root, 'locales'), join(nodesOut, 'locales'), { recursive: true });
cpSync(join(root, 'icons'), join(nodesOut, 'icons'), { recursive: true });

// The engine's runtime messages go into the bfl-fill catalogs under `bfl-fill.messages` (scripts/lib/catalogs.mjs).
mergeEngineCatalogs(join(root, 'lib', 'messages'), join(nodesOut, 'locales'));

// One table of fields for the engine, the dialogs and the help (scripts/lib/fields.mjs).
const { FILL_FIELDS, EXPAND_FIELDS, CONFIG_FIELDS } = createRequire(import.meta.url)(join(dist, 'lib', 'fields.js'));
const tables = { fill: FILL_FIELDS, expand: EXPAND_FIELDS, config: CONFIG_FIELDS };
const kit = readFileSync(join(root, 'nodes', 'editor', 'dialog-kit.js'), 'utf8');
const TABLE_OF = { 'bfl-config': CONFIG_FIELDS, 'bfl-fill': FILL_FIELDS, 'bfl-expand': EXPAND_FIELDS };
/** The fields' labels in a help's language, from the engine's catalog (lib/messages/<en|de>.json). */
const labels = (language) => {
  const file = join(root, 'lib', 'messages', `${language.split('-')[0]}.json`);
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).field.label : {};
};
for (const type of NODE_TYPES) {
  const catalog = JSON.parse(readFileSync(join(root, 'locales', 'en-US', `${type}.json`), 'utf8'))[type];
  const rows = { type, table: TABLE_OF[type], catalog };
  // The editor's scripts of their own (scripts/lib/inline.mjs).
  inlineEditorScripts(join(nodesOut, `${type}.html`), join(root, 'nodes', 'editor'));
  fillFieldsInFile(join(nodesOut, `${type}.html`), tables, 'en', `nodes/${type}.html`, {
    kit,
    labels: labels('en'),
    rows,
  });
  for (const language of readdirSync(join(nodesOut, 'locales'))) {
    const help = join(nodesOut, 'locales', language, `${type}.html`);
    if (existsSync(help)) {
      fillFieldsInFile(help, tables, language, `locales/${language}/${type}.html`, { labels: labels(language) });
    }
  }
}

const cli = join(dist, 'bin', 'bfl-emulator.js');
if (existsSync(cli)) chmodSync(cli, 0o755);

for (const type of NODE_TYPES) {
  for (const needed of [`${type}.js`, `${type}.html`, `locales/en-US/${type}.json`]) {
    if (!existsSync(join(nodesOut, needed))) throw new Error(`build: dist/nodes/${needed} is missing`);
  }
}
for (const language of ['en-US', 'de']) {
  const catalog = JSON.parse(readFileSync(join(nodesOut, 'locales', language, 'bfl-fill.json'), 'utf8'));
  if (!catalog['bfl-fill']?.messages?.invalidInput) {
    throw new Error(`build: dist/nodes/locales/${language}/bfl-fill.json lacks bfl-fill.messages`);
  }
}
console.log('build: dist/ ready');
