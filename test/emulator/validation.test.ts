import assert from 'node:assert/strict';
import sharp from 'sharp';
import type { BflEmulator } from '../../lib/emulator';
import { decodeRequestBody, validateFillBody, type FillParams } from '../../lib/emulator/validation';
import { b64, basicBody, gradientPng, http, maskPng, startEmulator, submit } from './helpers';

function validate(body: unknown) {
  return validateFillBody({ kind: 'json', value: body });
}

function errorsOf(body: unknown) {
  const result = validate(body);
  assert.equal(result.ok, false, 'expected a validation error');
  return (result as { ok: false; detail: any[] }).detail;
}

function valueOf(body: unknown): FillParams {
  const result = validate(body);
  if (!result.ok) assert.fail(`unexpected errors: ${JSON.stringify(result.detail)}`);
  return result.value;
}

describe('emulator: pydantic-style validation', () => {
  it('applies the API defaults, also for explicit nulls', () => {
    const expected = {
      model: 'fill',
      image: 'x',
      mask: null,
      finetune: null,
      sides: null,
      prompt: '',
      steps: 50,
      promptUpsampling: false,
      seed: null,
      guidance: 60,
      outputFormat: 'jpeg',
      safetyTolerance: 2,
      webhookUrl: null,
      webhookSecret: null,
    };
    assert.deepEqual(valueOf({ image: 'x' }), expected);
    assert.deepEqual(
      valueOf({
        image: 'x',
        mask: null,
        prompt: null,
        steps: null,
        prompt_upsampling: null,
        seed: null,
        guidance: null,
        output_format: null,
        webhook_url: null,
        webhook_secret: null,
      }),
      expected,
    );
  });

  it('reports a missing image with the whole body as input', () => {
    const body = { input_image: 'abc', steps: 20 };
    assert.deepEqual(errorsOf(body), [{ type: 'missing', loc: ['body', 'image'], msg: 'Field required', input: body }]);
  });

  it('coerces ints like pydantic lax mode', () => {
    assert.equal(valueOf({ image: 'x', steps: 20 }).steps, 20);
    assert.equal(valueOf({ image: 'x', steps: 20.0 }).steps, 20);
    assert.equal(valueOf({ image: 'x', steps: '20' }).steps, 20);
    assert.equal(valueOf({ image: 'x', steps: ' 20.00 ' }).steps, 20);
    assert.equal(valueOf({ image: 'x', seed: '1_000' }).seed, 1000);
    // pydantic-core accepts JSON booleans for int fields in lax mode (true -> 1).
    assert.equal(valueOf({ image: 'x', seed: true }).seed, 1);
    assert.deepEqual(errorsOf({ image: 'x', steps: 20.5 }), [
      {
        type: 'int_from_float',
        loc: ['body', 'steps'],
        msg: 'Input should be a valid integer, got a number with a fractional part',
        input: 20.5,
      },
    ]);
    assert.deepEqual(errorsOf({ image: 'x', steps: 'twenty' }), [
      {
        type: 'int_parsing',
        loc: ['body', 'steps'],
        msg: 'Input should be a valid integer, unable to parse string as an integer',
        input: 'twenty',
      },
    ]);
    assert.deepEqual(errorsOf({ image: 'x', seed: '20.5' })[0].type, 'int_parsing');
    assert.deepEqual(errorsOf({ image: 'x', seed: [1] }), [
      { type: 'int_type', loc: ['body', 'seed'], msg: 'Input should be a valid integer', input: [1] },
    ]);
  });

  it('enforces ranges with greater_than_equal / less_than_equal and ctx', () => {
    assert.deepEqual(errorsOf({ image: 'x', steps: 10 }), [
      {
        type: 'greater_than_equal',
        loc: ['body', 'steps'],
        msg: 'Input should be greater than or equal to 15',
        input: 10,
        ctx: { ge: 15 },
      },
    ]);
    assert.deepEqual(errorsOf({ image: 'x', steps: 51 }), [
      {
        type: 'less_than_equal',
        loc: ['body', 'steps'],
        msg: 'Input should be less than or equal to 50',
        input: 51,
        ctx: { le: 50 },
      },
    ]);
    assert.deepEqual(errorsOf({ image: 'x', guidance: 1 })[0].ctx, { ge: 1.5 });
    assert.equal(errorsOf({ image: 'x', guidance: 1 })[0].msg, 'Input should be greater than or equal to 1.5');
    assert.equal(errorsOf({ image: 'x', guidance: 100.5 })[0].type, 'less_than_equal');
    assert.equal(valueOf({ image: 'x', guidance: '1.5' }).guidance, 1.5);
    assert.equal(valueOf({ image: 'x', guidance: 100 }).guidance, 100);
    assert.equal(errorsOf({ image: 'x', guidance: 'lots' })[0].type, 'float_parsing');
    assert.equal(errorsOf({ image: 'x', guidance: {} })[0].type, 'float_type');
    assert.equal(errorsOf({ image: 'x', safety_tolerance: 7 })[0].type, 'less_than_equal');
    assert.equal(errorsOf({ image: 'x', safety_tolerance: -1 })[0].type, 'greater_than_equal');
    assert.equal(valueOf({ image: 'x', safety_tolerance: 0 }).safetyTolerance, 0);
  });

  it('does not accept null for safety_tolerance (it is not nullable)', () => {
    assert.deepEqual(errorsOf({ image: 'x', safety_tolerance: null }), [
      { type: 'int_type', loc: ['body', 'safety_tolerance'], msg: 'Input should be a valid integer', input: null },
    ]);
  });

  it('validates the output_format enum', () => {
    assert.equal(valueOf({ image: 'x', output_format: 'webp' }).outputFormat, 'webp');
    assert.deepEqual(errorsOf({ image: 'x', output_format: 'gif' }), [
      {
        type: 'enum',
        loc: ['body', 'output_format'],
        msg: "Input should be 'jpeg', 'png' or 'webp'",
        input: 'gif',
        ctx: { expected: "'jpeg', 'png' or 'webp'" },
      },
    ]);
    assert.equal(errorsOf({ image: 'x', output_format: 'PNG' })[0].type, 'enum');
  });

  it('parses booleans like pydantic', () => {
    for (const yes of [true, 1, 'true', 'YES', 'on', 't', 'y', '1']) {
      assert.equal(valueOf({ image: 'x', prompt_upsampling: yes }).promptUpsampling, true, String(yes));
    }
    for (const no of [false, 0, 'false', 'No', 'off', 'f', 'n', '0']) {
      assert.equal(valueOf({ image: 'x', prompt_upsampling: no }).promptUpsampling, false, String(no));
    }
    assert.deepEqual(errorsOf({ image: 'x', prompt_upsampling: 'maybe' }), [
      {
        type: 'bool_parsing',
        loc: ['body', 'prompt_upsampling'],
        msg: 'Input should be a valid boolean, unable to interpret input',
        input: 'maybe',
      },
    ]);
    assert.equal(errorsOf({ image: 'x', prompt_upsampling: 2 })[0].type, 'bool_parsing');
    assert.equal(errorsOf({ image: 'x', prompt_upsampling: [] })[0].type, 'bool_type');
  });

  it('requires strings for image, mask, prompt and webhook_secret', () => {
    assert.deepEqual(
      errorsOf({ image: 5, mask: false, prompt: 1, webhook_secret: {} }).map((e) => [e.type, e.loc[1]]),
      [
        ['string_type', 'image'],
        ['string_type', 'mask'],
        ['string_type', 'prompt'],
        ['string_type', 'webhook_secret'],
      ],
    );
    assert.equal(errorsOf({ image: null })[0].msg, 'Input should be a valid string');
  });

  it('validates webhook_url as an http(s) URL of at most 2083 characters', () => {
    assert.equal(valueOf({ image: 'x', webhook_url: 'http://127.0.0.1:9/hook' }).webhookUrl, 'http://127.0.0.1:9/hook');
    assert.equal(errorsOf({ image: 'x', webhook_url: '' })[0].type, 'url_parsing');
    assert.equal(
      errorsOf({ image: 'x', webhook_url: 'not a url' })[0].msg,
      'Input should be a valid URL, relative URL without a base',
    );
    assert.equal(errorsOf({ image: 'x', webhook_url: 'ftp://example.com/x' })[0].type, 'url_scheme');
    assert.equal(
      errorsOf({ image: 'x', webhook_url: `https://example.com/${'a'.repeat(2100)}` })[0].type,
      'url_too_long',
    );
  });

  it('reports every error, in the schema field order', () => {
    const errors = errorsOf({ steps: 5, guidance: 500, output_format: 'bmp' });
    assert.deepEqual(
      errors.map((e) => e.loc[1]),
      ['image', 'steps', 'guidance', 'output_format'],
    );
  });

  it('handles bodies that are not JSON objects the way FastAPI does', () => {
    assert.deepEqual(validateFillBody(decodeRequestBody(Buffer.alloc(0), 'application/json')), {
      ok: false,
      detail: [{ type: 'missing', loc: ['body'], msg: 'Field required', input: null }],
    });
    const invalid = validateFillBody(decodeRequestBody(Buffer.from('{"image":'), 'application/json'));
    assert.equal(invalid.ok, false);
    assert.equal((invalid as any).detail[0].type, 'json_invalid');
    assert.equal((invalid as any).detail[0].loc[0], 'body');
    const array = validateFillBody(decodeRequestBody(Buffer.from('[1]'), 'application/json'));
    assert.equal((array as any).detail[0].type, 'model_attributes_type');
    const form = validateFillBody(decodeRequestBody(Buffer.from('image=abc'), 'application/x-www-form-urlencoded'));
    assert.equal((form as any).detail[0].type, 'model_attributes_type');
    assert.equal((form as any).detail[0].input, 'image=abc');
    // No content type at all: FastAPI still parses JSON.
    assert.equal(validateFillBody(decodeRequestBody(Buffer.from('{"image":"x"}'), undefined)).ok, true);
    assert.equal(
      validateFillBody(decodeRequestBody(Buffer.from('{"image":"x"}'), 'application/vnd.api+json')).ok,
      true,
    );
  });
});

describe('emulator: submit errors over HTTP', () => {
  let emu: BflEmulator;

  before(async () => {
    emu = await startEmulator({ keys: { bfl_test_key_1: 100 } });
  });
  afterEach(() => emu.reset());
  after(() => emu.close());

  const KEY1 = 'bfl_test_key_1';

  it('answers 403 "Not authenticated" without a key', async () => {
    const reply = await submit(emu, await basicBody(), { key: null });
    assert.equal(reply.status, 403);
    assert.deepEqual(reply.json, { detail: 'Not authenticated' });
  });

  for (const bad of ['short', 'has space inside', '']) {
    it(`answers 422 "Invalid API key format" for ${JSON.stringify(bad)}, before body validation`, async () => {
      const reply = await submit(emu, { not: 'a valid body' }, { key: bad });
      assert.equal(reply.status, 422);
      assert.deepEqual(reply.json, { detail: 'Invalid API key format' });
    });
  }

  it('answers 403 "Not authenticated - Invalid Authentication" for an unknown key', async () => {
    const reply = await submit(emu, await basicBody(), { key: 'bfl_unknown_key' });
    assert.equal(reply.status, 403);
    assert.deepEqual(reply.json, { detail: 'Not authenticated - Invalid Authentication' });
    assert.equal(emu.tasks.size, 0);
  });

  it('answers 422 with a list detail for a missing image and ignores extra fields', async () => {
    const body = { input_image: 'abc', aspect_ratio: '1:1', steps: 30 };
    const reply = await submit(emu, body, { key: KEY1 });
    assert.equal(reply.status, 422);
    assert.deepEqual(reply.json, {
      detail: [{ type: 'missing', loc: ['body', 'image'], msg: 'Field required', input: body }],
    });
  });

  it('answers 422 for out-of-range steps and a wrong enum', async () => {
    const reply = await submit(emu, await basicBody({ steps: 60, output_format: 'tiff' }), { key: KEY1 });
    assert.equal(reply.status, 422);
    assert.deepEqual(
      reply.json.detail.map((e: any) => ({ type: e.type, loc: e.loc, input: e.input, ctx: e.ctx })),
      [
        { type: 'less_than_equal', loc: ['body', 'steps'], input: 60, ctx: { le: 50 } },
        { type: 'enum', loc: ['body', 'output_format'], input: 'tiff', ctx: { expected: "'jpeg', 'png' or 'webp'" } },
      ],
    );
    assert.equal(emu.tasks.size, 0);
    assert.equal(emu.credits(KEY1), 100);
  });

  it('answers 422 json_invalid for broken JSON', async () => {
    const reply = await submit(emu, null, { key: KEY1, raw: '{"image": ' });
    assert.equal(reply.status, 422);
    assert.equal(reply.json.detail[0].type, 'json_invalid');
  });

  it('refuses data URLs, non-base64 and non-images with a value_error on the field', async () => {
    const png = await gradientPng(16, 16);
    const dataUrl = await submit(emu, { image: `data:image/png;base64,${b64(png)}`, mask: b64(png) }, { key: KEY1 });
    assert.equal(dataUrl.status, 422);
    assert.equal(dataUrl.json.detail[0].type, 'value_error');
    assert.deepEqual(dataUrl.json.detail[0].loc, ['body', 'image']);
    assert.match(dataUrl.json.detail[0].msg, /^Value error, .*data URL/);

    const garbage = await submit(emu, { image: '!!!not base64!!!' }, { key: KEY1 });
    assert.equal(garbage.status, 422);
    assert.match(garbage.json.detail[0].msg, /not valid base64/);

    const text = await submit(emu, { image: b64(Buffer.from('hello world, not an image')) }, { key: KEY1 });
    assert.equal(text.status, 422);
    assert.match(text.json.detail[0].msg, /could not be decoded/);

    const badMask = await submit(emu, { image: b64(png), mask: 'AAAA' }, { key: KEY1 });
    assert.equal(badMask.status, 422);
    assert.deepEqual(badMask.json.detail[0].loc, ['body', 'mask']);
  });

  it('accepts base64 wrapped over several lines', async () => {
    const body = await basicBody();
    const wrapped = (body.image as string).replace(/(.{76})/g, '$1\n');
    const reply = await submit(emu, { ...body, image: wrapped }, { key: KEY1 });
    assert.equal(reply.status, 200);
  });

  it('answers 422 when the mask size differs from the image size', async () => {
    const reply = await submit(
      emu,
      { image: b64(await gradientPng(64, 48)), mask: b64(await maskPng(48, 64, () => 255)) },
      { key: KEY1 },
    );
    assert.equal(reply.status, 422);
    assert.deepEqual(reply.json.detail[0].loc, ['body', 'mask']);
    assert.match(reply.json.detail[0].msg, /Mask size 48x64 does not match image size 64x48/);
  });

  it('answers 422 when there is no mask and the image has no alpha channel', async () => {
    const reply = await submit(emu, { image: b64(await gradientPng(32, 32)) }, { key: KEY1 });
    assert.equal(reply.status, 422);
    assert.match(reply.json.detail[0].msg, /no alpha channel/);
  });

  it('accepts RGB and RGBA masks and JPEG images', async () => {
    const jpeg = await sharp(await gradientPng(32, 24))
      .jpeg()
      .toBuffer();
    const rgbMask = await sharp({ create: { width: 32, height: 24, channels: 3, background: '#ffffff' } })
      .png()
      .toBuffer();
    const rgbaMask = await sharp({
      create: { width: 32, height: 24, channels: 4, background: { r: 255, g: 255, b: 255, alpha: 1 } },
    })
      .png()
      .toBuffer();
    assert.equal((await submit(emu, { image: b64(jpeg), mask: b64(rgbMask) }, { key: KEY1 })).status, 200);
    assert.equal((await submit(emu, { image: b64(jpeg), mask: b64(rgbaMask) }, { key: KEY1 })).status, 200);
  });

  it('answers 404 {"detail":"Not Found"} for unknown paths and 405 for wrong methods', async () => {
    const unknown = await http(`${emu.apiUrl}/v1/flux-pro-1.1`, {
      method: 'POST',
      headers: { 'x-key': KEY1 },
      body: '{}',
    });
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.json, { detail: 'Not Found' });
    const wrongMethod = await http(`${emu.apiUrl}/v1/flux-pro-1.0-fill`, { headers: { 'x-key': KEY1 } });
    assert.equal(wrongMethod.status, 405);
  });
});
