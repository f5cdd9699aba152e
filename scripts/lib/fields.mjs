/**
 * The table of fields (lib/fields.ts, compiled) into the editor files the build writes: the dialogs' scripts get
 * it as data in place of their `/* @bfl-fields <node> *\/ {}` marker, and the help texts get the ranges and
 * defaults in place of `{{<node>.<field>.<min|max|default>}}`, written as the help's language writes numbers,
 * and the fields' labels (the engine's `field.label.*`, as the dialog shows them) in place of
 * `{{label.<field>}}`. Anything the table or the catalog does not have fails the build, so the help never
 * quotes a range the engine does not keep or a label the dialog does not show.
 */
import { readFileSync, writeFileSync } from 'node:fs';

const MARKER = /\/\* @bfl-fields (fill|expand|config) \*\/ \{\}/g;
const PLACEHOLDER = /\{\{(fill|expand|config)\.([A-Za-z]+)\.(min|max|default)\}\}/g;
const LABEL = /\{\{label\.([A-Za-z]+)\}\}/g;
/** Where a job node's dialog takes the editor code the dialogs share (nodes/editor/dialog-kit.js). */
const KIT_MARKER = /\/\* @bfl-dialog-kit \*\/ \{\}/g;

/** An empty holder of form rows in a dialog's template: `<div data-bfl-rows="name:fa-icon ...">`. */
const ROWS = /<div([^>]*?) data-bfl-rows="([^"]*)"([^>]*)><\/div>/g;
const FILL_CATALOG = '@fluxfill/node-red-bfl/bfl-fill:bfl-fill';

/**
 * The form row of one field as the hand-written ones are: its label (the engine's, from the bfl-fill catalog),
 * its input (a select for a choice, a checkbox for a plain boolean, else a text box with its TypedInput's type
 * beside it), a placeholder and a hint where the node's catalog has one. Written at build time, so that
 * Node-RED finds the inputs, fills them and validates them as it does any dialog's.
 */
function formRow(type, name, icon, field, catalog, where) {
  if (!field) throw new Error(`build: ${where} lists a row for ${name}, which the table of fields lacks`);
  const id = `node-input-${name}`;
  const lines = [
    `<label for="${id}"><i class="fa ${icon}"></i> <span data-i18n="${FILL_CATALOG}.messages.field.label.${name}"></span></label>`,
  ];
  if (field.kind === 'choice') {
    lines.push(`<select id="${id}" style="width:70%;"></select>`);
  } else if (field.kind === 'boolean' && !field.typedInput) {
    lines.push(`<input type="checkbox" id="${id}" style="display:inline-block; width:auto; vertical-align:top;">`);
  } else {
    const width = field.unit === 'seconds' ? '80px' : '70%';
    const placeholder = catalog.placeholder?.[name] ? ` data-i18n="[placeholder]${type}.placeholder.${name}"` : '';
    lines.push(`<input type="text" id="${id}" style="width:${width};"${placeholder}>`);
    if (field.typedInput) lines.push(`<input type="hidden" id="${id}Type">`);
    if (field.unit === 'seconds') lines.push(`<span data-i18n="${FILL_CATALOG}.unit.seconds"></span>`);
  }
  if (catalog.hint?.[name]) lines.push(`<div class="${type}-hint" data-bfl-hint="${name}"></div>`);
  return `<div class="form-row">\n${lines.map((line) => `    ${line}`).join('\n')}\n</div>`;
}

/** Writes the rows of every `data-bfl-rows` holder of a dialog; `catalog` is the node's English catalog. */
export function fillRows(source, type, table, catalog, where) {
  return source.replace(ROWS, (_whole, before, list, after) => {
    const rows = list
      .trim()
      .split(/\s+/)
      .map((entry) => {
        const [name, icon = 'fa-cog'] = entry.split(':');
        return formRow(type, name, icon, table[name], catalog, where);
      });
    return `<div${before}${after}>\n${rows.join('\n')}\n</div>`;
  });
}

/** A number as prose in `language` writes it: 1.5 in English, 1,5 in German; never grouped. */
export function formatNumber(value, language) {
  return Number(value).toLocaleString(language, { useGrouping: false, maximumFractionDigits: 6 });
}

/**
 * `tables`: { fill: FILL_FIELDS, expand: EXPAND_FIELDS, config: CONFIG_FIELDS }; `kit`: the dialog kit's source;
 * `labels`: the fields' labels in the help's language. Returns the text with every marker filled in.
 */
export function fillFields(source, tables, language, where, { kit = '', labels = {} } = {}) {
  const withKit = source.replace(KIT_MARKER, () => `(function () {\n${kit}\nreturn bflDialogKit;\n})()`);
  const withData = withKit.replace(MARKER, (_whole, node) => JSON.stringify(tables[node]));
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

/**
 * Fills in one file in place; `language` is the one its help is written in. `kit`: the dialog kit's source;
 * `labels`: the fields' labels in that language; `rows`, for a dialog: its node type, table and English catalog,
 * to write its `data-bfl-rows` rows.
 */
export function fillFieldsInFile(path, tables, language, where = path, { kit = '', labels = {}, rows } = {}) {
  let source = readFileSync(path, 'utf8');
  if (rows) source = fillRows(source, rows.type, rows.table, rows.catalog, where);
  const filled = fillFields(source, tables, language, where, { kit, labels });
  const left = filled.match(/\{\{[^}]*\}\}|@bfl-fields|@bfl-dialog-kit|data-bfl-rows/);
  if (left) throw new Error(`build: ${where} still has ${left[0]} after filling in the table of fields`);
  writeFileSync(path, filled);
}
