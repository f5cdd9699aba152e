/** The emulator's fine-tuned fill and expand endpoints, over HTTP: validation as Pydantic does it, price, output. */
import assert from 'node:assert/strict';
import sharp from 'sharp';
import type { BflEmulator } from '../../lib/emulator';
import { KEY, gradientPng, gradientRaw, http, maskPng, pollUntilDone, startEmulator, type Reply } from './helpers';

describe('emulator: fine-tuned fill and expand', () => {
  let emu: BflEmulator;
  let image: string;
  let mask: string;

  before(async () => {
    emu = await startEmulator();
    image = (await gradientPng(40, 30)).toString('base64');
    mask = (await maskPng(40, 30, (x) => (x < 10 ? 255 : 0))).toString('base64');
  });
  beforeEach(() => emu.reset());
  after(() => emu.close());

  const post = (model: string, body: unknown): Promise<Reply> =>
    http(`${emu.apiUrl}/v1/${model}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-key': KEY },
      body: JSON.stringify(body),
    });
  const download = async (reply: Reply) => {
    const done = await pollUntilDone(reply.json.polling_url);
    const res = await http(done.json.result.sample);
    return sharp(res.body).raw().toBuffer({ resolveWithObject: true });
  };

  describe('POST /v1/flux-pro-1.0-fill-finetuned', () => {
    it('requires finetune_id and checks finetune_strength 0..2 (422)', async () => {
      const reply = await post('flux-pro-1.0-fill-finetuned', { image, mask, finetune_strength: 3 });
      assert.equal(reply.status, 422);
      assert.deepEqual(
        reply.json.detail.map((d: { type: string; loc: string[] }) => [d.type, d.loc[1]]),
        [
          ['missing', 'finetune_id'],
          ['less_than_equal', 'finetune_strength'],
        ],
      );
      assert.equal(emu.tasks.size, 0);
    });

    it('does not take null for prompt, steps, guidance or prompt_upsampling', async () => {
      const reply = await post('flux-pro-1.0-fill-finetuned', {
        image,
        mask,
        finetune_id: 'ft',
        prompt: null,
        steps: null,
      });
      assert.equal(reply.status, 422);
      assert.deepEqual(
        reply.json.detail.map((d: { loc: string[] }) => d.loc[1]),
        ['prompt', 'steps'],
      );
    });

    it('charges 6 credits and fills only the masked area', async () => {
      const reply = await post('flux-pro-1.0-fill-finetuned', { image, mask, finetune_id: 'ft', output_format: 'png' });
      assert.equal(reply.status, 200);
      assert.equal(reply.json.cost, 6);
      const out = await download(reply);
      const original = gradientRaw(40, 30);
      const at = (5 * 40 + 30) * 3;
      assert.deepEqual([...out.data.subarray(at, at + 3)], [...original.subarray(at, at + 3)]);
    });
  });

  describe('POST /v1/flux-pro-1.0-expand', () => {
    it('checks each side is a whole number 0..2048 (422)', async () => {
      const reply = await post('flux-pro-1.0-expand', { image, top: -1, left: 2049, right: 1.5 });
      assert.equal(reply.status, 422);
      assert.deepEqual(
        reply.json.detail.map((d: { type: string; loc: string[] }) => [d.type, d.loc[1]]),
        [
          ['greater_than_equal', 'top'],
          ['less_than_equal', 'left'],
          ['int_from_float', 'right'],
        ],
      );
    });

    it('answers a picture of (width + left + right) × (height + top + bottom) in which only the new area changed', async () => {
      const reply = await post('flux-pro-1.0-expand', {
        image,
        top: 4,
        bottom: 6,
        left: 8,
        right: 2,
        output_format: 'png',
      });
      assert.equal(reply.status, 200);
      assert.equal(reply.json.cost, 5);
      const out = await download(reply);
      assert.deepEqual([out.info.width, out.info.height], [50, 40]);
      const original = gradientRaw(40, 30);
      for (const [x, y] of [
        [0, 0],
        [39, 29],
        [20, 15],
      ]) {
        const at = ((y! + 4) * 50 + x! + 8) * 3;
        const from = (y! * 40 + x!) * 3;
        assert.deepEqual([...out.data.subarray(at, at + 3)], [...original.subarray(from, from + 3)]);
      }
      assert.equal([...emu.tasks.values()][0]!.model, 'expand');
    });

    it('ignores a mask, as an unknown field', async () => {
      const reply = await post('flux-pro-1.0-expand', { image, mask: 'not even base64', right: 10 });
      assert.equal(reply.status, 200);
    });
  });
});
