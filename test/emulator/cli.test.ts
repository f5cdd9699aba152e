import assert from 'node:assert/strict';
import * as path from 'node:path';
import { CliUsageError, DEFAULT_CLI_PORT, parseCliArgs, USAGE } from '../../lib/emulator/cli';
import { http, ROOT, runTs, spawnTs } from './helpers';

const BIN = path.join(ROOT, 'bin', 'bfl-emulator.ts');

describe('emulator: CLI argument parsing', () => {
  it('has loopback defaults and a fixed API port', () => {
    const args = parseCliArgs([]);
    assert.equal(args.help, false);
    assert.equal(args.quiet, false);
    assert.deepEqual(args.options, { host: '127.0.0.1', port: DEFAULT_CLI_PORT, clusterPort: 0, deliveryPort: 0 });
  });

  it('parses every option', () => {
    const args = parseCliArgs([
      '--port',
      '0',
      '--cluster-port',
      '4001',
      '--delivery-port=4002',
      '--host',
      '::1',
      '--processing-ms',
      '250',
      '--credits',
      '50',
      '--key',
      'bfl_key_one',
      '--key',
      'bfl_key_two',
      '--quiet',
    ]);
    assert.equal(args.quiet, true);
    assert.deepEqual(args.options, {
      host: '::1',
      port: 0,
      clusterPort: 4001,
      deliveryPort: 4002,
      processingMs: 250,
      defaultCredits: 50,
      keys: { bfl_key_one: 50, bfl_key_two: 50 },
    });
    assert.equal(parseCliArgs(['-h']).help, true);
    assert.equal(parseCliArgs(['--help']).help, true);
  });

  it('refuses bad values and unknown options', () => {
    assert.throws(() => parseCliArgs(['--port', 'eighty']), CliUsageError);
    assert.throws(() => parseCliArgs(['--port', '70000']), CliUsageError);
    assert.throws(() => parseCliArgs(['--processing-ms', '-5']), CliUsageError);
    assert.throws(() => parseCliArgs(['--key', 'short']), CliUsageError);
    assert.throws(() => parseCliArgs(['--bogus']), CliUsageError);
    assert.throws(() => parseCliArgs(['positional']), CliUsageError);
  });

  it('documents every option in the usage text', () => {
    for (const option of ['--port', '--host', '--processing-ms', '--credits', '--key', '--help', '[emulate:stuck]']) {
      assert.ok(USAGE.includes(option), option);
    }
  });
});

describe('emulator: bfl-emulator command', function () {
  this.timeout(30_000);

  it('prints usage for --help and exits 0', async () => {
    const result = await runTs(BIN, ['--help'], 20_000);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^Usage: bfl-emulator/);
  });

  it('exits 2 with usage on a bad option', async () => {
    const result = await runTs(BIN, ['--port', 'x'], 20_000);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--port must be an integer/);
  });

  it('serves, logs requests without the key and stops cleanly on SIGTERM', async () => {
    const key = 'bfl_cli_secret_key_1';
    const child = spawnTs(BIN, ['--port', '0', '--processing-ms', '10', '--key', key, '--credits', '33']);
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const apiUrl = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
          const match = /Base URL\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
          if (match && stdout.includes('Ctrl+C')) resolve(match[1]!);
        });
        child.on('exit', () => reject(new Error(`exited early: ${stdout} ${stderr}`)));
      });
      assert.match(stdout, /Region\s+custom/);
      assert.match(stdout, /cluster\s+http:\/\/127\.0\.0\.1:\d+/);
      assert.match(stdout, /delivery\s+http:\/\/127\.0\.0\.1:\d+/);

      const credits = await http(`${apiUrl}/v1/credits`, { headers: { 'x-key': key } });
      assert.equal(credits.status, 200);
      assert.deepEqual(credits.json, { credits: 33 });
      const refused = await http(`${apiUrl}/v1/credits`, { headers: { 'x-key': 'bfl_other_key_12' } });
      assert.equal(refused.status, 403);

      const logged = new Promise<void>((resolve) => {
        const check = () => {
          if (/GET api \/v1\/credits 403/.test(stdout)) resolve();
        };
        check();
        child.stdout.on('data', check);
      });
      await logged;
      assert.match(stdout, /GET api \/v1\/credits 200 \d+ms/);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
    assert.match(stdout, /Received SIGTERM, stopping\./);
    assert.ok(!stdout.includes(key), 'the key never appears in the output');
    assert.equal(stderr, '');
  });
});
