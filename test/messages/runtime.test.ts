/**
 * The glue's RED._-backed Translate (nodes/i18n.ts): engine keys are looked up in the bfl-fill catalog's
 * `messages`, in the runtime's language; whatever RED._ lacks falls back to the engine's English.
 */
import assert from 'node:assert/strict';
import { invalidInput, timeoutError } from '../../lib/errors';
import { ENGINE_CATALOGS, interpolate, render, text } from '../../lib/messages';
import { PACKAGE } from '../../lib/package-info';
import { errorMessage, FILL_NAMESPACE, localiseError, runtimeTranslate } from '../../nodes/i18n';

/**
 * A RED._ as Node-RED's i18next answers it over the built bfl-fill catalog (engine messages under
 * bfl-fill.messages): known keys translated, unknown ones as the key without its namespace.
 */
function redUnderscore(
  language: 'en' | 'de',
  calls: string[] = [],
): (id: string, params?: Record<string, string | number>) => string {
  const catalog = { 'bfl-fill': { messages: ENGINE_CATALOGS[language] } };
  return (id, params = {}) => {
    calls.push(id);
    const [namespace, key] = id.includes(':') ? id.split(':') : ['?', id];
    if (namespace !== FILL_NAMESPACE) return key!;
    let current: unknown = catalog;
    for (const part of key!.split('.')) current = (current as Record<string, unknown> | undefined)?.[part];
    return typeof current === 'string' ? interpolate(current, params) : key!;
  };
}

describe('runtime messages (nodes/i18n)', () => {
  it("asks RED._ for the bfl-fill catalog's messages by their full namespace", () => {
    const calls: string[] = [];
    const translate = runtimeTranslate({ _: redUnderscore('de', calls) });
    assert.equal(render(text('http.status', { status: 404 }), translate), 'HTTP 404');
    assert.deepEqual(calls, [
      `${PACKAGE.name}/bfl-fill:bfl-fill.messages.number.decimalSeparator`,
      `${PACKAGE.name}/bfl-fill:bfl-fill.messages.http.status`,
    ]);
  });

  it('renders whole errors in the runtime language', () => {
    const translate = runtimeTranslate({ _: redUnderscore('de') });
    const error = localiseError(timeoutError(60), translate);
    assert.equal(
      error.message,
      'Der Auftrag wurde nicht innerhalb von 60 s nach Verlassen der Warteschlange fertig. Es wurde nichts ' +
        'übermittelt. Das Zeitlimit des Nodes erhöhen, wenn Aufträge oft langsam sind.',
    );
    assert.equal((error as { code?: string }).code, 'BFL_TIMEOUT');
  });

  it('falls back to English when RED._ answers the key (no catalog, or the test helper)', () => {
    const english =
      'No bfl-config node selected: open the node and choose or add a BFL account. Nothing was submitted.';
    // The test helper's RED._ is the identity; i18next answers a missing key without its namespace.
    for (const underscore of [(id: string) => id, (id: string) => id.split(':')[1]!]) {
      assert.equal(errorMessage(invalidInput(text('config.noConfig')), runtimeTranslate({ _: underscore })), english);
    }
    // A German catalog that lacks one key: that part falls back to English, the rest stays German.
    const german = redUnderscore('de');
    const patchy = runtimeTranslate({
      _: (id, params) => (id.endsWith('.config.noConfig') ? id.split(':')[1]! : german(id, params)),
    });
    assert.equal(
      errorMessage(invalidInput(text('config.noConfig')), patchy),
      'No bfl-config node selected: open the node and choose or add a BFL account. Es wurde nichts übermittelt.',
    );
  });

  it('passes other errors through and wraps what is not an Error', () => {
    const translate = runtimeTranslate({ _: (id) => id });
    const plain = new TypeError('boom');
    assert.equal(localiseError(plain, translate), plain);
    assert.equal(localiseError('bad', translate).message, 'bad');
  });
});
