// The globals of the Node-RED editor (RED, $, jQuery, the DOM) for linting the editor scripts in nodes/*.html with
// type information: tsconfig.editor.json names this folder in "types". The build (tsconfig.json) never sees it.
/// <reference lib="dom" />
/// <reference types="jquery" />
import type { EditorRED } from 'node-red';

declare global {
  const RED: EditorRED;
}
