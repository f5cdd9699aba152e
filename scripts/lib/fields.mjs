/**
 * The table of fields (lib/fields.ts, compiled) into the editor files the build writes: the dialogs' scripts get
 * it as data in place of their `/* @bfl-fields <node> *\/ {}` marker, and the help texts get the ranges and
 * defaults in place of `{{<node>.<field>.<min|max|default>}}`, written as the help's language writes numbers,
 * and the fields' labels (the engine's `field.label.*`, as the dialog shows them) in place of
 * `{{label.<field>}}`. Anything the table or the catalog does not have fails the build, so the help never
 * quotes a range the engine does not keep or a label the dialog does not show.
 */
import { readFileSync, writeFileSync } from 'node:fs';

const MARKER = /\/\* @bfl-fields (fill|config) \*\/ \{\}/g;
const PLACEHOLDER = /\{\{(fill|config)\.([A-Za-z]+)\.(min|max|default)\}\}/g;
const LABEL = /\{\{label\.([A-Za-z]+)\}\}/g;

/** A number as prose in `language` writes it: 1.5 in English, 1,5 in German; never grouped. */
export function formatNumber(value, language) {
  return Number(value).toLocaleString(language, { useGrouping: false, maximumFractionDigits: 6 });
}

/**
 * `tables`: { fill: FILL_FIELDS, config: CONFIG_FIELDS }; `labels`: the fields' labels in the help's language.
 * Returns the text with every marker filled in.
 */
export function fillFields(source, tables, language, where, labels = {}) {
  const withData = source.replace(MARKER, (_whole, node) => JSON.stringify(tables[node]));
  const withLabels = withData.replace(LABEL, (whole, name) => {
    if (typeof labels[name] !== 'string') throw new Error(`build: ${where} quotes ${whole}, which no catalog has`);
    return labels[name];
  });
  return withLabels.replace(PLACEHOLDER, (whole, node, name, part) => {
    const value = tables[node]?.[name]?.[part];
    if (typeof value !== 'number') throw new Error(`build: ${where} quotes ${whole}, which the table of fields lacks`);
    return formatNumber(value, language);
  });
}

/** Fills in one file in place; `language` is the one its help is written in, `labels` its fields' labels. */
export function fillFieldsInFile(path, tables, language, where = path, labels = {}) {
  const filled = fillFields(readFileSync(path, 'utf8'), tables, language, where, labels);
  const left = filled.match(/\{\{[^}]*\}\}|@bfl-fields/);
  if (left) throw new Error(`build: ${where} still has ${left[0]} after filling in the table of fields`);
  writeFileSync(path, filled);
}
