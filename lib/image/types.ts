/**
 * The types the image modules share, and the ones the rest of the package sees through ./index. Declared here,
 * in a module of types only, so that every stage can use them without importing a later stage.
 */

/**
 * The encodings FLUX.1 Fill [pro] takes for `image` and writes for `output_format`: the one list of image
 * formats for the whole package.
 */
export type ImageFormat = 'jpeg' | 'png' | 'webp';

export interface ImageLimits {
  /** Largest accepted input, in bytes after base64 decoding. Default 50 MiB. */
  maxInputBytes?: number;
  /** Largest accepted input, in pixels (width × height). Default 40 000 000. */
  maxInputPixels?: number;
}

export type ResolvedLimits = Required<ImageLimits>;

/**
 * What the node's mask and result options ask of the image work, checked and with defaults filled in (the
 * package's table of fields does that; the image work takes them as they come).
 */
export interface ImageOptions {
  /** Fill what the mask marks as keep, and keep what it marks as fill. */
  maskInvert: boolean;
  /** Grow the area to fill by this many pixels (of the input image) in every direction. */
  maskGrow: number;
  /**
   * Blend the generated pixels in over a ramp this many pixels wide, inside the area to fill (the pixels
   * outside it stay untouched). Only for paste-back: the mask sent to the API stays black and white.
   */
  maskFeather: number;
  /** Compose the result so that every pixel outside the mask is the input's. */
  pasteBack: boolean;
  /** Send only the mask's surroundings, at about 1 megapixel, and stitch the result back in. */
  cropToMask: boolean;
  /** With cropToMask: pixels of context around the mask. */
  cropMargin: number;
  /** Largest image sent, in megapixels; 0: no cap (images over the API's limit are then refused). */
  maxMegapixels: number;
  /**
   * The shapes drawn in the node's dialog, in fractions 0..1 of the image (unchecked: ./shapes checks them).
   * The mask when msg.mask is absent; left out when none are drawn, and then the alpha channel is the mask.
   */
  maskShapes?: readonly unknown[];
}

/** The two inputs of a fill task, as the API gets them. */
export interface PreparedImages {
  /** Bytes to send as `image`: upright (EXIF orientation applied), no alpha channel. */
  image: Buffer;
  imageFormat: ImageFormat;
  /** Bytes to send as `mask`: lossless single-channel PNG, every pixel 0 or 255, same size as `image`. */
  mask: Buffer;
  /** Where the mask came from: msg.mask (an image or shapes), or the image's alpha channel. */
  maskSource: 'mask' | 'alpha';
  /** Size of the image sent. */
  width: number;
  height: number;
}

/**
 * An axis-aligned box of pixels. Boxes are half-open: a box covers the pixels x with
 * left <= x < left + width, and likewise for y.
 */
export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Bytes sharp can decode, and what their header says. */
export interface SourceImage {
  readonly data: Buffer;
  /** The msg property the bytes came from, for messages. */
  readonly property: string;
  readonly limits: ResolvedLimits;
  /** sharp's decoder name: jpeg, png, webp, gif, tiff, heif, ... */
  readonly format: string;
  /** Size once EXIF orientation is applied. */
  readonly width: number;
  readonly height: number;
  /** Size of the pixels as stored, before EXIF orientation. */
  readonly storedWidth: number;
  readonly storedHeight: number;
  /** EXIF orientation, 1 (upright) when absent. */
  readonly orientation: number;
  readonly hasAlpha: boolean;
  /** Frames or pages in the file; only the first is used. */
  readonly pages: number;
  /** sharp's colour space name, e.g. srgb, b-w, cmyk. */
  readonly space: string;
  /** sharp's name for the bits per sample, e.g. uchar (8 bits), ushort (16 bits). */
  readonly depth: string;
}

/**
 * A mask kept as the smallest box that holds every pixel to fill, plus that box's pixels: a box from an
 * object detector on a 12 MP snapshot costs the box, not 12 MB. Everything outside the box is keep (0).
 */
export interface MaskRegion {
  /** Size of the whole mask: the upright image. */
  readonly width: number;
  readonly height: number;
  /** A box holding every filled pixel: the smallest one, except in masks under 3×3 pixels. */
  readonly box: Box;
  /** box.width × box.height bytes, each 0 (keep) or 255 (fill). */
  readonly data: Buffer;
}

/** A region compressed for keeping while a task runs: the box's pixels as a PNG. */
export interface StoredMask {
  readonly width: number;
  readonly height: number;
  readonly box: Box;
  readonly png: Buffer;
}

/** What composeResult needs to know about a submitted job. Holds no decoded pixels of the full image. */
export interface FillGeometry {
  /** Size of the upright input image, and so of the composed result. */
  readonly width: number;
  readonly height: number;
  /** The part of the upright input that was sent. */
  readonly crop: Box;
  /** Size of the image that was sent. */
  readonly sentWidth: number;
  readonly sentHeight: number;
  /** Whether the image sent was cropped or scaled. */
  readonly resampled: boolean;
  /** The final mask (after invert and grow, before feathering) at full size, compressed. */
  readonly mask: StoredMask;
  /** The input image: the flow's own Buffer (not a copy) and what its header said. */
  readonly source: SourceImage;
  /** Whether the input must be turned into plain 8-bit RGB before compositing (alpha, 16 bits, CMYK). */
  readonly flattenSource: boolean;
  readonly options: ImageOptions;
}

/** Pixels added on each side of an expanded picture, in pixels of the upright input. */
export interface Sides {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/** Where the original sits in an expanded picture: in the middle, at an edge or in a corner. */
export type Anchor =
  'center' | 'top' | 'bottom' | 'left' | 'right' | 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';

/** How an expanded picture is laid out: the sides given, or a ratio to reach, the original at the anchor. */
export type ExpandLayout = { sides: Sides } | { aspectRatio: { width: number; height: number }; anchor: Anchor };

/** What the expand node's result options ask of the image work, checked. */
export interface ExpandOptions {
  /** The original's pixels come back untouched inside the expanded picture. */
  pasteBack: boolean;
  /** With pasteBack: the original's edges next to new area blend in over this many pixels. */
  seamFeather: number;
}

/** What composing an expand needs to know about its submitted job. */
export interface ExpandGeometry {
  readonly kind: 'expand';
  /** Size of the expanded picture: the input's plus the sides. */
  readonly width: number;
  readonly height: number;
  readonly sides: Sides;
  /** The input image: the flow's own Buffer and what its header said. */
  readonly source: SourceImage;
  readonly flattenSource: boolean;
  readonly options: ExpandOptions;
}

/** Either kind of job's geometry; a fill's has no `kind`, as before expands existed. */
export type JobGeometry = FillGeometry | ExpandGeometry;
