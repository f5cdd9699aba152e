import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { BflEmulator } from '../../lib/emulator';
import { DeliverySigner } from '../../lib/emulator/delivery';
import { basicBody, http, poll, pollUntilDone, startEmulator, submitOk } from './helpers';

async function readyTask(emu: BflEmulator, extra: Record<string, unknown> = {}) {
  const submitted = await submitOk(emu, await basicBody(extra));
  const done = await pollUntilDone(submitted.polling_url);
  assert.equal(done.json.status, 'Ready');
  return { submitted, sample: done.json.result.sample as string };
}

describe('emulator: result delivery', () => {
  let emu: BflEmulator;

  before(async () => {
    emu = await startEmulator();
  });
  afterEach(() => emu.reset());
  after(() => emu.close());

  it('serves the image with Azure-like headers, no auth, no CORS', async () => {
    const { sample } = await readyTask(emu, { output_format: 'png' });
    const reply = await http(sample, { headers: { origin: 'http://example.com', 'x-key': 'ignored_anyway_1' } });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-type'], 'image/png');
    assert.equal(Number(reply.headers['content-length']), reply.body.length);
    assert.equal(reply.headers['content-md5'], createHash('md5').update(reply.body).digest('base64'));
    assert.match(String(reply.headers.etag), /^"0x[0-9A-F]+"$/);
    assert.ok(reply.headers['last-modified']);
    for (const name of Object.keys(reply.headers))
      assert.ok(!name.startsWith('access-control-'), `CORS header ${name}`);
    const noHeaders = await http(sample);
    assert.ok(noHeaders.body.equals(reply.body));
  });

  it('answers HEAD with the headers only and refuses other methods', async () => {
    const { sample } = await readyTask(emu);
    const head = await http(sample, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.ok(Number(head.headers['content-length']) > 0);
    assert.equal((await http(sample, { method: 'PUT', body: 'x' })).status, 405);
  });

  it('answers 403 AuthenticationFailed XML for a tampered signature or path', async () => {
    const { sample } = await readyTask(emu);
    const badSig = await http(sample.replace(/sig=[^&]+/, 'sig=AAAA'));
    assert.equal(badSig.status, 403);
    assert.match(String(badSig.headers['content-type']), /application\/xml/);
    assert.match(badSig.body.toString(), /<Code>AuthenticationFailed<\/Code>/);
    const otherPath = await http(sample.replace(/[0-9a-f]{32}_sample/, 'f'.repeat(32) + '_sample'));
    assert.equal(otherPath.status, 403);
    const noSig = await http(sample.split('?')[0]!);
    assert.equal(noSig.status, 403);
  });

  it('expires URLs on expireDeliveries() and re-signs on the next poll', async () => {
    const { submitted, sample } = await readyTask(emu);
    assert.equal((await http(sample)).status, 200);
    emu.expireDeliveries();
    const expired = await http(sample);
    assert.equal(expired.status, 403);
    assert.match(expired.body.toString(), /AuthenticationFailed/);
    assert.match(expired.body.toString(), /Signed expiry time/);
    const again = await poll(submitted.polling_url);
    const fresh = again.json.result.sample as string;
    assert.notEqual(fresh, sample);
    assert.equal((await http(fresh)).status, 200);
  });

  it('signs the first URL for ten minutes from completion', async () => {
    const { sample } = await readyTask(emu);
    const task = [...emu.tasks.values()][0]!;
    const se = Date.parse(decodeURIComponent(/se=([^&]+)/.exec(sample)![1]!));
    const expected = task.completedAt! + 600_000;
    assert.ok(se >= expected && se <= expected + 2000, `se ${new Date(se).toISOString()}`);
  });

  it('keeps the first URL when resignOnPoll is off', async () => {
    const fixed = await startEmulator({ resignOnPoll: false });
    try {
      const { submitted, sample } = await readyTask(fixed);
      fixed.expireDeliveries();
      const again = await poll(submitted.polling_url);
      assert.equal(again.json.result.sample, sample);
      assert.equal((await http(sample)).status, 403);
    } finally {
      await fixed.close();
    }
  });

  it('expires URLs in real time with a short deliveryTtlMs', async () => {
    const quick = await startEmulator({ deliveryTtlMs: 40, resignOnPoll: false });
    try {
      const { sample } = await readyTask(quick);
      const se = Date.parse(decodeURIComponent(/se=([^&]+)/.exec(sample)![1]!));
      // Waiting for a timer is the point of this test: nothing else signals expiry.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, se - Date.now()) + 5));
      assert.equal((await http(sample)).status, 403);
    } finally {
      await quick.close();
    }
  });

  it('answers 404 BlobNotFound for a validly signed URL whose blob is gone', async () => {
    const { sample } = await readyTask(emu);
    emu.reset();
    const gone = await http(sample);
    assert.equal(gone.status, 404);
    assert.match(gone.body.toString(), /<Code>BlobNotFound<\/Code>/);
  });

  it('records delivery requests with their headers, so tests can check the key never reaches them', async () => {
    const { sample } = await readyTask(emu);
    await http(sample);
    const downloads = emu.requests.filter((r) => r.origin === 'delivery');
    assert.equal(downloads.length, 1);
    assert.equal(downloads[0]!.status, 200);
    assert.equal(downloads[0]!.headers['x-key'], undefined);
    assert.match(downloads[0]!.query, /^se=.*&sig=/);
  });
});

describe('emulator: DeliverySigner', () => {
  it('verifies its own signatures and detects expiry, tampering and malformed queries', () => {
    const signer = new DeliverySigner(60_000);
    const url = new URL(signer.sign('/results/2026/01/01/abc_sample.png', 'png', 1_000_000, 'http://127.0.0.1:1'));
    const path = url.pathname;
    assert.equal(signer.verify(path, url.searchParams, 1_000_000), 'ok');
    assert.equal(signer.verify(path, url.searchParams, 1_000_000 + 61_000), 'expired');
    assert.equal(signer.verify('/results/other', url.searchParams, 1_000_000), 'bad-signature');
    const stripped = new URLSearchParams(url.searchParams);
    stripped.delete('sp');
    assert.equal(signer.verify(path, stripped, 1_000_000), 'malformed');
    assert.equal(
      new DeliverySigner(60_000).verify(path, url.searchParams, 1_000_000),
      'bad-signature',
      'per-instance secret',
    );
  });

  it('never re-issues a revoked expiry after expireAll()', () => {
    const signer = new DeliverySigner(60_000);
    const now = Date.now();
    const first = new URL(signer.sign('/p', 'jpeg', now, 'http://h'));
    signer.expireAll();
    const second = new URL(signer.sign('/p', 'jpeg', now, 'http://h'));
    assert.equal(signer.verify('/p', first.searchParams, now), 'expired');
    assert.equal(signer.verify('/p', second.searchParams, now), 'ok');
  });
});
