/**
 * Localisable texts of the engine. An error or status carries a Text (a catalog key with parameters) rather
 * than a finished sentence, so the Node-RED glue can render it in the user's language through RED._(); the
 * engine alone renders it from the catalogs beside this file (en, de). The build merges these catalogs into
 * the nodes' message catalogs under `bfl-fill.messages.*`, so there is one source for each language.
 */
import en from './en.json';
import de from './de.json';

/** A message key with its parameters; a parameter may itself be a Text (e.g. a hint inside a sentence). */
export interface Text {
  key: string;
  params?: TextParams;
}

export type TextParams = Record<string, string | number | Text>;

/** Looks a key up in some catalog; undefined when it has none. */
export type Translate = (key: string, params: Record<string, string | number>) => string | undefined;

type Catalog = { [key: string]: string | Catalog };

const CATALOGS: Record<string, Catalog> = { en, de };

export function text(key: string, params?: TextParams): Text {
  return params === undefined ? { key } : { key, params };
}

function lookup(catalog: Catalog, key: string): string | undefined {
  let current: string | Catalog | undefined = catalog;
  for (const part of key.split('.')) {
    if (current === undefined || typeof current === 'string') return undefined;
    current = current[part];
  }
  return typeof current === 'string' ? current : undefined;
}

/** i18next-style interpolation: `__name__` is replaced by the parameter `name`. */
export function interpolate(template: string, params: Record<string, string | number>): string {
  return template.replace(/__([A-Za-z0-9_]+?)__/g, (whole, name: string) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole,
  );
}

/** A Translate over the engine's own catalogs, falling back to English for missing keys. */
export function catalogTranslate(language = 'en'): Translate {
  const base = language.toLowerCase().split(/[-_]/)[0] ?? 'en';
  const catalog = CATALOGS[base] ?? CATALOGS.en!;
  return (key, params) => {
    const template = lookup(catalog, key) ?? lookup(CATALOGS.en!, key);
    return template === undefined ? undefined : interpolate(template, params);
  };
}

/** A Translate that asks `primary` first and `fallback` (by default the engine's English) for what it lacks. */
export function withFallback(primary: Translate, fallback: Translate = catalogTranslate('en')): Translate {
  return (key, params) => primary(key, params) ?? fallback(key, params);
}

/**
 * A number as prose in the catalog's language writes it: the catalog's decimal separator (1,5 in German),
 * never grouped, so seeds and task figures stay copyable.
 */
export function formatNumber(value: number, decimalSeparator: string): string {
  return String(value).replace('.', decimalSeparator);
}

/**
 * Renders a Text, nested parameters first; a key no catalog knows renders as the key itself. Number
 * parameters are written with the decimal separator of the catalog that renders the sentence.
 */
export function render(value: Text, translate: Translate = catalogTranslate()): string {
  const decimal = translate('number.decimalSeparator', {}) ?? '.';
  const flat: Record<string, string | number> = {};
  for (const [name, param] of Object.entries(value.params ?? {})) {
    if (typeof param === 'object') flat[name] = render(param, translate);
    else flat[name] = typeof param === 'number' ? formatNumber(param, decimal) : param;
  }
  return translate(value.key, flat) ?? value.key;
}

/** The catalogs as the build merges them into Node-RED's (language code -> tree). */
export const ENGINE_CATALOGS: Readonly<Record<string, Catalog>> = CATALOGS;
