/**
 * The engine's runtime messages (lib/messages/<lang>.json) merged into the bfl-fill node's Node-RED catalog
 * (locales/<nr-lang>/bfl-fill.json) under `bfl-fill.messages`, so Node-RED serves one catalog per language and
 * RED._ finds them (nodes/i18n.ts). A key both sides define fails the build rather than silently win.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Engine language code -> Node-RED's locales folder; codes not listed are used as they are. */
export const NODE_RED_LANGUAGE = { en: 'en-US' };

/** Merges every lib/messages/<lang>.json into `<localesDir>/<nr-lang>/bfl-fill.json` in place. */
export function mergeEngineCatalogs(messagesDir, localesDir) {
  for (const file of readdirSync(messagesDir).filter((name) => name.endsWith('.json'))) {
    const language = file.slice(0, -'.json'.length);
    const nrLanguage = NODE_RED_LANGUAGE[language] ?? language;
    const target = join(localesDir, nrLanguage, 'bfl-fill.json');
    if (!existsSync(target)) {
      throw new Error(
        `build: lib/messages/${file} has no node catalog to go into (locales/${nrLanguage}/bfl-fill.json)`,
      );
    }
    const catalog = JSON.parse(readFileSync(target, 'utf8'));
    if (!catalog['bfl-fill'] || typeof catalog['bfl-fill'] !== 'object') {
      throw new Error(`build: locales/${nrLanguage}/bfl-fill.json has no "bfl-fill" object`);
    }
    catalog['bfl-fill'].messages = mergeCatalogs(
      catalog['bfl-fill'].messages ?? {},
      JSON.parse(readFileSync(join(messagesDir, file), 'utf8')),
      `locales/${nrLanguage}/bfl-fill.json: bfl-fill.messages`,
    );
    writeFileSync(target, `${JSON.stringify(catalog, null, 2)}\n`);
  }
}

/** Deep merge of `addition` into a copy of `base`; any key both define is a collision and throws. */
export function mergeCatalogs(base, addition, path) {
  if (typeof base !== 'object' || base === null || Array.isArray(base)) {
    throw new Error(`build: ${path} is not an object, so lib/messages cannot be merged into it`);
  }
  const merged = { ...base };
  for (const [key, value] of Object.entries(addition)) {
    const where = `${path}.${key}`;
    if (!Object.prototype.hasOwnProperty.call(merged, key)) {
      merged[key] = value;
    } else if (typeof value === 'object' && value !== null && typeof merged[key] === 'object') {
      merged[key] = mergeCatalogs(merged[key], value, where);
    } else {
      throw new Error(`build: key collision at ${where}: lib/messages and locales/ both define it`);
    }
  }
  return merged;
}
