/**
 * Reading and preparing the image and mask before submission. No Node-RED here: the job engine calls
 * prepareFillImages with the values of msg.payload and msg.mask.
 */
export type { ImageFormat, ImageLimits, PreparedImages } from './types';
export { DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_INPUT_PIXELS } from './limits';
export { readImageInput } from './input';
export { prepareFillImages } from './prepare';
export { planInputs, geometryMaskPng, type FillGeometry, type PlannedInputs } from './plan';
export { composeResult, type ComposeOptions } from './paste-back';
export { maskFromShapes } from './shape-mask';
export { isShapeMask } from './shapes';
export {
  FILL_IMAGE_DEFAULTS,
  FILL_IMAGE_LIMITS,
  resolveImageOptions,
  type FillImageOptions,
  type ResolvedFillImageOptions,
} from '../fields';
export { API_MAX_PIXELS } from './crop';
export { makePreview, PREVIEW_MAX_SIDE, type Preview } from './preview';
