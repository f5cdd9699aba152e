/**
 * Rendering Texts, and real engine errors in German: whole German sentences that keep their parameters, with
 * code and details unchanged.
 */
import assert from 'node:assert/strict';
import {
  authError,
  BflError,
  downloadError,
  isBflError,
  localise,
  requestModeratedError,
  serverError,
  timeoutError,
} from '../../lib/errors';
import { planInputs } from '../../lib/image';
import { resolveFillSettings, resolveImageOptions } from '../../lib/fields';
import { catalogTranslate, interpolate, render, text, withFallback, type Translate } from '../../lib/messages';
import { gradientPng, rectangleMask } from '../support/emulator';

const german = catalogTranslate('de');

/** The BflError `run` throws (synchronously or not). */
async function caught(run: () => unknown): Promise<BflError> {
  try {
    await run();
  } catch (error) {
    assert.ok(isBflError(error), `expected a BflError, got ${String(error)}`);
    return error;
  }
  return assert.fail('expected an error');
}

/** English words that would give away an untranslated fragment. */
const ENGLISH = /\b(must|but|is|the|was|Nothing|submitted|Resize|and|or|draw|task)\b/;

describe('render', () => {
  const catalog: Record<string, string> = {
    outer: '__who__ said: __what__',
    inner: 'hello __name__',
    deeper: '<__inner__>',
  };
  const translate: Translate = (key, params) =>
    catalog[key] === undefined ? undefined : interpolate(catalog[key]!, params);

  it('interpolates parameters and renders nested Texts first, at any depth', () => {
    assert.equal(
      render(text('outer', { who: 'Ada', what: text('deeper', { inner: text('inner', { name: 'Bo' }) }) }), translate),
      'Ada said: <hello Bo>',
    );
  });

  it('keeps numbers as they are and leaves unknown __placeholders__ alone', () => {
    assert.equal(interpolate('__a__ + __b__ = __c__', { a: 1, b: 2.5 }), '1 + 2.5 = __c__');
  });

  it('does not interpolate again inside parameter values', () => {
    assert.equal(render(text('inner', { name: '__name__ __x__' }), translate), 'hello __name__ __x__');
  });

  it('renders a key no catalog knows as the key itself', () => {
    assert.equal(render(text('nowhere.at.all'), translate), 'nowhere.at.all');
  });

  it('falls back to the engine English for keys the first catalog lacks', () => {
    const partial: Translate = (key) => (key === 'http.status' ? 'STATUS' : undefined);
    const both = withFallback(partial);
    assert.equal(render(text('http.status', { status: 500 }), both), 'STATUS');
    assert.equal(render(text('action.polling'), both), 'polling');
  });

  it('picks the catalog by base language and falls back to English for unknown languages', () => {
    assert.equal(render(text('action.polling'), catalogTranslate('de-DE')), 'beim Abfragen');
    assert.equal(render(text('action.polling'), catalogTranslate('de_AT')), 'beim Abfragen');
    assert.equal(render(text('action.polling'), catalogTranslate('fr')), 'polling');
    assert.equal(render(text('action.polling')), 'polling');
  });
});

describe('engine errors in German', () => {
  it('says a size-mismatch mask error as one German sentence with both sizes', async () => {
    const image = await gradientPng(40, 30);
    const mask = await rectangleMask(20, 15, { left: 0, top: 0, width: 5, height: 5 });
    const error = await caught(() => planInputs(image, mask, resolveImageOptions()));
    assert.equal(error.code, 'BFL_INVALID_INPUT');
    assert.equal(error.text.key, 'invalidInput.nothingSubmitted');

    const localised = localise(error, german);
    assert.equal(
      localised.message,
      'msg.mask ist 20×15 groß, aber msg.payload ist 40×30; beide müssen gleich groß sein. ' +
        'Die Maske auf 40×30 skalieren oder sie auf dem aufrecht stehenden Bild zeichnen. ' +
        'Es wurde nichts übermittelt.',
    );
    assert.equal(String(localised), localised.message, 'msg.error.message is toString()');
    assert.doesNotMatch(localised.message, ENGLISH);
    // The English stays the English.
    assert.match(error.message, /^msg\.mask is 20×15 but msg\.payload is 40×30; .* Nothing was submitted\.$/);
  });

  it('says an out-of-range steps value in German, with the field name, range and value', async () => {
    const error = await caught(() => resolveFillSettings({ steps: 51 }));
    const message = localise(error, german).message;
    assert.equal(
      message,
      'Schritte muss eine ganze Zahl von 15 bis 50 sein, ist aber 51. Es wurde nichts übermittelt.',
    );
  });

  it('describes a wrong value in German too', async () => {
    const error = await caught(() => resolveFillSettings({ guidance: 'lots' }));
    assert.equal(
      localise(error, german).message,
      'Prompt-Treue muss eine Zahl von 1,5 bis 100 sein, ist aber „lots“. Es wurde nichts übermittelt.',
    );
    const wrongType = await caught(() => planInputs({ a: 1, b: 2 }, undefined, resolveImageOptions()));
    const said = localise(wrongType, german).message;
    assert.match(said, /^msg\.payload muss ein Bild sein, ist aber ein Objekt mit den Schlüsseln a, b\. /);
    assert.match(said, /Das Bild als Buffer, Base64-String oder Data-URL/);
    assert.doesNotMatch(said, ENGLISH);
  });

  it('writes numbers with a decimal comma in German and a point in English', async () => {
    const error = await caught(() => resolveFillSettings({ maxMegapixels: 0.1 }));
    assert.equal(
      localise(error, german).message,
      'Max. Größe muss leer oder 0 (aus) oder eine Zahl von 0,25 bis 20 sein, ist aber 0,1. Es wurde nichts übermittelt.',
    );
    assert.match(error.message, /from 0\.25 to 20, but it is 0\.1\./);
    const wrongType = await caught(() => resolveFillSettings({ promptUpsampling: 2.5 }));
    assert.match(localise(wrongType, german).message, /ist aber eine Zahl \(2,5\)\./);
  });

  it('keeps API details, task ids and HTTP statuses as they came', () => {
    const refused = localise(authError(403, 'Not authenticated - Invalid Authentication', 'task-42'), german);
    assert.equal(
      refused.message,
      'Die BFL-API hat den API-Schlüssel abgelehnt (Auftrag task-42, HTTP 403: Not authenticated - Invalid ' +
        'Authentication). Den Schlüssel im bfl-config-Node prüfen und ob er zur gewählten Region gehört, dann ' +
        'erneut übernehmen (Deploy).',
    );
    assert.match(
      localise(serverError(503, undefined, 'polling', 'task-7'), german).message,
      /beim Abfragen .*task-7, HTTP 503/,
    );
    assert.match(
      localise(timeoutError(300, 'task-9'), german).message,
      /300 s .*Auftrag task-9 wurde bereits gesendet/,
    );
    assert.match(
      localise(downloadError('task-3', text('download.reason.tooLarge', { bytes: 1024 })), german).message,
      /^Auftrag task-3 ist fertig, .*\(das Ergebnis ist größer als 1024 Bytes\)/,
    );
  });

  it('keeps code, task id, HTTP status, API detail, moderation reasons, cause and Text when localising', () => {
    const original = requestModeratedError('task-1', ['Violence']);
    const localised = localise(original, german);
    assert.ok(localised instanceof BflError);
    assert.equal(localised.code, 'BFL_REQUEST_MODERATED');
    assert.equal(localised.taskId, 'task-1');
    assert.deepEqual(localised.moderationReasons, ['Violence']);
    assert.deepEqual(localised.text, original.text);
    assert.match(localised.message, /Gründe: Violence\./);
    assert.match(localised.stack ?? '', /Die Moderation von BFL/);

    const cause = new Error('socket hang up');
    const withCause = localise(downloadError('t', text('download.reason.empty'), 502, cause), german);
    assert.equal(withCause.cause, cause);
    assert.equal(withCause.httpStatus, 502);
    const detail = { detail: [{ loc: ['body', 'steps'], msg: 'too big' }] };
    assert.equal(localise(serverError(500, detail, 'submitting'), german).apiDetail, detail);
  });
});
