// Compiles the TypeScript to CommonJS in dist/ and puts each node's editor file, message catalogs and icons
// beside its compiled .js, the only place Node-RED looks for them (shared/reference/node-red-guide.md §1).
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mergeEngineCatalogs } from './lib/catalogs.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
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

const cli = join(dist, 'bin', 'bfl-emulator.js');
if (existsSync(cli)) chmodSync(cli, 0o755);

for (const type of ['bfl-config', 'bfl-fill']) {
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
