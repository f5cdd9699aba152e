/**
 * Fuzzing msg.payload (and msg.mask as an image): random values and bytes, every format sharp reads cut short
 * or with bytes changed, in every form a flow may send them, and headers that claim absurd sizes. Each input
 * is planned or refused with BFL_INVALID_INPUT (see ./support for the rule and for FUZZ_RUNS and FUZZ_SEED).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import sharp from 'sharp';
import { isBflError, type BflError } from '../../lib/errors';
import { resolveImageOptions } from '../../lib/fields';
import { planInputs, type ImageOptions, type PlannedInputs } from '../../lib/image';
import { stripMetadata } from '../../lib/image/metadata';
import { FORBIDDEN } from '../image/private';
import {
  ENCODINGS,
  HEIGHT,
  WIDTH,
  bombs,
  encoding,
  pngLiar,
  outcome,
  rssMb,
  samples,
  settings,
  text,
  watchUnhandledRejections,
  TIMEOUT,
  type Sample,
} from './support';

const OPTIONS = resolveImageOptions({});
const SHAPES = [{ x: 10, y: 8, width: 12, height: 9 }];

/** What a planned input must be: an image and a mask the API takes, of one size, with no metadata. */
async function checkPlanned(planned: PlannedInputs | BflError): Promise<void> {
  if (isBflError(planned)) return;
  const { images } = planned;
  assert.ok(['jpeg', 'png', 'webp'].includes(images.imageFormat));
  const [image, mask] = await Promise.all([sharp(images.image).metadata(), sharp(images.mask).metadata()]);
  assert.equal(image.format, images.imageFormat);
  assert.deepEqual([image.width, image.height], [images.width, images.height]);
  assert.deepEqual([mask.format, mask.width, mask.height, mask.channels], ['png', images.width, images.height, 1]);
  assert.equal(image.hasAlpha, false);
  assert.equal(image.exif, undefined);
  assert.equal(image.xmp, undefined);
  assert.equal(image.comments, undefined);
  for (const [name, bytes] of FORBIDDEN) assert.ok(!images.image.includes(bytes), `the image sent holds ${name}`);
}

/** A sample's bytes with some of them changed, and maybe cut short. */
function mutated(all: readonly Sample[]): fc.Arbitrary<Sample> {
  return fc
    .record({
      sample: fc.constantFrom(...all),
      edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
      // Edits mostly in the header, where the structure is.
      headerOnly: fc.boolean(),
      cut: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
    })
    .map(({ sample, edits, headerOnly, cut }) => {
      const bytes = Buffer.from(sample.bytes);
      const span = headerOnly ? Math.min(bytes.length, 64) : bytes.length;
      for (const [at, value] of edits) bytes[at % span] = value;
      return {
        name: sample.name,
        bytes: cut === undefined ? bytes : bytes.subarray(0, Math.floor(bytes.length * cut)),
      };
    });
}

function truncated(all: readonly Sample[]): fc.Arbitrary<Buffer> {
  return fc
    .record({ sample: fc.constantFrom(...all), cut: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }) })
    .map(({ sample, cut }) => sample.bytes.subarray(0, Math.floor(sample.bytes.length * cut)));
}

/** Random bytes, some after a real format signature. */
const randomBytes = fc
  .record({
    signature: fc.constantFrom(
      '',
      '\xff\xd8\xff\xe0',
      '\x89PNG\r\n\x1a\n',
      'RIFF\0\0\0\0WEBPVP8 ',
      'GIF89a',
      'II*\0',
      'MM\0*',
      '\0\0\0\x1cftypavif',
      '<svg',
    ),
    body: fc.uint8Array({ minLength: 0, maxLength: 300 }),
  })
  .map(({ signature, body }) => Buffer.concat([Buffer.from(signature, 'latin1'), body]));

describe('fuzz: msg.payload and mask images', function () {
  this.timeout(TIMEOUT);
  watchUnhandledRejections();
  let all: Sample[];

  before(async () => {
    all = await samples();
  });

  it('every sample is planned or refused as it should be, in every encoding', async () => {
    for (const sample of all) {
      for (const encode of Object.values(ENCODINGS)) {
        const planned = await outcome(() => planInputs(encode(sample.bytes), SHAPES, OPTIONS));
        await checkPlanned(planned);
        const refused = isBflError(planned);
        const jsonOrVector = encode === ENCODINGS.jsonBuffer || sample.name === 'svg';
        assert.equal(refused, jsonOrVector, `${sample.name}: ${refused ? planned.message : 'planned'}`);
      }
    }
  });

  it('any value at all as msg.payload and msg.mask', async () => {
    const value = fc.anything({
      key: text,
      values: [fc.boolean(), fc.integer(), fc.double(), text, fc.constant(null), fc.constant(undefined)],
      maxDepth: 2,
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withTypedArray: true,
      withSparseArray: true,
    });
    await fc.assert(
      fc.asyncProperty(value, value, async (image, mask) => {
        await checkPlanned(await outcome(() => planInputs(image, mask, OPTIONS)));
      }),
      settings(1000),
    );
  });

  it('random bytes, with and without a format signature', async () => {
    await fc.assert(
      fc.asyncProperty(randomBytes, encoding, async (bytes, how) => {
        await checkPlanned(await outcome(() => planInputs(ENCODINGS[how](bytes), SHAPES, OPTIONS)));
      }),
      settings(300),
    );
  });

  it('every format cut short anywhere, as msg.payload and as msg.mask', async () => {
    const png = all.find((sample) => sample.name === 'png')!.bytes;
    await fc.assert(
      fc.asyncProperty(truncated(all), encoding, fc.boolean(), async (bytes, how, asMask) => {
        const run = asMask
          ? () => planInputs(png, ENCODINGS[how](bytes), OPTIONS)
          : () => planInputs(ENCODINGS[how](bytes), SHAPES, OPTIONS);
        await checkPlanned(await outcome(run));
      }),
      settings(400),
    );
  });

  it('every format with bytes changed, as msg.payload and as msg.mask', async () => {
    const png = all.find((sample) => sample.name === 'png')!.bytes;
    await fc.assert(
      fc.asyncProperty(mutated(all), fc.boolean(), async ({ bytes }, asMask) => {
        const run = asMask ? () => planInputs(png, bytes, OPTIONS) : () => planInputs(bytes, SHAPES, OPTIONS);
        await checkPlanned(await outcome(run));
      }),
      settings(300),
    );
  });

  it('stripping metadata never throws, never grows a file, and changes no decoded pixel', async () => {
    const strippable = all.filter((sample) => /^(jpeg|png|webp)/.test(sample.name));
    await fc.assert(
      fc.asyncProperty(mutated(strippable), async ({ name, bytes }) => {
        const stripped = stripMetadata(bytes, name.split(' ')[0]!);
        if (stripped === undefined) return;
        assert.ok(stripped.length <= bytes.length);
        const decode = async (image: Buffer) => {
          if (image.length === 0) return undefined;
          return sharp(image, { failOn: 'error' })
            .raw()
            .toBuffer()
            .catch(() => undefined);
        };
        const [before, after] = await Promise.all([decode(bytes), decode(stripped)]);
        if (before && after) assert.ok(before.equals(after), 'the same pixels');
      }),
      settings(300),
    );
  });

  it('refuses decompression bombs from their header, in bounded memory', async () => {
    const png = all.find((sample) => sample.name === 'png')!.bytes;
    const startMb = rssMb();
    let peakMb = startMb;
    for (const bomb of await bombs(all)) {
      for (const how of ['buffer', 'base64', 'dataUrl'] as const) {
        const started = Date.now();
        const asImage = await outcome(() => planInputs(ENCODINGS[how](bomb.bytes), SHAPES, OPTIONS));
        const asMask = await outcome(() => planInputs(png, ENCODINGS[how](bomb.bytes), OPTIONS));
        assert.ok(Date.now() - started < 1000, `${bomb.name} refused in ${Date.now() - started} ms`);
        for (const [what, result] of [
          ['payload', asImage],
          ['mask', asMask],
        ] as const) {
          assert.ok(isBflError(result), `${bomb.name} as msg.${what} is refused`);
          assert.match(result.message, new RegExp(`^msg\\.${what} `));
          assert.match(result.message, bomb.refusedBy, bomb.name);
        }
        peakMb = Math.max(peakMb, rssMb());
      }
    }
    assert.ok(peakMb - startMb < 200, `resident memory grew by ${Math.round(peakMb - startMb)} MB`);
  });

  it('refuses a header within the limit over too little data once it decodes, in bounded memory', async () => {
    const liar = await pngLiar();
    const startMb = rssMb();
    // Without a cap, 36 MP is over the API's 20 MP: refused before decoding. With one, the decoder finds out.
    const refusal = async (options: ImageOptions, reason: RegExp): Promise<void> => {
      const result = await outcome(() => planInputs(liar, SHAPES, options));
      assert.ok(isBflError(result), 'refused');
      assert.match(result.message, reason);
    };
    await refusal(OPTIONS, /more than the 20 MP the BFL API accepts/);
    await refusal(resolveImageOptions({ maxMegapixels: 4 }), /not an image sharp can decode/);
    await refusal(resolveImageOptions({ cropToMask: true }), /not an image sharp can decode/);
    assert.ok(rssMb() - startMb < 200, `resident memory grew by ${Math.round(rssMb() - startMb)} MB`);
  });

  it(`refuses images over the pixel limit set, before decoding (${WIDTH}×${HEIGHT} and up)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: WIDTH * HEIGHT * 2 }), async (maxInputPixels) => {
        const result = await outcome(() =>
          planInputs(all.find((sample) => sample.name === 'jpeg')!.bytes, SHAPES, OPTIONS, { maxInputPixels }),
        );
        assert.equal(isBflError(result), maxInputPixels < WIDTH * HEIGHT);
      }),
      settings(30),
    );
  });
});
