/**
 * The engine's messages in the Node-RED runtime's language. The build merges lib/messages/<lang>.json into the
 * bfl-fill node's catalog under `bfl-fill.messages`, so RED._ finds them there; the bfl-config node reaches the
 * same catalog through its namespace. Whatever RED._ lacks (a disabled bfl-fill set, the test helper's
 * identity RED._) falls back to the engine's English.
 */
import type { NodeAPI } from 'node-red';
import { BflError, localise } from '../lib/errors';
import { withFallback, type Translate } from '../lib/messages';
import { PACKAGE } from '../lib/package-info';

/** Node-RED's namespace of the bfl-fill node set's message catalog. */
export const FILL_NAMESPACE = `${PACKAGE.name}/bfl-fill`;
/** Where the engine's keys sit in that catalog. */
export const MESSAGES_PREFIX = 'bfl-fill.messages.';

/** Looks engine keys up through RED._; RED._ answers the key itself when it has no text, which counts as none. */
export function runtimeTranslate(RED: Pick<NodeAPI, '_'>): Translate {
  return withFallback((key, params) => {
    const path = `${MESSAGES_PREFIX}${key}`;
    const full = `${FILL_NAMESPACE}:${path}`;
    const rendered: unknown = RED._(full, params);
    return typeof rendered === 'string' && rendered !== full && rendered !== path ? rendered : undefined;
  });
}

/** What `done(err)` gets: BflErrors with their message in the runtime's language, other errors as they are. */
export function localiseError(error: unknown, translate: Translate): Error {
  if (error instanceof BflError) return localise(error, translate);
  return error instanceof Error ? error : new Error(String(error));
}

/** An error's message in the runtime's language, for logs. */
export function errorMessage(error: unknown, translate: Translate): string {
  return localiseError(error, translate).message;
}
