/**
 * The engine without Node-RED: usable from any Node.js program (and by the nodes in ../nodes).
 */
export * from './bfl/errors';
export type { FillParameters, OutputFormat, SubmittedTask } from './bfl/types';
export { REGIONS, emulatorEndpoint, type Region, type ApiEndpoint } from './bfl/regions';
export { BflClient, type BflClientOptions } from './bfl/client';
export {
  FillService,
  type FillJob,
  type FillResult,
  type FillMetadata,
  type FillServiceOptions,
} from './jobs/fill-service';
export { fill, type FillRequest } from './jobs/fill-job';
export { Account, resolveAccount, type AccountSettings, type AccountTuning } from './jobs/account';
export { resolveFillSettings, FILL_DEFAULTS, FILL_LIMITS, type RawFillInputs } from './jobs/parameters';
export { prepareFillImages, readImageInput, type PreparedImages, type ImageLimits } from './image';
export { BflEmulator, DEFAULT_EMULATOR_KEY, type EmulatorOptions, type TaskScenario } from './emulator';
