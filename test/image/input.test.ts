import assert from 'node:assert/strict';
import sharp from 'sharp';
import { readImageInput } from '../../lib/image';
import { cornerMask, invalidInputMatching, picture, pngClaiming, imagesSent } from './fixtures';

// The first bytes of a PNG file; readImageInput does not decode, so any bytes will do.
const BYTES = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4, 5, 6, 7, 8]);
const BASE64 = BYTES.toString('base64');

describe('image/readImageInput', () => {
  describe('accepted forms', () => {
    it('returns a Buffer as it is, without copying', () => {
      assert.equal(readImageInput(BYTES, 'msg.payload'), BYTES);
    });

    it('decodes a base64 string', () => {
      assert.deepEqual(readImageInput(BASE64, 'msg.payload'), BYTES);
    });

    it('decodes base64 with surrounding whitespace and MIME line breaks', () => {
      const wrapped = `\n${BASE64.slice(0, 8)}\r\n${BASE64.slice(8)}\n`;
      assert.deepEqual(readImageInput(wrapped, 'msg.payload'), BYTES);
    });

    it('decodes base64url', () => {
      const bytes = Buffer.from([0xfb, 0xff, 0xbf, 0xfe]);
      assert.deepEqual(readImageInput(bytes.toString('base64url'), 'msg.payload'), bytes);
    });

    it('decodes a base64 data URL', () => {
      assert.deepEqual(readImageInput(`data:image/png;base64,${BASE64}`, 'msg.payload'), BYTES);
    });

    it('decodes a data URL whatever the case of "data:" and "base64", and with extra parameters', () => {
      assert.deepEqual(readImageInput(`DATA:image/jpeg;name=photo.jpg;BASE64,${BASE64}`, 'msg.payload'), BYTES);
    });

    it('wraps a Uint8Array without copying it', () => {
      const view = new Uint8Array(BYTES.buffer, BYTES.byteOffset, BYTES.byteLength);
      const result = readImageInput(view, 'msg.payload');
      assert.ok(Buffer.isBuffer(result));
      assert.deepEqual(result, BYTES);
      assert.equal(result.buffer, BYTES.buffer);
    });
  });

  describe('wrong types', () => {
    const cases: Array<[string, unknown, RegExp]> = [
      ['a number', 42, /is a number \(42\)/],
      ['a boolean', true, /is a boolean \(true\)/],
      ['undefined', undefined, /is missing \(undefined\)/],
      ['null', null, /is null/],
      ['an array', [1, 2, 3], /is an array of 3 items/],
      ['an object', { image: 'x', name: 'y' }, /is an object with keys image, name/],
      ['an empty object', {}, /is an empty object/],
      ['a typed array of the wrong kind', new Float32Array(4), /is a Float32Array/],
    ];
    for (const [name, value, received] of cases) {
      it(`refuses ${name}, naming the property and what it received`, () => {
        assert.throws(
          () => readImageInput(value, 'msg.payload'),
          invalidInputMatching(
            /^msg\.payload must be an image but/,
            received,
            /as a Buffer, a base64 string or a data URL/,
          ),
        );
      });
    }

    it('names the property it was given', () => {
      assert.throws(
        () => readImageInput(7, 'msg.mask'),
        invalidInputMatching(/^msg\.mask must be an image but is a number/),
      );
    });

    it('explains a Buffer that went through JSON', () => {
      assert.throws(
        () => readImageInput(BYTES.toJSON(), 'msg.mask'),
        invalidInputMatching(/JSON-serialised Buffer/, /msg\.mask = Buffer\.from\(msg\.mask\.data\)/),
      );
    });
  });

  describe('empty input', () => {
    it('refuses an empty Buffer', () => {
      assert.throws(
        () => readImageInput(Buffer.alloc(0), 'msg.payload'),
        invalidInputMatching(/msg\.payload is an empty Buffer/),
      );
    });

    it('refuses an empty or blank string', () => {
      assert.throws(() => readImageInput('', 'msg.payload'), invalidInputMatching(/msg\.payload is an empty string/));
      assert.throws(
        () => readImageInput('  \n', 'msg.payload'),
        invalidInputMatching(/msg\.payload is an empty string/),
      );
    });

    it('refuses a data URL with no data', () => {
      assert.throws(
        () => readImageInput('data:image/png;base64,', 'msg.payload'),
        invalidInputMatching(/msg\.payload is a data URL with no data/),
      );
    });
  });

  describe('strings that are not base64', () => {
    it('refuses text, showing the character at fault and an excerpt', () => {
      assert.throws(
        () => readImageInput('hello world', 'msg.payload'),
        invalidInputMatching(
          /msg\.payload is a string but not base64 or a data URL/,
          /" " at character 6/,
          /"hello world"/,
        ),
      );
    });

    it('recognises a file path', () => {
      assert.throws(
        () => readImageInput('/home/pi/photos/cat.jpg', 'msg.payload'),
        invalidInputMatching(/looks like a file path/, /read file node/),
      );
    });

    it('recognises a URL', () => {
      assert.throws(
        () => readImageInput('https://example.com/cat.png', 'msg.mask'),
        invalidInputMatching(/^msg\.mask is a string but not base64/, /looks like a URL/, /http request node/),
      );
    });

    it('shortens a long excerpt', () => {
      const long = `not base64: ${'x'.repeat(5000)}`;
      assert.throws(
        () => readImageInput(long, 'msg.payload'),
        (err: unknown) => {
          invalidInputMatching(/…"/)(err);
          assert.ok((err as Error).message.length < 400);
          return true;
        },
      );
    });

    it('finds a bad character far past the start of a long string', () => {
      const body = Buffer.alloc(3000, 7).toString('base64');
      const broken = `${body.slice(0, 3000)}.${body.slice(3000)}`;
      assert.throws(() => readImageInput(broken, 'msg.payload'), invalidInputMatching(/"\." at character 3001/));
    });

    it('refuses a data URL that is not base64-encoded', () => {
      assert.throws(
        () => readImageInput('data:image/svg+xml,%3Csvg%3E%3C/svg%3E', 'msg.payload'),
        invalidInputMatching(/msg\.payload is a data URL that is not base64-encoded/, /data:image\/png;base64/),
      );
    });

    it('refuses "data:" without a comma', () => {
      assert.throws(
        () => readImageInput('data:image/png;base64', 'msg.payload'),
        invalidInputMatching(/not a data URL/),
      );
    });

    it('refuses a data URL whose data is not base64', () => {
      assert.throws(
        () => readImageInput('data:image/png;base64,abc$def', 'msg.payload'),
        invalidInputMatching(/msg\.payload is a data URL whose data is not valid base64/, /"\$"/),
      );
    });
  });

  describe('byte limit', () => {
    it('accepts an input of exactly the limit', () => {
      assert.equal(readImageInput(BYTES, 'msg.payload', { maxInputBytes: BYTES.length }), BYTES);
    });

    it('refuses a larger Buffer, saying both sizes', () => {
      const big = Buffer.alloc(3 * 1024 * 1024 + 512 * 1024);
      assert.throws(
        () => readImageInput(big, 'msg.payload', { maxInputBytes: 2 * 1024 * 1024 }),
        invalidInputMatching(
          /msg\.payload is 3\.5 MiB, more than the 2 MiB allowed for one image/,
          /Downscale or recompress/,
        ),
      );
    });

    it('refuses a base64 string by its decoded size', () => {
      const encoded = Buffer.alloc(3000).toString('base64'); // 4000 characters
      assert.doesNotThrow(() => readImageInput(encoded, 'msg.payload', { maxInputBytes: 3000 }));
      assert.throws(
        () => readImageInput(encoded, 'msg.payload', { maxInputBytes: 2999 }),
        invalidInputMatching(/msg\.payload is (about )?2\.9 KiB, more than the 2\.9 KiB allowed/),
      );
    });

    it('refuses a huge base64 string before decoding it', () => {
      const encoded = 'A'.repeat(8 * 1024 * 1024);
      assert.throws(
        () => readImageInput(`data:image/png;base64,${encoded}`, 'msg.mask', { maxInputBytes: 1024 * 1024 }),
        invalidInputMatching(/msg\.mask is about 6 MiB, more than the 1 MiB allowed/),
      );
    });

    it('applies the 50 MiB default', () => {
      const big = Buffer.alloc(50 * 1024 * 1024 + 1);
      assert.throws(() => readImageInput(big, 'msg.payload'), invalidInputMatching(/more than the 50 MiB allowed/));
    });

    it('rejects a nonsensical limit as a programming error, not as bad input', () => {
      assert.throws(() => readImageInput(BYTES, 'msg.payload', { maxInputBytes: 0 }), TypeError);
      assert.throws(() => readImageInput(BYTES, 'msg.payload', { maxInputPixels: 1.5 }), TypeError);
    });
  });
});

describe('image/input: what planInputs refuses before or while decoding', () => {
  it('refuses bytes that are not an image, with sharp’s reason', async () => {
    await assert.rejects(
      imagesSent(Buffer.from('{"hello":"world"}'), await cornerMask()),
      invalidInputMatching(/^msg\.payload is not an image sharp can decode: .*unsupported image format/),
    );
  });

  it('keeps the decoder error as the cause', async () => {
    await assert.rejects(imagesSent(Buffer.from('nope'), undefined), (err: Error) => {
      assert.ok(err.cause instanceof Error);
      return true;
    });
  });

  it('refuses wrong types naming the property and the type', async () => {
    await assert.rejects(
      imagesSent(12, undefined),
      invalidInputMatching(/^msg\.payload must be an image but is a number \(12\)/),
    );
    await assert.rejects(
      imagesSent(await picture().png().toBuffer(), true),
      invalidInputMatching(/^msg\.mask must be an image but is a boolean \(true\)/),
    );
    // An object in msg.mask is read as shapes, so the refusal says what a shape is.
    await assert.rejects(
      imagesSent(await picture().png().toBuffer(), { path: '/tmp/mask.png' }),
      invalidInputMatching(/^Shape msg\.mask is an object with keys path, which is not a shape\. A shape is/),
    );
    await assert.rejects(
      imagesSent(undefined, undefined),
      invalidInputMatching(/^msg\.payload must be an image but is missing/),
    );
  });

  it('refuses an SVG rather than guess a size to render it at', async () => {
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><rect width="40" height="30"/></svg>',
    );
    await assert.rejects(
      imagesSent(svg, await cornerMask()),
      invalidInputMatching(/^msg\.payload is an SVG \(vector\) image/, /Render it to a PNG/),
    );
    await assert.rejects(
      imagesSent(await picture().png().toBuffer(), `data:image/svg+xml;base64,${svg.toString('base64')}`),
      invalidInputMatching(/^msg\.mask is an SVG \(vector\) image/),
    );
  });

  it('refuses an image over the pixel limit, saying its size', async () => {
    await assert.rejects(
      imagesSent(await picture().png().toBuffer(), await cornerMask(), { maxInputPixels: 1000 }),
      invalidInputMatching(
        /^msg\.payload is 40×30 pixels \(1200 pixels\), more than the 1000 pixels allowed/,
        /Downscale it/,
      ),
    );
  });

  it('refuses a decompression bomb from its header, without decoding it', async () => {
    const bomb = await pngClaiming(20_000, 20_000);
    assert.equal((await sharp(bomb, { limitInputPixels: false }).metadata()).width, 20_000);
    await assert.rejects(
      imagesSent(bomb, undefined),
      invalidInputMatching(/^msg\.payload is 20000×20000 pixels \(400 MP\), more than the 40 MP allowed/),
    );
  });

  it('applies the pixel limit to the mask too', async () => {
    await assert.rejects(
      imagesSent(await picture().png().toBuffer(), await cornerMask(50, 50), { maxInputPixels: 2000 }),
      invalidInputMatching(/^msg\.mask is 50×50 pixels/),
    );
  });

  it('applies the byte limit to both inputs', async () => {
    const png = await picture().png().toBuffer();
    const mask = await cornerMask();
    const limit = Math.max(mask.length, 100);
    assert.ok(png.length > limit);
    await assert.rejects(
      imagesSent(png, mask, { maxInputBytes: limit }),
      invalidInputMatching(/^msg\.payload is .* more than the .* allowed for one image/),
    );
    await assert.rejects(
      imagesSent(png, Buffer.concat([mask, Buffer.alloc(png.length)]), { maxInputBytes: png.length }),
      invalidInputMatching(/^msg\.mask is .* more than the .* allowed for one image/),
    );
  });

  it('checks the mask’s type before decoding anything', async () => {
    await assert.rejects(
      imagesSent(Buffer.from('not an image'), 5),
      invalidInputMatching(/^msg\.mask must be an image/),
    );
  });
});
