/**
 * Images full of private metadata, for the tests that prove none of it is sent: EXIF with a GPS position, XMP,
 * IPTC, comments and text, thumbnails and trailers, made with sharp (withExif, withXmp, withIccProfile) and by
 * splicing segments and chunks in by hand. Every planted value holds a SECRET_ marker a byte search finds.
 */
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import { crc32, photo } from './fixtures';

export const W = 48;
export const H = 32;

export const EXIF = {
  IFD0: { ImageDescription: 'SECRET_DESCRIPTION', Copyright: 'SECRET_COPYRIGHT', Artist: 'SECRET_ARTIST' },
  IFD3: {
    GPSLatitudeRef: 'N',
    GPSLatitude: '48/1 8/1 30/1',
    GPSLongitudeRef: 'E',
    GPSLongitude: '11/1 34/1 0/1',
    GPSMapDatum: 'SECRET_GPS_DATUM',
  },
};

export const XMP =
  '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">' +
  '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description ' +
  'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/" ' +
  'xmp:CreatorTool="SECRET_XMP_TOOL" dc:creator="SECRET_XMP_CREATOR"/></rdf:RDF></x:xmpmeta><?xpacket end="w"?>';

/**
 * What must not be in a byte sent: metadata signatures, every planted value, and EXIF's pointer to the GPS
 * directory (tag 0x8825, type LONG, in either byte order).
 */
export const FORBIDDEN: ReadonlyArray<[string, Buffer]> = [
  ...['Exif\0', 'http://ns.adobe.com/xap', 'Photoshop 3.0', '8BIM', 'SECRET_'].map((text): [string, Buffer] => [
    JSON.stringify(text),
    Buffer.from(text, 'latin1'),
  ]),
  ['the GPS directory (II)', Buffer.from([0x25, 0x88, 0x04, 0x00])],
  ['the GPS directory (MM)', Buffer.from([0x88, 0x25, 0x00, 0x04])],
];

/** A photo-like picture with EXIF (GPS), XMP and a Display P3 profile, in sharp's pipeline. */
export function privatePhoto(width = W, height = H): Sharp {
  return photo(width, height).withExif(EXIF).withXmp(XMP).withIccProfile('p3');
}

export function assertHasSecrets(image: Buffer): void {
  assert.ok(image.includes('SECRET_'), 'the fixture carries planted metadata');
}

/** Whether `image` holds EXIF's pointer to a GPS directory. */
export function hasGpsDirectory(image: Buffer): boolean {
  return FORBIDDEN.slice(-2).some(([, bytes]) => image.includes(bytes));
}

/** No metadata by sharp's reading, and none of the forbidden bytes. */
export async function assertNoMetadata(image: Buffer, what = 'the image'): Promise<void> {
  const metadata = await sharp(image).metadata();
  assert.equal(metadata.exif, undefined, `${what} has no EXIF`);
  assert.equal(metadata.xmp, undefined, `${what} has no XMP`);
  assert.equal(metadata.iptc, undefined, `${what} has no IPTC`);
  assert.equal(metadata.comments, undefined, `${what} has no comments`);
  assert.equal(metadata.orientation, undefined, `${what} has no orientation`);
  for (const [name, bytes] of FORBIDDEN) assert.ok(!image.includes(bytes), `${what} contains ${name}`);
}

/** Decoded pixels as sharp gives them by default (the profile applied, as stored, no rotation). */
export function pixelsOf(image: Buffer): Promise<Buffer> {
  return sharp(image).raw().toBuffer();
}

export async function assertSamePixels(a: Buffer, b: Buffer): Promise<void> {
  const [pa, pb] = await Promise.all([pixelsOf(a), pixelsOf(b)]);
  assert.ok(pa.equals(pb), 'decoded pixels are identical');
}

// ---- JPEG -------------------------------------------------------------------------------------------------

export function jpegSegment(marker: number, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
  const head = Buffer.alloc(4);
  head.writeUInt16BE(0xff00 | marker, 0);
  head.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([head, body]);
}

/** APP13 as Photoshop writes IPTC: a By-line and a copyright notice in resource 0x0404. */
export function iptcSegment(): Buffer {
  const dataset = (tag: number, value: string): Buffer =>
    Buffer.concat([Buffer.from([0x1c, 0x02, tag, 0, value.length]), Buffer.from(value, 'latin1')]);
  const iptc = Buffer.concat([dataset(0x50, 'SECRET_BYLINE'), dataset(0x74, 'SECRET_IPTC_COPYRIGHT')]);
  const size = Buffer.alloc(4);
  size.writeUInt32BE(iptc.length);
  const padding = iptc.length % 2 === 1 ? Buffer.alloc(1) : Buffer.alloc(0);
  const resource = Buffer.concat([Buffer.from('8BIM\x04\x04\0\0', 'latin1'), size, iptc, padding]);
  return jpegSegment(0xed, Buffer.concat([Buffer.from('Photoshop 3.0\0', 'latin1'), resource]));
}

/** APP0 JFIF 1.02 with a 2×1 RGB thumbnail (the picture before an edit, say). */
export function jfifWithThumbnail(): Buffer {
  return jpegSegment(
    0xe0,
    Buffer.concat([Buffer.from('JFIF\0\x01\x02\x01\0\x48\0\x48\x02\x01', 'latin1'), Buffer.from('SECRET')]),
  );
}

/** Every kind of segment a camera, phone or editor adds, and that the stripper must drop. */
export function privateSegments(): Buffer[] {
  return [
    jpegSegment(0xe0, 'JFXX\0\x10SECRET_JFXX_THUMBNAIL'),
    jpegSegment(0xe1, 'http://ns.adobe.com/xmp/extension/\0SECRET_EXTENDED_XMP'),
    jpegSegment(0xe2, 'MPF\0II*\0SECRET_MPF'),
    jpegSegment(0xe3, 'Meta\0SECRET_APP3'),
    jpegSegment(0xec, 'Ducky\0SECRET_APP12'),
    iptcSegment(),
    jpegSegment(0xef, 'SECRET_APP15'),
    jpegSegment(0xfe, 'SECRET_COMMENT shot at 12 Main Street'),
  ];
}

/** `jpeg` with `segments` right after SOI and `trailer` after EOI. */
export function spliceJpeg(jpeg: Buffer, segments: Buffer[], trailer = Buffer.alloc(0)): Buffer {
  assert.equal(jpeg.readUInt16BE(0), 0xffd8);
  return Buffer.concat([jpeg.subarray(0, 2), ...segments, jpeg.subarray(2), trailer]);
}

/** A second image and a video after EOI, as Ultra HDR and motion photos append them. */
export const JPEG_TRAILER = Buffer.concat([
  Buffer.from([0xff, 0xd8]),
  Buffer.from('SECRET_GAIN_MAP MotionPhoto_Data SECRET_VIDEO', 'latin1'),
  Buffer.from([0xff, 0xd9]),
]);

/** The markers of a JPEG in order, with an APPn's signature, e.g. ['SOI', 'APP0 JFIF', 'DQT', ...]. */
export function jpegMarkers(jpeg: Buffer): string[] {
  const names: Record<number, string> = { 0xc4: 'DHT', 0xdb: 'DQT', 0xdd: 'DRI', 0xda: 'SOS', 0xfe: 'COM' };
  const markers = ['SOI'];
  let at = 2;
  while (at < jpeg.length) {
    const marker = jpeg[at + 1]!;
    if (marker === 0xd9) return [...markers, 'EOI'];
    const end = at + 2 + jpeg.readUInt16BE(at + 2);
    if (marker >= 0xe0 && marker <= 0xef) {
      const signature = jpeg.toString('latin1', at + 4, Math.min(end, at + 16)).replace(/\0.*$/s, '');
      markers.push(`APP${marker - 0xe0} ${signature}`);
    } else {
      markers.push(names[marker] ?? (marker >= 0xc0 && marker <= 0xcf ? `SOF${marker - 0xc0}` : marker.toString(16)));
    }
    at = end;
    if (marker === 0xda) {
      // Past the entropy-coded data: the next 0xFF not followed by 0x00 or RSTn.
      while (!(jpeg[at] === 0xff && jpeg[at + 1] !== 0 && !(jpeg[at + 1]! >= 0xd0 && jpeg[at + 1]! <= 0xd7))) at += 1;
    }
  }
  return markers;
}

// ---- PNG --------------------------------------------------------------------------------------------------

export function pngChunk(type: string, data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])));
  return Buffer.concat([head, body, crc]);
}

/** The chunks of a PNG as [type, the chunk's bytes]. */
export function pngChunks(png: Buffer): Array<[string, Buffer]> {
  const chunks: Array<[string, Buffer]> = [];
  let at = 8;
  while (at + 12 <= png.length) {
    const end = at + 12 + png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    chunks.push([type, png.subarray(at, end)]);
    at = end;
    if (type === 'IEND') break;
  }
  return chunks;
}

/** `png` with `chunks` inserted after IHDR and `trailer` after IEND. */
export function splicePng(png: Buffer, chunks: Buffer[], trailer = Buffer.alloc(0)): Buffer {
  const afterIhdr = 8 + 12 + png.readUInt32BE(8);
  return Buffer.concat([png.subarray(0, afterIhdr), ...chunks, png.subarray(afterIhdr), trailer]);
}

export function privatePngChunks(): Buffer[] {
  const time = Buffer.from([0x07, 0xe9, 6, 1, 12, 0, 0]);
  return [
    pngChunk('tEXt', 'Comment\0SECRET_COMMENT'),
    pngChunk('tEXt', 'Raw profile type exif\0SECRET_RAW_EXIF GPS'),
    pngChunk('iTXt', `XML:com.adobe.xmp\0\0\0\0\0${XMP}`),
    pngChunk('zTXt', Buffer.concat([Buffer.from('Author\0\0', 'latin1'), deflateSync('SECRET_AUTHOR')])),
    pngChunk('tIME', time),
    pngChunk('bKGD', Buffer.from([0, 0, 0, 0, 0, 0])),
    pngChunk('gAMA', Buffer.from([0, 0, 0xb1, 0x8f])),
    pngChunk('caBX', 'SECRET_CONTENT_CREDENTIALS'),
  ];
}

// ---- WebP -------------------------------------------------------------------------------------------------

export function webpChunk(fourcc: string, data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  const head = Buffer.alloc(8);
  head.write(fourcc, 0, 'latin1');
  head.writeUInt32LE(body.length, 4);
  return Buffer.concat([head, body, body.length % 2 === 1 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

/** The fourccs of a WebP's chunks. */
export function webpChunks(webp: Buffer): string[] {
  const chunks: string[] = [];
  let at = 12;
  while (at + 8 <= 8 + webp.readUInt32LE(4)) {
    const size = webp.readUInt32LE(at + 4);
    chunks.push(webp.toString('latin1', at, at + 4));
    at += 8 + size + (size & 1);
  }
  return chunks;
}

/** `webp` with `chunks` appended inside the RIFF container (its size fixed) and `trailer` after it. */
export function spliceWebp(webp: Buffer, chunks: Buffer[], trailer = Buffer.alloc(0)): Buffer {
  const riff = Buffer.concat([webp.subarray(0, 8 + webp.readUInt32LE(4)), ...chunks]);
  riff.writeUInt32LE(riff.length - 8, 4);
  return Buffer.concat([riff, trailer]);
}
