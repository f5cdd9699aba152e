/**
 * No private metadata leaves the machine: the bytes of a JPEG, PNG or WebP sent as they are lose their EXIF
 * (GPS position, camera, dates, thumbnails), XMP, IPTC, comments and text, losslessly. Segments and chunks
 * are walked and copied or dropped whole; compressed image data is copied byte for byte and nothing is
 * recomputed (PNG chunks keep their CRCs), so the decoded pixels stay identical. Anything re-encoded goes
 * through sharp, which writes no metadata at all.
 *
 * Kept, because it changes how the pixels decode or are shown, and names no one:
 * - JPEG: every marker the decoder reads (SOF, DHT, DQT, DRI, SOS and its entropy-coded data, ...), APP0
 *   JFIF (its thumbnail cleared: it could show the picture before an edit), APP2 ICC_PROFILE (the colours:
 *   without it a Display P3 or Adobe RGB photo decodes differently) and APP14 Adobe (the colour transform).
 *   Dropped: APP1 (EXIF, XMP), APP13 (IPTC, Photoshop), COM, every other APPn (MPF, FlashPix, JFXX
 *   thumbnails, maker data), and whatever follows EOI (MPF and gain-map images, motion-photo videos).
 * - PNG: the critical chunks (IHDR, PLTE, IDAT, IEND and any other upper-case one, which a decoder must
 *   understand), and the ancillary chunks about colour, transparency and pixel density (tRNS, gAMA, cHRM,
 *   sRGB, iCCP, cICP, mDCV, cLLI, sBIT, pHYs). Dropped: every other ancillary chunk (tEXt, zTXt, iTXt,
 *   eXIf, tIME, bKGD, caBX, APNG frames, ...) and whatever follows IEND.
 * - WebP: VP8, VP8L, VP8X, ALPH, ICCP, ANIM and ANMF. Dropped: EXIF, XMP and unknown chunks, and anything
 *   after the RIFF container; VP8X's EXIF and XMP flags are cleared and the RIFF size corrected.
 *
 * A file whose structure is not understood here is not guessed at: stripMetadata answers undefined and the
 * image is re-encoded with sharp instead (which refuses it if it does not decode).
 */

/**
 * `data` without its metadata: the same Buffer when there is none (no copy), else a new one; undefined when
 * the structure is not understood (truncated, malformed) or the format is not JPEG, PNG or WebP.
 */
export function stripMetadata(data: Buffer, format: string): Buffer | undefined {
  switch (format) {
    case 'jpeg':
      return stripJpeg(data);
    case 'png':
      return stripPng(data);
    case 'webp':
      return stripWebp(data);
    default:
      return undefined;
  }
}

/**
 * The kept parts of a buffer, copied only once something is left out: a file without metadata costs no copy.
 * Every `put` replaces at least as many bytes as it writes, so the output is never longer than the input.
 */
class Kept {
  private out: Buffer | undefined;
  private written = 0;
  /** Without a copy yet: the kept bytes are data[0, next). */
  private next = 0;

  constructor(private readonly data: Buffer) {}

  keep(start: number, end: number): void {
    if (this.out === undefined && start === this.next) {
      this.next = end;
      return;
    }
    const out = this.copy();
    this.written += this.data.copy(out, this.written, start, end);
  }

  /** Replacement bytes for a part of the input no shorter than them. */
  put(bytes: Buffer): void {
    const out = this.copy();
    this.written += bytes.copy(out, this.written);
  }

  result(): Buffer {
    if (this.out !== undefined) return this.out.subarray(0, this.written);
    return this.next === this.data.length ? this.data : this.data.subarray(0, this.next);
  }

  private copy(): Buffer {
    if (this.out === undefined) {
      this.out = Buffer.allocUnsafe(this.data.length);
      this.written = this.data.copy(this.out, 0, 0, this.next);
    }
    return this.out;
  }
}

// ---- JPEG -------------------------------------------------------------------------------------------------

const SOS = 0xda;
const EOI = 0xd9;
const APP0 = 0xe0;
const APP2 = 0xe2;
const APP14 = 0xee;
const COM = 0xfe;
/** "JFIF\0", version, units, densities and the thumbnail's size: the part of APP0 a decoder reads. */
const JFIF_LENGTH = 14;

function startsWith(data: Buffer, at: number, end: number, signature: string): boolean {
  return end - at >= signature.length && data.toString('latin1', at, at + signature.length) === signature;
}

function isRst(marker: number): boolean {
  return marker >= 0xd0 && marker <= 0xd7;
}

function stripJpeg(data: Buffer): Buffer | undefined {
  if (data.length < 4 || data[0] !== 0xff || data[1] !== 0xd8) return undefined;
  const kept = new Kept(data);
  kept.keep(0, 2);
  let at = 2;
  let scans = 0;
  for (;;) {
    if (data[at] !== 0xff) return undefined;
    // Fill bytes (0xFF) may precede a marker; they are copied with it.
    let m = at + 1;
    while (data[m] === 0xff) m += 1;
    if (m >= data.length) return undefined;
    const marker = data[m]!;
    if (marker === EOI) {
      if (scans === 0) return undefined;
      kept.keep(at, m + 1);
      return kept.result();
    }
    // SOI again, a stuffed zero or a restart marker outside a scan: not a file to rewrite.
    if (marker === 0x00 || marker === 0xd8 || isRst(marker)) return undefined;
    if (marker === 0x01) {
      kept.keep(at, m + 1);
      at = m + 1;
      continue;
    }
    if (m + 3 > data.length) return undefined;
    const end = m + 1 + data.readUInt16BE(m + 1);
    if (end < m + 3 || end > data.length) return undefined;
    const payload = m + 3;
    if (marker === SOS) {
      const scanEnd = entropyCodedEnd(data, end);
      if (scanEnd === undefined) return undefined;
      scans += 1;
      kept.keep(at, scanEnd);
      at = scanEnd;
      continue;
    }
    if (marker === APP0 && startsWith(data, payload, end, 'JFIF\0') && end - payload >= JFIF_LENGTH) {
      if (end - payload === JFIF_LENGTH) {
        kept.keep(at, end);
      } else {
        // The thumbnail (and anything else after the fields) is left out: no thumbnail.
        const jfif = Buffer.alloc(4 + JFIF_LENGTH);
        jfif.writeUInt16BE(0xffe0, 0);
        jfif.writeUInt16BE(2 + JFIF_LENGTH, 2);
        data.copy(jfif, 4, payload, payload + JFIF_LENGTH - 2);
        kept.put(jfif);
      }
    } else if (keepJpegSegment(marker, data, payload, end)) {
      kept.keep(at, end);
    }
    at = end;
  }
}

function keepJpegSegment(marker: number, data: Buffer, payload: number, end: number): boolean {
  if (marker === APP2) return startsWith(data, payload, end, 'ICC_PROFILE\0');
  if (marker === APP14) return startsWith(data, payload, end, 'Adobe');
  return !(marker >= APP0 && marker <= 0xef) && marker !== COM;
}

/** Where the entropy-coded data starting at `from` ends: at the first marker other than RSTn. */
function entropyCodedEnd(data: Buffer, from: number): number | undefined {
  let at = from;
  for (;;) {
    at = data.indexOf(0xff, at);
    if (at === -1 || at + 1 >= data.length) return undefined;
    const next = data[at + 1]!;
    if (next === 0x00 || isRst(next)) at += 2;
    else if (next === 0xff) at += 1;
    else return at;
  }
}

// ---- PNG --------------------------------------------------------------------------------------------------

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const PNG_KEPT: ReadonlySet<string> = new Set([
  'tRNS',
  'gAMA',
  'cHRM',
  'sRGB',
  'iCCP',
  'cICP',
  'mDCV',
  'cLLI',
  'sBIT',
  'pHYs',
]);

function stripPng(data: Buffer): Buffer | undefined {
  if (data.length < PNG_SIGNATURE.length || !data.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)) {
    return undefined;
  }
  const kept = new Kept(data);
  kept.keep(0, PNG_SIGNATURE.length);
  let at = PNG_SIGNATURE.length;
  while (at + 12 <= data.length) {
    const length = data.readUInt32BE(at);
    const end = at + 12 + length;
    if (length > 0x7fffffff || end > data.length) return undefined;
    const type = data.toString('latin1', at + 4, at + 8);
    if (!/^[A-Za-z]{4}$/.test(type)) return undefined;
    if (at === PNG_SIGNATURE.length && type !== 'IHDR') return undefined;
    // Bit 5 of the first letter: 0 (upper case) for critical chunks, which every decoder must read.
    const critical = (data[at + 4]! & 0x20) === 0;
    if (critical || PNG_KEPT.has(type)) kept.keep(at, end);
    if (type === 'IEND') return kept.result();
    at = end;
  }
  return undefined;
}

// ---- WebP -------------------------------------------------------------------------------------------------

const WEBP_KEPT: ReadonlySet<string> = new Set(['VP8 ', 'VP8L', 'VP8X', 'ALPH', 'ICCP', 'ANIM', 'ANMF']);
/** VP8X flags: EXIF and XMP present. */
const VP8X_METADATA_FLAGS = 0x08 | 0x04;

interface Chunk {
  fourcc: string;
  start: number;
  /** Past the padding byte of an odd-sized chunk. */
  end: number;
}

/** Visits the chunks of the RIFF container ending at `riffEnd`; false when one does not fit in it. */
function webpChunks(data: Buffer, riffEnd: number, visit: (chunk: Chunk) => void): boolean {
  let at = 12;
  while (at < riffEnd) {
    if (at + 8 > riffEnd) return false;
    const size = data.readUInt32LE(at + 4);
    // Some writers leave out the padding byte of an odd-sized last chunk.
    const end = Math.min(at + 8 + size + (size & 1), Math.max(riffEnd, at + 8 + size));
    if (end > riffEnd) return false;
    visit({ fourcc: data.toString('latin1', at, at + 4), start: at, end });
    at = end;
  }
  return true;
}

function stripWebp(data: Buffer): Buffer | undefined {
  if (data.length < 20 || data.toString('latin1', 0, 4) !== 'RIFF' || data.toString('latin1', 8, 12) !== 'WEBP') {
    return undefined;
  }
  const riffEnd = 8 + data.readUInt32LE(4);
  if (riffEnd > data.length || riffEnd < 20) return undefined;

  let dropped = 0;
  let flagsAt: number | undefined;
  const understood = webpChunks(data, riffEnd, (chunk) => {
    if (!WEBP_KEPT.has(chunk.fourcc)) dropped += chunk.end - chunk.start;
    else if (chunk.fourcc === 'VP8X' && chunk.end - chunk.start >= 9) flagsAt = chunk.start + 8;
  });
  if (!understood) return undefined;
  const flags = flagsAt === undefined ? 0 : data[flagsAt]!;
  if (dropped === 0 && (flags & VP8X_METADATA_FLAGS) === 0) {
    return riffEnd === data.length ? data : data.subarray(0, riffEnd);
  }

  const kept = new Kept(data);
  const header = Buffer.from(data.subarray(0, 12));
  header.writeUInt32LE(riffEnd - 8 - dropped, 4);
  kept.put(header);
  webpChunks(data, riffEnd, (chunk) => {
    if (!WEBP_KEPT.has(chunk.fourcc)) return;
    if (chunk.start + 8 === flagsAt) {
      const head = Buffer.from(data.subarray(chunk.start, chunk.start + 9));
      head[8] = flags & ~VP8X_METADATA_FLAGS;
      kept.put(head);
      kept.keep(chunk.start + 9, chunk.end);
    } else {
      kept.keep(chunk.start, chunk.end);
    }
  });
  return kept.result();
}
