import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { BflEmulator, DEFAULT_EMULATOR_KEY } from '../../lib/emulator';
import { isLoopbackHost } from '../../lib/emulator/http';
import { basicBody, http, ROOT, runTs, startEmulator, submitOk } from './helpers';

describe('emulator: lifecycle', () => {
  it('exports the default key', () => {
    assert.equal(DEFAULT_EMULATOR_KEY, 'bfl_emulator_local_key');
  });

  it('keeps the default key in a module without imports, so the engine can load it without the emulator', () => {
    const source = readFileSync(path.join(ROOT, 'lib', 'emulator', 'key.ts'), 'utf8');
    assert.doesNotMatch(source, /\bimport\b|\brequire\(/);
    assert.match(source, /export const DEFAULT_EMULATOR_KEY = 'bfl_emulator_local_key';/);
  });

  it('refuses to listen on anything but loopback', async () => {
    for (const host of ['0.0.0.0', '192.168.1.10', 'example.com', '::', '10.0.0.1']) {
      await assert.rejects(BflEmulator.start({ host }), /loopback/, host);
    }
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '0:0:0:0:0:0:0:1']) {
      assert.equal(isLoopbackHost(host), true, host);
    }
  });

  for (const [host, origin] of [
    ['localhost', /^http:\/\/localhost:\d+$/],
    ['127.0.0.2', /^http:\/\/127\.0\.0\.2:\d+$/],
  ] as const) {
    it(`listens on ${host}`, async () => {
      const emu = await BflEmulator.start({ host, processingMs: 10 });
      try {
        assert.match(emu.apiUrl, origin);
        assert.match(emu.clusterUrl, origin);
        await submitOk(emu, await basicBody());
      } finally {
        await emu.close();
      }
    });
  }

  it('rejects invalid options', async () => {
    await assert.rejects(BflEmulator.start({ processingMs: -1 }), RangeError);
    await assert.rejects(BflEmulator.start({ port: 70000 }), RangeError);
  });

  it('fails to start on a busy port without leaving servers behind', async () => {
    const first = await startEmulator();
    try {
      const port = Number(new URL(first.apiUrl).port);
      await assert.rejects(BflEmulator.start({ port: 0, clusterPort: port }), /EADDRINUSE/);
    } finally {
      await first.close();
    }
  });

  it('close() is idempotent and refuses further connections', async () => {
    const emu = await startEmulator();
    await submitOk(emu, await basicBody());
    const closing = emu.close();
    assert.equal(emu.close(), closing);
    await closing;
    await assert.rejects(http(`${emu.apiUrl}/v1/credits`, { headers: { 'x-key': DEFAULT_EMULATOR_KEY } }));
  });

  it('records requests and clears them, tasks and scenarios on reset()', async () => {
    const emu = await startEmulator();
    try {
      emu.nextTask({ outcome: 'error' });
      emu.setDefaultScenario({ outcome: 'failed' });
      await http(`${emu.apiUrl}/v1/credits?x=1`, { headers: { 'x-key': DEFAULT_EMULATOR_KEY, 'X-Custom': 'Value' } });
      const record = emu.requests[0]!;
      assert.equal(record.origin, 'api');
      assert.equal(record.method, 'GET');
      assert.equal(record.path, '/v1/credits');
      assert.equal(record.query, 'x=1');
      assert.equal(record.status, 200);
      assert.equal(record.headers['x-key'], DEFAULT_EMULATOR_KEY);
      assert.equal(record.headers['x-custom'], 'Value');
      assert.ok(Math.abs(record.at - Date.now()) < 5000);
      emu.reset();
      assert.equal(emu.requests.length, 0);
      assert.equal(emu.tasks.size, 0);
      const submitted = await submitOk(emu, await basicBody());
      const done = await emu.waitForTask((t) => t.id === submitted.id && t.status !== 'Pending');
      assert.equal(done.status, 'Ready', 'queued and default scenarios were cleared');
    } finally {
      await emu.close();
    }
  });

  it('logs one line per request without the key', async () => {
    const lines: string[] = [];
    const emu = await startEmulator({ log: (line) => lines.push(line) });
    try {
      const secretKey = 'bfl_very_secret_key_42';
      const reply = await http(`${emu.apiUrl}/v1/credits`, { headers: { 'x-key': secretKey } });
      assert.equal(reply.status, 200);
      // The log line is written when the response closes, just after the client has it.
      for (let i = 0; i < 100 && lines.length === 0; i++) await new Promise((resolve) => setImmediate(resolve));
      assert.equal(lines.length, 1);
      assert.match(lines[0]!, /^GET api \/v1\/credits 200 \d+ms$/);
      assert.ok(!lines.join('\n').includes(secretKey));
    } finally {
      await emu.close();
    }
  });

  it('leaves nothing running after close(): a process with work in flight exits by itself', async function () {
    this.timeout(30_000);
    const result = await runTs(path.join(__dirname, 'fixtures', 'close-child.ts'), [], 20_000);
    assert.equal(result.stderr, '');
    assert.equal(result.stdout, 'closed\n');
    assert.equal(result.code, 0);
  });
});
