/** The encodings FLUX.1 Fill [pro] takes for `image` (reference/bfl-api.md §9). */
export type ImageFormat = 'jpeg' | 'png' | 'webp';

export interface ImageLimits {
  /** Largest accepted input, in bytes after base64 decoding. Default 50 MiB. */
  maxInputBytes?: number;
  /** Largest accepted input, in pixels (width × height). Default 40 000 000. */
  maxInputPixels?: number;
}

export interface PreparedImages {
  /** Bytes to send as `image`: upright (EXIF orientation applied), no alpha channel. */
  image: Buffer;
  imageFormat: ImageFormat;
  /** Bytes to send as `mask`: lossless single-channel PNG, every pixel 0 or 255, same size as `image`. */
  mask: Buffer;
  /** Where the mask came from: msg.mask, or the image's alpha channel. */
  maskSource: 'mask' | 'alpha';
  /** Size of the upright image. */
  width: number;
  height: number;
}

/**
 * What the node's mask and result options ask of the image work, checked and with defaults filled in (the
 * table of fields in ../fields.ts does that).
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
}
