/**
 * The engine without Node-RED, for any Node.js program. The nodes in ../nodes import the modules they need
 * directly, so that Node-RED never loads the emulator unless a config node uses the emulator region.
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
export { WebhookReceiver, generateWebhookSecret, type WebhookReceiverOptions } from './engine/webhooks';
export { serveWebhook, serveWebhookProbe, MAX_WEBHOOK_BYTES } from './engine/webhook-http';
export { expand, type ExpandRequest, type ExpandOutcome } from './engine/expand';
export { MODELS, FILL_MODEL, FINETUNED_FILL_MODEL, EXPAND_MODEL, type Model, type ModelId } from './api/models';
export { Account, resolveAccount, type AccountSettings, type AccountTuning } from './engine/account';
export {
  resolveFillSettings,
  resolveImageOptions,
  FILL_FIELDS,
  EXPAND_FIELDS,
  CONFIG_FIELDS,
  type RawFillInputs,
  type RawExpandInputs,
} from './fields';
export { resolveExpandSettings, type ExpandSettings } from './expand-settings';
export {
  planInputs,
  composeResult,
  planExpand,
  composeExpanded,
  readImageInput,
  type PlannedInputs,
  type FillGeometry,
  type ExpandGeometry,
  type Sides,
  type ComposeOptions,
  type ImageOptions,
  type PreparedImages,
  type ImageLimits,
} from './image';
export {
  BflEmulator,
  DEFAULT_EMULATOR_KEY,
  type DeliveredWebhook,
  type EmulatorOptions,
  type TaskScenario,
  type WebhookScenario,
} from './emulator';
