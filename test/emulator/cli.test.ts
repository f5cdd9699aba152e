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
      '--processing-spread',
      '0.1',
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
      processingSpread: 0.1,
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
    assert.throws(() => parseCliArgs(['--processing-spread', '1.5']), CliUsageError);
    assert.throws(() => parseCliArgs(['--key', 'short']), CliUsageError);
    assert.throws(() => parseCliArgs(['--bogus']), CliUsageError);
    assert.throws(() => parseCliArgs(['positional']), CliUsageError);
  });

  it('documents every option in the usage text', () => {
    for (const option of [
      '--port',
      '--host',
      '--processing-ms',
      '--processing-spread',
      '--credits',
      '--key',
      '--help',
      '[emulate:stuck]',
    ]) {
      assert.ok(USAGE.includes(option), option);
    }
    for (const option of ['--fault-rate', '--faults', '--seed', '--stall-ms', '--restart-ms', '[emulate:fault=']) {
      assert.ok(USAGE.includes(option), option);
    }
  });

  it('parses the fault options', () => {
    const args = parseCliArgs([
      '--fault-rate',
      '0.1',
      '--faults',
      'poll:reset-before,download:break, submit:rate-limit-storm=2:x5',
      '--seed',
      '42',
      '--stall-ms',
      '5000',
      '--restart-ms',
      '200',
    ]);
    assert.equal(args.options.faultRate, 0.1);
    assert.deepEqual(args.options.faults, ['poll:reset-before', 'download:break', 'submit:rate-limit-storm=2:x5']);
    assert.equal(args.options.seed, 42);
    assert.equal(args.options.stallMs, 5000);
    assert.equal(args.options.restartMs, 200);
  });

  it('refuses fault options that cannot be', () => {
    for (const argv of [
      ['--fault-rate', '2'],
      ['--fault-rate', 'often'],
      ['--faults', 'download:malformed-json'],
      ['--faults', 'poll:teapot'],
      ['--faults', ','],
      ['--seed', '-3'],
      ['--stall-ms', 'long'],
    ]) {
      assert.throws(() => parseCliArgs(argv), CliUsageError, argv.join(' '));
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

  it('answers with faults at --fault-rate, names its seed and logs each fault', async () => {
    const child = spawnTs(BIN, ['--port', '0', '--fault-rate', '1', '--faults', 'credits:503', '--seed', '9']);
    let stdout = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const output = (pattern: RegExp) =>
      new Promise<RegExpExecArray>((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(stdout);
          if (match) resolve(match);
        };
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
          check();
        });
        child.on('exit', () => reject(new Error(`exited early: ${stdout}`)));
        check();
      });
    try {
      const apiUrl = (await output(/Base URL\s+(http:\/\/127\.0\.0\.1:\d+)[\s\S]*Ctrl\+C/))[1]!;
      assert.match(stdout, /Faults: 100% of requests, drawn from credits:status=503 \(--seed 9 replays them\)/);
      const credits = await http(`${apiUrl}/v1/credits`, { headers: { 'x-key': 'bfl_emulator_local_key' } });
      assert.equal(credits.status, 503);
      await output(/GET api \/v1\/credits 503 \d+ms fault=credits:status=503/);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
  });
});
