/**
 * The package's main entry (package.json "main"): the engine for programs that use it without Node-RED.
 */
import assert from 'node:assert/strict';
import * as engine from '../lib/index';

describe('the package entry', () => {
  it('offers the engine: errors, client, service, account, the road, webhooks, fields, images and the emulator', () => {
    for (const name of [
      'BflError',
      'ERROR_CODES',
      'BflClient',
      'FillService',
      'Account',
      'resolveAccount',
      'fill',
      'expand',
      'MODELS',
      'resolveFillSettings',
      'resolveExpandSettings',
      'EXPAND_FIELDS',
      'resolveImageOptions',
      'FILL_FIELDS',
      'CONFIG_FIELDS',
      'planInputs',
      'composeResult',
      'planExpand',
      'composeExpanded',
      'readImageInput',
      'BflEmulator',
      'emulatorEndpoint',
      'WebhookReceiver',
      'generateWebhookSecret',
      'serveWebhook',
    ]) {
      assert.ok(name in engine, `lib/index exports ${name}`);
    }
    assert.equal(engine.DEFAULT_EMULATOR_KEY, 'bfl_emulator_local_key');
    assert.deepEqual(engine.REGIONS, ['global', 'eu', 'us', 'custom', 'emulator']);
  });
});
