/**
 * The editor's own scripts (nodes/editor/*.js) into the dialogs the build writes: each
 * `/* @bfl-inline <file> *\/` marker in a node's .html becomes that file's text. They are files of their own so
 * that tests can run them without a browser (test/editor) and ESLint can check them; the editor gets one
 * self-contained .html per node, as Node-RED expects.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const MARKER = /^([ \t]*)\/\* @bfl-inline ([a-z-]+\.js) \*\/$/gm;

/** Fills in the markers of the .html at `path` from `editorDir`; a marker naming no file fails the build. */
export function inlineEditorScripts(path, editorDir) {
  const source = readFileSync(path, 'utf8');
  const filled = source.replace(MARKER, (_whole, indent, file) => {
    const code = readFileSync(join(editorDir, file), 'utf8').trimEnd();
    return code
      .split('\n')
      .map((line) => (line === '' ? line : indent + line))
      .join('\n');
  });
  if (filled.includes('@bfl-inline')) throw new Error(`build: ${path} has an @bfl-inline marker it cannot fill`);
  writeFileSync(path, filled);
}
