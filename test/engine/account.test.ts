import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Account, resolveAccount } from '../../lib/engine/account';

const ROOT = join(__dirname, '..', '..');

/** The emulator's modules a fresh process has loaded once `body` (async, CommonJS, from the sources) is done. */
function emulatorModulesLoadedBy(body: string): string[] {
  const script = `(async () => { ${body} })().then(() => {
    const loaded = Object.keys(require.cache).filter((path) => path.includes('/lib/emulator/') && !path.endsWith('/key.ts'));
    process.stdout.write(JSON.stringify(loaded));
  });`;
  const out = execFileSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  return JSON.parse(out) as string[];
}

describe('account', () => {
  it('takes the webhook URL as an http(s) base URL without a trailing slash, and refuses any other', () => {
    const base = { region: 'eu', baseUrl: '', apiKey: 'k', maxConcurrent: 1 };
    assert.equal(
      resolveAccount({ ...base, webhookUrl: ' https://nodered.example.com/ ' }).webhookUrl,
      'https://nodered.example.com',
    );
    assert.equal(
      resolveAccount({ ...base, webhookUrl: 'http://example.com/prefix/' }).webhookUrl,
      'http://example.com/prefix',
    );
    assert.equal(resolveAccount({ ...base, webhookUrl: '' }).webhookUrl, undefined);
    for (const bad of ['ftp://example.com', 'https://example.com/?a=1', 'https://u:p@example.com', 'example.com']) {
      assert.throws(
        () => resolveAccount({ ...base, webhookUrl: bad }),
        (error: { code?: string; message: string }) =>
          error.code === 'BFL_INVALID_INPUT' && /webhook URL/.test(error.message),
        bad,
      );
    }
  });

  it('serves webhooks only with a webhook URL, a place to serve them and a secret', async () => {
    const base = { region: 'eu', baseUrl: '', apiKey: 'k', maxConcurrent: 1, webhookSecret: 's' };
    const tuning = { webhookPath: '/bfl/webhook/cfg' };
    const accounts = [
      new Account({ ...base, webhookUrl: 'https://n.example.com/' }, tuning),
      new Account({ ...base, webhookUrl: '' }, tuning),
      new Account({ ...base, webhookUrl: 'https://n.example.com' }),
      new Account({ ...base, webhookUrl: 'https://n.example.com', webhookSecret: '' }, tuning),
    ];
    try {
      assert.deepEqual(
        accounts.map((account) => account.webhooks?.url),
        ['https://n.example.com/bfl/webhook/cfg', undefined, undefined, undefined],
      );
    } finally {
      await Promise.all(accounts.map((account) => account.close()));
    }
  });

  it('checks the config node settings with the table of fields', () => {
    assert.deepEqual(resolveAccount({ region: '', baseUrl: '', apiKey: ' key ', maxConcurrent: '' }), {
      region: 'global',
      baseUrl: 'https://api.bfl.ai',
      apiKey: 'key',
      maxConcurrent: 24,
      resumeJobs: true,
      dailyCreditLimit: undefined,
      webhookUrl: undefined,
    });
    assert.throws(
      () => resolveAccount({ region: 'mars', baseUrl: '', apiKey: 'k', maxConcurrent: 1 }),
      /^Region must be one of global, eu, us, custom, emulator, but it is "mars"/,
    );
    assert.throws(
      () => resolveAccount({ region: 'eu', baseUrl: '', apiKey: 'k', maxConcurrent: 25 }),
      /^Max\. active must be a whole number from 1 to 24, but it is 25/,
    );
    assert.throws(
      () => resolveAccount({ region: 'us', baseUrl: '', apiKey: '', maxConcurrent: 1 }),
      (error: { code?: string }) => error.code === 'BFL_AUTH',
    );
  });

  it('never loads the emulator for an account of a real region', () => {
    const loaded = emulatorModulesLoadedBy(`
      const { Account } = require('./lib/engine/account');
      const account = new Account({ region: 'eu', baseUrl: '', apiKey: 'key', maxConcurrent: 2 });
      await account.service();
      await account.close();`);
    assert.deepEqual(loaded, []);
  });

  it('loads the emulator once a config node uses the emulator region', () => {
    const loaded = emulatorModulesLoadedBy(`
      const { Account } = require('./lib/engine/account');
      const account = new Account({ region: 'emulator', baseUrl: '', apiKey: '', maxConcurrent: 2 });
      await account.service();
      await account.close();`);
    assert.ok(
      loaded.some((path) => path.endsWith('/lib/emulator/index.ts')),
      JSON.stringify(loaded),
    );
  });
});
