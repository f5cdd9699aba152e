/**
 * The engine without Node-RED: usable from any Node.js program (and by the nodes in ../nodes).
 */
export * from './errors';
export type { FillParameters, OutputFormat, SubmittedTask } from './api/types';
export { REGIONS, emulatorEndpoint, type Region, type ApiEndpoint } from './api/regions';
export { BflClient, type BflClientOptions } from './api/client';
export {
  FillService,
  type FillJob,
  type FillResult,
  type FillMetadata,
  type FillServiceOptions,
} from './engine/service';
export { fill, type FillRequest } from './engine/fill';
export { Account, resolveAccount, type AccountSettings, type AccountTuning } from './engine/account';
export { resolveFillSettings, resolveImageOptions, FILL_FIELDS, CONFIG_FIELDS, type RawFillInputs } from './fields';
export {
  planInputs,
  composeResult,
  readImageInput,
  type PlannedInputs,
  type FillGeometry,
  type ComposeOptions,
  type ImageOptions,
  type PreparedImages,
  type ImageLimits,
} from './image';
export { BflEmulator, DEFAULT_EMULATOR_KEY, type EmulatorOptions, type TaskScenario } from './emulator';
