import assert from 'node:assert/strict';
import sharp from 'sharp';
import { composeResult, type ImageOptions } from '../../lib/image';
import { stripMetadata } from '../../lib/image/metadata';
import { RED, flat, fromGrey, maskPixels, photo, plan } from './fixtures';
import {
  EXIF,
  H,
  JPEG_TRAILER,
  W,
  XMP,
  assertHasSecrets,
  assertNoMetadata,
  assertSamePixels,
  hasGpsDirectory,
  jfifWithThumbnail,
  jpegMarkers,
  jpegSegment,
  pngChunk,
  pngChunks,
  privatePhoto,
  privatePngChunks,
  privateSegments,
  spliceJpeg,
  splicePng,
  spliceWebp,
  webpChunk,
  webpChunks,
} from './private';

const BOX = [{ x: 8, y: 6, width: 12, height: 10 }];
/** Big enough for cropToMask to send a scaled crop of it rather than the whole image. */
const BIG = { width: 1200, height: 900 };

/** A JPEG with everything: EXIF (GPS), XMP, ICC, IPTC, comments, every other APPn, a thumbnail, a trailer. */
async function privateJpeg(progressive = false, width = W, height = H): Promise<Buffer> {
  const jpeg = await privatePhoto(width, height).jpeg({ quality: 90, progressive }).toBuffer();
  return spliceJpeg(jpeg, [jfifWithThumbnail(), ...privateSegments()], JPEG_TRAILER);
}

async function privatePng(width = W, height = H): Promise<Buffer> {
  const png = await privatePhoto(width, height).png().toBuffer();
  return splicePng(png, privatePngChunks(), Buffer.from('SECRET_AFTER_IEND'));
}

async function privateWebp(lossless: boolean, width = W, height = H): Promise<Buffer> {
  const webp = await privatePhoto(width, height)
    .webp(lossless ? { lossless: true } : { quality: 80 })
    .toBuffer();
  return spliceWebp(webp, [webpChunk('ZZZZ', 'SECRET_UNKNOWN_CHUNK')], Buffer.from('SECRET_AFTER_RIFF'));
}

function strip(image: Buffer, format: string): Buffer {
  const stripped = stripMetadata(image, format);
  assert.ok(stripped, 'the structure is understood');
  return stripped;
}

describe('image/metadata: no private metadata leaves the machine', () => {
  describe('the fixtures carry what a phone or an editor writes', () => {
    it('JPEG: EXIF with GPS, XMP, IPTC, ICC, comments', async () => {
      const jpeg = await privateJpeg();
      const metadata = await sharp(jpeg).metadata();
      assert.ok(metadata.exif && metadata.xmp && metadata.iptc && metadata.icc);
      assert.ok(hasGpsDirectory(jpeg));
      assertHasSecrets(jpeg);
      assert.ok(jpeg.includes('Photoshop 3.0') && jpeg.includes('http://ns.adobe.com/xap'));
    });

    it('PNG: eXIf, text chunks, ICC', async () => {
      const metadata = await sharp(await privatePng()).metadata();
      assert.ok(metadata.exif && metadata.xmp && metadata.icc);
      assert.ok(metadata.comments?.some((comment) => comment.text.includes('SECRET_COMMENT')));
    });

    it('WebP: EXIF, XMP, ICC in a VP8X container', async () => {
      for (const lossless of [false, true]) {
        const webp = await privateWebp(lossless);
        const metadata = await sharp(webp).metadata();
        assert.ok(metadata.exif && metadata.xmp && metadata.icc);
        assert.equal(webp[20]! & 0x0c, 0x0c, 'VP8X says EXIF and XMP');
      }
    });
  });

  describe('JPEG', () => {
    for (const progressive of [false, true]) {
      it(`${progressive ? 'progressive' : 'baseline'}: drops every APPn but JFIF, ICC and Adobe, COM and the trailer; pixels identical`, async () => {
        const jpeg = await privateJpeg(progressive);
        const stripped = strip(jpeg, 'jpeg');
        await assertNoMetadata(stripped);
        await assertSamePixels(jpeg, stripped);
        assert.ok((await sharp(stripped).metadata()).icc, 'the colour profile is kept');
        const markers = jpegMarkers(stripped);
        assert.deepEqual(
          markers.filter((marker) => marker.startsWith('APP') || marker === 'COM'),
          ['APP0 JFIF', 'APP2 ICC_PROFILE'],
        );
        assert.equal(markers.at(-1), 'EOI');
        assert.ok(stripped.subarray(-2).equals(Buffer.from([0xff, 0xd9])), 'nothing after EOI');
        if (progressive) assert.ok(markers.filter((marker) => marker === 'SOS').length > 1);
      });
    }

    it('copies the scans byte for byte: only whole segments are left out', async () => {
      const plain = await photo(W, H).jpeg({ quality: 90 }).toBuffer();
      const stripped = strip(spliceJpeg(plain, privateSegments(), JPEG_TRAILER), 'jpeg');
      assert.ok(stripped.equals(plain));
    });

    it('keeps JFIF without its thumbnail', async () => {
      const plain = await photo(W, H).jpeg().toBuffer();
      const stripped = strip(spliceJpeg(plain, [jfifWithThumbnail()]), 'jpeg');
      const app0 = stripped.subarray(2, 20);
      assert.equal(app0.readUInt16BE(0), 0xffe0);
      assert.equal(app0.readUInt16BE(2), 16, 'JFIF without a thumbnail');
      assert.equal(app0.toString('latin1', 4, 9), 'JFIF\0');
      assert.deepEqual([...app0.subarray(16, 18)], [0, 0], 'thumbnail 0×0');
      assert.ok(stripped.subarray(20).equals(plain.subarray(2)));
    });

    it('keeps APP14 Adobe, which decides how CMYK and RGB JPEGs decode', async () => {
      const cmyk = await photo(W, H).toColourspace('cmyk').withExif(EXIF).jpeg().toBuffer();
      assert.ok(jpegMarkers(cmyk).includes('APP14 Adobe'));
      const stripped = strip(spliceJpeg(cmyk, [jpegSegment(0xfe, 'SECRET_COMMENT')]), 'jpeg');
      assert.ok(jpegMarkers(stripped).includes('APP14 Adobe'));
      assert.equal((await sharp(stripped).metadata()).space, 'cmyk');
      await assertSamePixels(cmyk, stripped);
      await assertNoMetadata(stripped);
    });

    it('gives the same Buffer back when there is nothing to remove', async () => {
      const plain = await photo(W, H).jpeg().toBuffer();
      assert.equal(stripMetadata(plain, 'jpeg'), plain);
    });

    it('cuts only a trailer off, without copying', async () => {
      const plain = await photo(W, H).jpeg().toBuffer();
      const stripped = strip(Buffer.concat([plain, JPEG_TRAILER]), 'jpeg');
      assert.ok(stripped.equals(plain));
    });
  });

  describe('PNG', () => {
    it('drops text, EXIF, time, background and unknown ancillary chunks; keeps the rest byte for byte', async () => {
      const png = await privatePng();
      const stripped = strip(png, 'png');
      await assertNoMetadata(stripped);
      await assertSamePixels(png, stripped);
      assert.ok((await sharp(stripped).metadata()).icc, 'the colour profile is kept');
      const kept = pngChunks(stripped);
      assert.deepEqual(
        kept.map(([type]) => type),
        ['IHDR', 'gAMA', 'iCCP', 'pHYs', 'IDAT', 'IEND'],
      );
      const original = new Map(pngChunks(png).map(([type, bytes]) => [type, bytes]));
      for (const [type, bytes] of kept) assert.ok(bytes.equals(original.get(type)!), `${type} copied with its CRC`);
      assert.equal(
        stripped.length,
        kept.reduce((sum, [, bytes]) => sum + bytes.length, 8),
        'nothing after IEND',
      );
    });

    it('keeps palette, transparency and 16-bit data as they decode', async () => {
      const palette = await photo(W, H).png({ palette: true, colours: 16 }).toBuffer();
      const transparent = await sharp(palette).ensureAlpha(0.5).png({ palette: true }).toBuffer();
      const deep = await photo(W, H).toColourspace('rgb16').png().toBuffer();
      for (const png of [palette, transparent, deep]) {
        const spliced = splicePng(png, privatePngChunks());
        const stripped = strip(spliced, 'png');
        await assertSamePixels(spliced, stripped);
        await assertNoMetadata(stripped);
      }
      assert.ok(pngChunks(strip(transparent, 'png')).some(([type]) => type === 'tRNS'));
    });

    it('gives the same Buffer back when there is nothing to remove', async () => {
      const png = await photo(W, H).png().toBuffer();
      assert.equal(stripMetadata(png, 'png'), png);
    });
  });

  describe('WebP', () => {
    for (const lossless of [false, true]) {
      it(`${lossless ? 'lossless' : 'lossy'}: drops EXIF, XMP and unknown chunks, clears their flags; pixels identical`, async () => {
        const webp = await privateWebp(lossless);
        const stripped = strip(webp, 'webp');
        await assertNoMetadata(stripped);
        await assertSamePixels(webp, stripped);
        assert.deepEqual(webpChunks(stripped), ['VP8X', 'ICCP', lossless ? 'VP8L' : 'VP8 ']);
        assert.equal(stripped[20]! & 0x0c, 0, 'no EXIF or XMP flag');
        assert.equal(stripped[20]! & 0x20, 0x20, 'the ICC flag stays');
        assert.equal(stripped.readUInt32LE(4), stripped.length - 8, 'RIFF size, nothing after it');
        assert.ok((await sharp(stripped).metadata()).icc, 'the colour profile is kept');
      });
    }

    it('takes an odd-sized last chunk without its padding byte', async () => {
      const simple = await photo(W, H).webp().toBuffer();
      const padded = spliceWebp(simple, [webpChunk('EXIF', 'Exif\0\0SECRET_')]); // 13 bytes
      const unpadded = Buffer.from(padded.subarray(0, -1));
      unpadded.writeUInt32LE(unpadded.length - 8, 4);
      assert.ok(strip(unpadded, 'webp').equals(simple));
    });

    it('drops chunks appended to a simple-format file', async () => {
      const simple = await photo(W, H).webp().toBuffer();
      assert.deepEqual(webpChunks(simple), ['VP8 ']);
      const stripped = strip(spliceWebp(simple, [webpChunk('EXIF', 'Exif\0\0SECRET_EXIF')]), 'webp');
      assert.ok(stripped.equals(simple));
    });

    it('gives the same Buffer back when there is nothing to remove', async () => {
      const webp = await photo(W, H).webp().toBuffer();
      assert.equal(stripMetadata(webp, 'webp'), webp);
    });
  });

  describe('structures it does not understand', () => {
    it('answers undefined, never throws, for truncated, inconsistent and other files', async () => {
      const jpeg = await privateJpeg();
      const png = await privatePng();
      const webp = await privateWebp(false);
      const longRiff = Buffer.from(webp);
      longRiff.writeUInt32LE(webp.length * 2, 4);
      const badLength = Buffer.from(jpeg);
      badLength.writeUInt16BE(0xffff, 4);
      const junkBetweenSegments = spliceJpeg(await photo(W, H).jpeg().toBuffer(), [Buffer.from('junk')]);
      const cases: Array<[string, Buffer, string]> = [
        ['JPEG without EOI', jpeg.subarray(0, jpeg.indexOf(JPEG_TRAILER) - 2), 'jpeg'],
        ['JPEG cut in a segment', jpeg.subarray(0, 40), 'jpeg'],
        ['JPEG segment running past the end', badLength, 'jpeg'],
        ['JPEG junk between segments', junkBetweenSegments, 'jpeg'],
        ['JPEG of two bytes', Buffer.from([0xff, 0xd8]), 'jpeg'],
        ['PNG without IEND', png.subarray(0, png.length - 40), 'png'],
        ['PNG without IHDR first', splicePng(png, []).subarray(0, 8), 'png'],
        ['PNG signature only', png.subarray(0, 8), 'png'],
        ['WebP RIFF size past the end', longRiff, 'webp'],
        ['WebP cut in a chunk', webp.subarray(0, 30), 'webp'],
        ['GIF', await photo(W, H).gif().toBuffer(), 'gif'],
        ['a PNG said to be a JPEG', png, 'jpeg'],
      ];
      for (const [name, bytes, format] of cases) assert.equal(stripMetadata(bytes, format), undefined, name);
      const noIhdr = Buffer.concat([png.subarray(0, 8), pngChunk('tEXt', 'a\0b'), png.subarray(8)]);
      assert.equal(stripMetadata(noIhdr, 'png'), undefined, 'PNG with a chunk before IHDR');
    });
  });

  describe('what is sent (planInputs)', () => {
    const cases: Array<[string, () => Promise<Buffer>, string]> = [
      ['a baseline JPEG', () => privateJpeg(false), 'jpeg'],
      ['a progressive JPEG', () => privateJpeg(true), 'jpeg'],
      ['a PNG', privatePng, 'png'],
      ['a lossy WebP', () => privateWebp(false), 'webp'],
      ['a lossless WebP', () => privateWebp(true), 'webp'],
    ];
    for (const [name, make, format] of cases) {
      it(`sends ${name} as it is, without its metadata, pixels identical`, async () => {
        const image = await make();
        const { images } = await plan(image, BOX);
        assert.equal(images.imageFormat, format);
        await assertNoMetadata(images.image, 'the image sent');
        await assertNoMetadata(images.mask, 'the mask sent');
        await assertSamePixels(image, images.image);
      });
    }

    it('sends base64 and data URLs without their metadata', async () => {
      const jpeg = await privateJpeg();
      const clean = strip(jpeg, 'jpeg');
      for (const value of [jpeg.toString('base64'), `data:image/jpeg;base64,${jpeg.toString('base64')}`]) {
        assert.ok((await plan(value, BOX)).images.image.equals(clean));
      }
    });

    it('re-encodes what cannot go as it is without any metadata: rotated, cropped, GIF, TIFF, odd structure', async () => {
      const rotated = spliceJpeg(
        await privatePhoto(H, W).withMetadata({ orientation: 6 }).jpeg().toBuffer(),
        privateSegments(),
      );
      assert.equal((await sharp(rotated).metadata()).orientation, 6);
      const tiff = await privatePhoto().tiff().toBuffer();
      const gif = await privatePhoto().gif().toBuffer();
      const junk = spliceJpeg(await privateJpeg(), [Buffer.from('junk')]);
      for (const [name, image] of [
        ['rotated JPEG', rotated],
        ['TIFF', tiff],
        ['GIF', gif],
        ['JPEG with junk between segments', junk],
      ] as const) {
        const { images } = await plan(image, BOX);
        await assertNoMetadata(images.image, `the ${name} sent`);
        assert.ok(!images.image.equals(image), `${name} re-encoded`);
      }
      const cropped = await plan(await privateJpeg(false, BIG.width, BIG.height), BOX, { cropToMask: true });
      assert.equal(cropped.geometry.resampled, true);
      await assertNoMetadata(cropped.images.image, 'the crop sent');
    });

    it('sends a mask image without its metadata', async () => {
      const mask = await fromGrey(maskPixels(W, H, [{ left: 4, top: 4, width: 9, height: 9 }]), W, H)
        .withExif(EXIF)
        .withXmp(XMP)
        .png()
        .toBuffer();
      assertHasSecrets(mask);
      const { images } = await plan(await photo(W, H).png().toBuffer(), mask);
      await assertNoMetadata(images.mask, 'the mask sent');
    });
  });

  describe('the result for the flow (composeResult)', () => {
    async function assertCleanResults(image: Buffer, overrides: Partial<ImageOptions>): Promise<void> {
      const { geometry } = await plan(image, BOX, overrides);
      assert.equal(geometry.resampled, overrides.cropToMask === true);
      const generated = await flat(geometry.sentWidth, geometry.sentHeight, RED);
      for (const outputFormat of ['jpeg', 'png', 'webp'] as const) {
        const result = await composeResult(generated, geometry, { outputFormat });
        await assertNoMetadata(result, `the ${outputFormat} result with ${JSON.stringify(overrides)}`);
        assert.equal((await sharp(result).metadata()).icc, undefined, 'converted to sRGB, no profile');
      }
    }

    const inputs: Array<[string, () => Promise<Buffer>]> = [
      ['JPEG', () => privateJpeg()],
      ['PNG', () => privatePng()],
      ['WebP', () => privateWebp(false)],
    ];
    for (const [name, make] of inputs) {
      it(`carries none of a ${name} input's metadata, in every output format`, async () => {
        await assertCleanResults(await make(), {});
      });
    }

    it('nor when a crop was sent and stitched back, with or without paste-back', async () => {
      const image = await privateJpeg(false, BIG.width, BIG.height);
      await assertCleanResults(image, { cropToMask: true });
      await assertCleanResults(image, { cropToMask: true, pasteBack: false });
    });
  });
});
