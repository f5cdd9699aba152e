/** The fine-tuned fill against the emulator over HTTP: its endpoint, fields and price, and its refusals. */
import assert from 'node:assert/strict';
import sharp from 'sharp';
import type { BflEmulator } from '../../lib/emulator';
import { fill } from '../../lib/engine/fill';
import type { FillService } from '../../lib/engine/service';
import { SpendLedger } from '../../lib/engine/budget';
import { fastService, gradientPng, rectangleMask, startEmulator } from '../support/emulator';

describe('fine-tuned fill (flux-pro-1.0-fill-finetuned)', () => {
  let emulator: BflEmulator;
  let service: FillService;
  let image: Buffer;
  let mask: Buffer;
  const signal = new AbortController().signal;
  const model = 'flux-pro-1.0-fill-finetuned';

  before(async () => {
    emulator = await startEmulator();
    image = await gradientPng(64, 48);
    mask = await rectangleMask(64, 48, { left: 8, top: 8, width: 16, height: 16 });
  });
  beforeEach(() => {
    emulator.reset();
    service = fastService(emulator);
  });
  afterEach(() => service.close());
  after(() => emulator.close());

  const run = (inputs: Record<string, unknown>) =>
    fill(service, { inputs: { outputFormat: 'png', ...inputs }, fallbacks: {}, image, mask }, signal);

  it('sends finetune_id and finetune_strength with every fill field to its own endpoint', async () => {
    const result = await run({
      model,
      finetuneId: 'org-1/my-lora',
      finetuneStrength: 1.5,
      prompt: 'my product',
      steps: 30,
    });
    const post = emulator.requests.find((r) => r.method === 'POST')!;
    assert.equal(post.path, '/v1/flux-pro-1.0-fill-finetuned');
    const { body } = [...emulator.tasks.values()][0]!;
    assert.equal(body.finetune_id, 'org-1/my-lora');
    assert.equal(body.finetune_strength, 1.5);
    assert.equal(body.prompt, 'my product');
    assert.equal(body.steps, 30);
    assert.match(String(body.mask), /^<base64/);
    assert.equal(result.metadata.cost, 6);
  });

  it('uses a strength of 1.1 when none is set', async () => {
    await run({ model, finetuneId: 'ft-1' });
    assert.equal([...emulator.tasks.values()][0]!.body.finetune_strength, 1.1);
  });

  it('pastes back and crops as the plain fill does', async () => {
    const result = await run({ model, finetuneId: 'ft-1', cropToMask: true, cropMargin: 8 });
    const meta = await sharp(result.image).metadata();
    assert.deepEqual([meta.width, meta.height], [64, 48]);
    const [out, original] = await Promise.all(
      [result.image, image].map((bytes) => sharp(bytes).removeAlpha().raw().toBuffer()),
    );
    // A pixel far from the mask is the input's own.
    const at = (40 * 64 + 60) * 3;
    assert.deepEqual([...out!.subarray(at, at + 3)], [...original!.subarray(at, at + 3)]);
  });

  for (const finetuneId of [undefined, '', '   ']) {
    it(`refuses a fine-tuned fill without a fine-tune id (${JSON.stringify(finetuneId)}) and submits nothing`, async () => {
      await assert.rejects(run({ model, finetuneId }), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'BFL_INVALID_INPUT');
        assert.match(error.message, /Fine-tune ID is required with the model flux-pro-1.0-fill-finetuned/);
        assert.match(error.message, /Nothing was submitted/);
        return true;
      });
      assert.equal(emulator.requests.length, 0);
    });
  }

  it('refuses a strength outside 0..2', async () => {
    await assert.rejects(
      run({ model, finetuneId: 'ft', finetuneStrength: 2.5 }),
      /Fine-tune strength must be a number from 0 to 2/,
    );
    assert.equal(emulator.requests.length, 0);
  });

  it('ignores the fine-tune fields for the plain fill', async () => {
    await run({ finetuneId: 'ft', finetuneStrength: 2 });
    const { body } = [...emulator.tasks.values()][0]!;
    assert.equal(emulator.requests.find((r) => r.method === 'POST')!.path, '/v1/flux-pro-1.0-fill');
    assert.equal(body.finetune_id, undefined);
  });

  it('counts the fine-tune list price against the daily credit limit when the API reports no cost', async () => {
    await service.close();
    await emulator.close();
    emulator = await startEmulator({ costPerImage: null });
    const budget = new SpendLedger({ limit: 10 });
    service = fastService(emulator, { budget });
    await run({ model, finetuneId: 'ft' });
    await assert.rejects(
      run({ model, finetuneId: 'ft' }),
      (error: Error & { code?: string }) => error.code === 'BFL_BUDGET',
    );
  });
});
