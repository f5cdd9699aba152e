/**
 * The table of fields (lib/fields.ts, compiled) into the editor files the build writes: the dialogs' scripts get
 * it as data in place of their `/* @bfl-fields <node> *\/ {}` marker, and the help texts get the ranges and
 * defaults in place of `{{<node>.<field>.<min|max|default>}}`, written as the help's language writes numbers.
 * Anything the table does not have fails the build, so the help never quotes a range the engine does not keep.
 */
import { readFileSync, writeFileSync } from 'node:fs';

const MARKER = /\/\* @bfl-fields (fill|expand|config) \*\/ \{\}/g;
const PLACEHOLDER = /\{\{(fill|expand|config)\.([A-Za-z]+)\.(min|max|default)\}\}/g;
/** Where a job node's dialog takes the editor code the dialogs share (nodes/editor/dialog-kit.js). */
const KIT_MARKER = /\/\* @bfl-dialog-kit \*\/ \{\}/g;

/** A number as prose in `language` writes it: 1.5 in English, 1,5 in German; never grouped. */
export function formatNumber(value, language) {
  return Number(value).toLocaleString(language, { useGrouping: false, maximumFractionDigits: 6 });
}

/**
 * `tables`: { fill: FILL_FIELDS, expand: EXPAND_FIELDS, config: CONFIG_FIELDS }; `kit`: the dialog kit's source.
 * Returns the text with every marker filled in.
 */
export function fillFields(source, tables, language, where, kit = '') {
  const withKit = source.replace(KIT_MARKER, () => `(function () {\n${kit}\nreturn bflDialogKit;\n})()`);
  const withData = withKit.replace(MARKER, (_whole, node) => JSON.stringify(tables[node]));
  return withData.replace(PLACEHOLDER, (whole, node, name, part) => {
    const value = tables[node]?.[name]?.[part];
    if (typeof value !== 'number') throw new Error(`build: ${where} quotes ${whole}, which the table of fields lacks`);
    return formatNumber(value, language);
  });
}

/** Fills in one file in place; `language` is the one its help is written in. */
export function fillFieldsInFile(path, tables, language, where = path, kit = '') {
  const filled = fillFields(readFileSync(path, 'utf8'), tables, language, where, kit);
  const left = filled.match(/\{\{[^}]*\}\}|@bfl-fields|@bfl-dialog-kit/);
  if (left) throw new Error(`build: ${where} still has ${left[0]} after filling in the table of fields`);
  writeFileSync(path, filled);
}
