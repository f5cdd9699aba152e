/**
 * The image work, as the rest of the package uses it: planInputs prepares msg.payload and msg.mask for
 * submission (the only road images take), composeResult puts the generated image back into the original,
 * makePreview draws the workspace thumbnail. By family, in the order a fill runs them: input, geometry,
 * region, shapes, masks, metadata, send, plan, compose, preview; then the expand's sides, plan and compose; each module imports only from those before it.
 */
export type {
  Anchor,
  Box,
  ExpandGeometry,
  ExpandLayout,
  ExpandOptions,
  FillGeometry,
  ImageFormat,
  ImageLimits,
  ImageOptions,
  JobGeometry,
  PreparedImages,
  Sides,
} from './types';
export { DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_INPUT_PIXELS, readImageInput } from './input';
export { API_MAX_PIXELS } from './geometry';
export { isShapeMask, MAX_SHAPES } from './shapes';
export { maskFromShapes } from './masks';
export { planInputs, geometryMaskPng, type PlannedInputs } from './plan';
export { composeResult, type ComposeOptions } from './compose';
export { ANCHORS, sidesForRatio } from './sides';
export { planExpand, type PlannedExpand } from './expand-plan';
export { composeExpanded, composeJobResult, isExpandGeometry } from './expand-compose';
export { makePreview, makeThumbnail, PREVIEW_MAX_SIDE, type Preview } from './preview';
