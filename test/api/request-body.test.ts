import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { fillRequestBody } from '../../lib/api/request-body';

/** The node's defaults, without a seed. */
const DEFAULTS = {
  prompt: '',
  steps: 50,
  guidance: 60,
  seed: undefined,
  outputFormat: 'jpeg' as const,
  safetyTolerance: 2,
  promptUpsampling: false,
};

describe('streamed submit body', () => {
  it('is exactly the JSON the API expects, with the declared length', async () => {
    const image = randomBytes(200_001);
    const mask = randomBytes(5);
    const parameters = {
      prompt: 'a "quoted" prompt',
      steps: 20,
      guidance: 30.5,
      seed: 9,
      outputFormat: 'webp' as const,
      safetyTolerance: 4,
      promptUpsampling: true,
    };
    const body = fillRequestBody(parameters, { image, mask });
    for (let round = 0; round < 2; round += 1) {
      const chunks: Buffer[] = [];
      for await (const chunk of body.chunks()) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      assert.equal(Buffer.byteLength(text), body.contentLength);
      assert.deepEqual(JSON.parse(text), {
        image: image.toString('base64'),
        mask: mask.toString('base64'),
        prompt: 'a "quoted" prompt',
        steps: 20,
        guidance: 30.5,
        seed: 9,
        output_format: 'webp',
        safety_tolerance: 4,
        prompt_upsampling: true,
      });
    }
  });

  it('leaves the seed out when none is set', async () => {
    const body = fillRequestBody(DEFAULTS, { image: Buffer.from('i'), mask: Buffer.from('m') });
    const chunks: Buffer[] = [];
    for await (const chunk of body.chunks()) chunks.push(chunk as Buffer);
    assert.equal('seed' in JSON.parse(Buffer.concat(chunks).toString()), false);
  });

  it('lets other work run while a big body is encoded, even when the socket takes every chunk at once', async () => {
    // 32 MB, a 12 MP PNG: encoded in one go this held the event loop for about 80 ms.
    const image = Buffer.alloc(32 * 1024 * 1024, 7);
    const body = fillRequestBody(DEFAULTS, { image, mask: Buffer.from('m') });
    let turns = 0;
    let ticking = true;
    const tick = (): void => {
      turns += 1;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    let length = 0;
    for await (const chunk of body.chunks()) length += (chunk as Buffer).length;
    ticking = false;
    assert.equal(length, body.contentLength);
    assert.ok(turns > 1, `other work ran ${turns} time(s) while the body was encoded`);
  });
});
