import assert from 'node:assert/strict';
import sharp from 'sharp';
import type { BflEmulator } from '../../lib/emulator';
import {
  alphaPng,
  b64,
  basicBody,
  gradientPng,
  gradientRaw,
  http,
  KEY,
  maskPng,
  poll,
  pollUntilDone,
  startEmulator,
  submit,
  submitOk,
} from './helpers';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('emulator: submit, poll, download', () => {
  let emu: BflEmulator;

  before(async () => {
    emu = await startEmulator();
  });
  afterEach(() => emu.reset());
  after(() => emu.close());

  it('uses three distinct loopback origins', () => {
    const origins = new Set([emu.apiUrl, emu.clusterUrl, emu.deliveryUrl]);
    assert.equal(origins.size, 3);
    for (const origin of origins) assert.match(origin, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('answers a valid submit with all five AsyncResponse keys and a polling_url on the cluster', async () => {
    const reply = await submit(emu, await basicBody());
    assert.equal(reply.status, 200);
    assert.match(String(reply.headers['content-type']), /application\/json/);
    assert.deepEqual(Object.keys(reply.json).sort(), ['cost', 'id', 'input_mp', 'output_mp', 'polling_url']);
    assert.match(reply.json.id, UUID_V4);
    assert.equal(reply.json.polling_url, `${emu.clusterUrl}/v1/get_result?id=${reply.json.id}`);
    assert.equal(reply.json.cost, 5);
    assert.equal(reply.json.input_mp, 0);
    assert.equal(reply.json.output_mp, 0);
  });

  it('rounds megapixels to two decimals', async () => {
    const width = 1000;
    const height = 1234;
    const image = await sharp({ create: { width, height, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    const mask = await sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
      .png()
      .toBuffer();
    const json = await submitOk(emu, { image: b64(image), mask: b64(mask) });
    assert.equal(json.input_mp, 1.23);
    assert.equal(json.output_mp, 1.23);
  });

  it('goes Pending -> Ready and serves a PNG where only masked pixels changed', async () => {
    const width = 64;
    const height = 48;
    // Columns 0..29 black (keep), 30 = 127 (keep), 31 = 128 (fill), 32.. white (fill).
    const maskValue = (x: number) => (x < 30 ? 0 : x === 30 ? 127 : x === 31 ? 128 : 255);
    const body = {
      image: b64(await gradientPng(width, height)),
      mask: b64(await maskPng(width, height, maskValue)),
      prompt: 'a red balloon',
      output_format: 'png',
      seed: 42,
    };
    const submitted = await submitOk(emu, body);
    const first = await poll(submitted.polling_url);
    assert.equal(first.status, 200);
    assert.deepEqual(first.json, {
      id: submitted.id,
      status: 'Pending',
      result: null,
      progress: null,
      details: null,
      preview: null,
    });

    const done = await pollUntilDone(submitted.polling_url);
    assert.equal(done.status, 200);
    assert.equal(done.json.status, 'Ready');
    assert.deepEqual(Object.keys(done.json).sort(), ['details', 'id', 'preview', 'progress', 'result', 'status']);
    const result = done.json.result;
    assert.deepEqual(Object.keys(result).sort(), ['duration', 'end_time', 'prompt', 'sample', 'seed', 'start_time']);
    assert.equal(result.seed, 42);
    assert.equal(result.prompt, 'a red balloon');
    assert.ok(result.end_time >= result.start_time);
    assert.ok(Math.abs(result.duration - (result.end_time - result.start_time)) < 1e-6);
    assert.ok(result.start_time > 1.7e9 && result.start_time < 1e11, 'unix seconds, not ms');
    assert.ok(result.sample.startsWith(`${emu.deliveryUrl}/results/`));
    assert.match(
      result.sample,
      /\/results\/\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{32}_sample\.png\?se=\d{4}-\d{2}-\d{2}T\d{2}%3A\d{2}%3A\d{2}Z&sp=r&sv=2024-11-04&sr=b&rsct=image\/png&sig=/,
    );

    const download = await http(result.sample);
    assert.equal(download.status, 200);
    assert.equal(download.headers['content-type'], 'image/png');
    const out = await sharp(download.body).raw().toBuffer({ resolveWithObject: true });
    assert.equal(out.info.width, width);
    assert.equal(out.info.height, height);
    assert.equal(out.info.channels, 3);
    const input = gradientRaw(width, height);
    let changedMasked = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = (y * width + x) * 3;
        const same = out.data[i] === input[i] && out.data[i + 1] === input[i + 1] && out.data[i + 2] === input[i + 2];
        if (maskValue(x) < 128) assert.ok(same, `unmasked pixel ${x},${y} changed`);
        else if (!same) changedMasked += 1;
      }
    }
    const maskedPixels = (width - 31) * height;
    assert.ok(changedMasked > maskedPixels * 0.9, `only ${changedMasked} of ${maskedPixels} masked pixels changed`);
  });

  it('produces the same image for the same seed and prompt', async () => {
    const body = await basicBody({ output_format: 'png', seed: 7 });
    const a = await pollUntilDone((await submitOk(emu, body)).polling_url);
    const b = await pollUntilDone((await submitOk(emu, body)).polling_url);
    const [imgA, imgB] = await Promise.all([http(a.json.result.sample), http(b.json.result.sample)]);
    assert.ok(imgA.body.equals(imgB.body));
  });

  it('fills transparent pixels in alpha mode (no mask)', async () => {
    const width = 40;
    const height = 30;
    // Alpha 0 and 100 fill (below 128), 200 and 255 keep.
    const alpha = (x: number) => (x < 10 ? 0 : x < 15 ? 100 : x < 20 ? 200 : 255);
    const submitted = await submitOk(emu, { image: b64(await alphaPng(width, height, alpha)), output_format: 'png' });
    const task = emu.tasks.get(submitted.id)!;
    assert.equal(task.mask, null);
    const done = await pollUntilDone(submitted.polling_url);
    const out = await sharp((await http(done.json.result.sample)).body)
      .raw()
      .toBuffer({ resolveWithObject: true });
    assert.equal(out.info.channels, 3, 'the result has no alpha channel');
    const input = gradientRaw(width, height);
    let changed = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = (y * width + x) * 3;
        if (alpha(x) >= 200) {
          // Opaque pixels stay; alpha-200 pixels are flattened onto black, so compare those only where alpha is 255.
          if (alpha(x) === 255) assert.deepEqual([...out.data.subarray(i, i + 3)], [...input.subarray(i, i + 3)]);
        } else if (!out.data.subarray(i, i + 3).equals(input.subarray(i, i + 3))) changed += 1;
      }
    }
    assert.ok(changed > 15 * height * 0.9);
  });

  for (const format of ['jpeg', 'webp'] as const) {
    it(`delivers ${format} output with the input's size`, async () => {
      const submitted = await submitOk(emu, await basicBody({ output_format: format }));
      const done = await pollUntilDone(submitted.polling_url);
      assert.match(done.json.result.sample, new RegExp(`_sample\\.${format}\\?.*rsct=image/${format}&`));
      const download = await http(done.json.result.sample);
      assert.equal(download.headers['content-type'], `image/${format}`);
      const meta = await sharp(download.body).metadata();
      assert.equal(meta.format, format);
      assert.equal(meta.width, 64);
      assert.equal(meta.height, 48);
    });
  }

  it('defaults to jpeg and a random seed in 0..2^32-1', async () => {
    const submitted = await submitOk(emu, await basicBody());
    const task = emu.tasks.get(submitted.id)!;
    assert.equal(task.outputFormat, 'jpeg');
    assert.ok(Number.isInteger(task.seed) && task.seed >= 0 && task.seed < 2 ** 32);
    const done = await pollUntilDone(submitted.polling_url);
    assert.equal(done.json.result.seed, task.seed);
    assert.match(done.json.result.sample, /_sample\.jpeg\?/);
  });

  it('records the task with the body as received (images summarised, JSON types kept)', async () => {
    const body = await basicBody({ steps: '20', guidance: 30, seed: 5, safety_tolerance: 6, aspect_ratio: '1:1' });
    const submitted = await submitOk(emu, body);
    const task = emu.tasks.get(submitted.id)!;
    assert.equal(task.key, KEY);
    assert.equal(task.width, 64);
    assert.equal(task.height, 48);
    assert.equal(task.body.image, `<base64 ${(body.image as string).length} chars>`);
    assert.equal(task.body.mask, `<base64 ${(body.mask as string).length} chars>`);
    assert.equal(task.body.steps, '20', 'the body is kept as sent, strings stay strings');
    assert.equal(task.body.guidance, 30);
    assert.equal(task.body.aspect_ratio, '1:1', 'unknown fields are ignored, not rejected');
    assert.ok(Buffer.isBuffer(task.image) && task.image.length > 0);
    assert.ok(task.mask && task.mask.length > 0);
    assert.equal(task.seed, 5);
  });

  it('reports an upsampled prompt when prompt_upsampling is on', async () => {
    const submitted = await submitOk(emu, await basicBody({ prompt_upsampling: true, prompt: 'a cat' }));
    const done = await pollUntilDone(submitted.polling_url);
    assert.ok(done.json.result.prompt.startsWith('a cat, '));
    assert.equal(emu.tasks.get(submitted.id)!.prompt, done.json.result.prompt);
  });

  it('accepts a body without prompt (the API defaults it to "")', async () => {
    const body = await basicBody();
    delete body.prompt;
    const submitted = await submitOk(emu, body);
    assert.equal(emu.tasks.get(submitted.id)!.prompt, '');
  });

  it('answers polls with Retry-After and rate-limit headers', async () => {
    const submitted = await submitOk(emu, await basicBody());
    const reply = await poll(submitted.polling_url);
    assert.equal(reply.headers['retry-after'], '1');
    assert.equal(reply.headers['x-ratelimit-limit'], '1200');
    assert.match(String(reply.headers['x-ratelimit-remaining']), /^\d+$/);
    assert.match(String(reply.headers['x-ratelimit-reset']), /^\d+\.\d+$/);
  });

  it('allows polls without a key but refuses a wrong one', async () => {
    const submitted = await submitOk(emu, await basicBody());
    assert.equal((await poll(submitted.polling_url, null)).status, 200);
    const restricted = await startEmulator({ keys: { good_key_1234: 10 } });
    try {
      const own = await submitOk(restricted, await basicBody(), 'good_key_1234');
      const wrong = await poll(own.polling_url, 'wrong_key_1234');
      assert.equal(wrong.status, 403);
      assert.deepEqual(wrong.json, { detail: 'Not authenticated - Invalid Authentication' });
      assert.equal((await poll(own.polling_url, 'good_key_1234')).status, 200);
    } finally {
      await restricted.close();
    }
  });
});
