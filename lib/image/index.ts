/**
 * Reading and preparing the image and mask before submission. No Node-RED here: the job engine calls
 * prepareFillImages with the values of msg.payload and msg.mask.
 */
export type { ImageFormat, ImageLimits, PreparedImages } from './types';
export { DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_INPUT_PIXELS } from './limits';
export { readImageInput } from './input';
export { prepareFillImages } from './prepare';
