/**
 * From msg.payload and msg.mask to the two byte strings the API gets. Everything that can be refused is
 * refused here, before a task exists, so bad input costs no credit.
 */
import { invalidInput } from '../errors';
import { text } from '../messages';
import { probe } from './decode';
import { encodeImage } from './image';
import { readBytes } from './input';
import { resolveLimits } from './limits';
import { checkSameSize, maskFromAlpha, maskFromImage } from './mask';
import type { ImageLimits, PreparedImages } from './types';

const IMAGE_PROPERTY = 'msg.payload';
const MASK_PROPERTY = 'msg.mask';

/** image: value of msg.payload; mask: value of msg.mask (undefined/null => use the image's alpha channel). */
export async function prepareFillImages(image: unknown, mask: unknown, limits?: ImageLimits): Promise<PreparedImages> {
  const resolved = resolveLimits(limits);
  // Both inputs are read before any decoding so that a wrong type is reported without waiting for sharp.
  const imageBytes = readBytes(image, IMAGE_PROPERTY, resolved);
  const maskBytes = mask === undefined || mask === null ? undefined : readBytes(mask, MASK_PROPERTY, resolved);

  const source = await probe(imageBytes, IMAGE_PROPERTY, resolved);

  // The mask is made first: it is the cheaper half and the likelier to be refused (empty, wrong size), and
  // one at a time leaves sharp's threads to other flows.
  let maskPng: Buffer;
  if (maskBytes) {
    const maskSource = await probe(maskBytes, MASK_PROPERTY, resolved);
    checkSameSize(maskSource, source);
    // An image that also has alpha gets it removed below: msg.mask is the one mask that counts.
    maskPng = await maskFromImage(maskSource);
  } else {
    if (!source.hasAlpha) {
      throw invalidInput(text('mask.missing', { image: IMAGE_PROPERTY, mask: MASK_PROPERTY }));
    }
    maskPng = await maskFromAlpha(source);
  }

  const encoded = await encodeImage(source);
  return {
    image: encoded.image,
    imageFormat: encoded.imageFormat,
    mask: maskPng,
    maskSource: maskBytes ? 'mask' : 'alpha',
    width: encoded.width,
    height: encoded.height,
  };
}
