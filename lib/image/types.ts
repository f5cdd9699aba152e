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
