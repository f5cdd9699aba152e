/**
 * Turns what a flow supplied (node fields, possibly evaluated from msg/flow/global/env, and msg.prompt /
 * msg.seed) into validated API parameters. Anything out of range is a BFL_INVALID_INPUT before any upload.
 */
import { invalidInput } from '../errors';
import type { FillParameters, OutputFormat } from '../api/types';
import { text, type Text } from '../messages';
import { isGiven, toNumber } from '../values';

export const FILL_DEFAULTS = {
  prompt: '',
  steps: 50,
  guidance: 60,
  outputFormat: 'jpeg' as OutputFormat,
  safetyTolerance: 2,
  promptUpsampling: false,
  timeoutSeconds: 300,
};

export const FILL_LIMITS = {
  steps: { min: 15, max: 50 },
  guidance: { min: 1.5, max: 100 },
  safetyTolerance: { min: 0, max: 6 },
  timeoutSeconds: { min: 1, max: 86_400 },
};

/** Values as the node resolved them; undefined or '' means "not given". */
export interface RawFillInputs {
  prompt?: unknown;
  steps?: unknown;
  guidance?: unknown;
  seed?: unknown;
  outputFormat?: unknown;
  safetyTolerance?: unknown;
  promptUpsampling?: unknown;
  timeout?: unknown;
}

/** The message properties that fill in when the node's field is empty. */
export interface MessageFallbacks {
  prompt?: unknown;
  seed?: unknown;
}

export interface FillSettings {
  parameters: FillParameters;
  timeoutMs: number;
}

/** The offending value for a message: a short quoted excerpt, a kind of thing, or the literal (14, NaN, true). */
function describe(value: unknown): Text | string {
  if (typeof value === 'string')
    return text('value.quoted', { text: value.length > 40 ? `${value.slice(0, 40)}…` : value });
  if (Buffer.isBuffer(value)) return text('value.buffer');
  if (Array.isArray(value)) return text('value.array');
  if (value && typeof value === 'object') return text('value.object');
  return String(value);
}

/** Catalog key below `parameters.name.` of a checked field. */
type FieldName = 'steps' | 'guidance' | 'safetyTolerance' | 'promptUpsampling' | 'timeout';

function numberInRange(
  name: FieldName,
  value: unknown,
  fallback: number,
  range: { min: number; max: number },
  integer: boolean,
): number {
  if (!isGiven(value)) return fallback;
  const parsed = toNumber(value);
  const outOfRange = (shown: Text | string): Text =>
    text(integer ? 'parameters.wholeNumberRange' : 'parameters.numberRange', {
      name: text(`parameters.name.${name}`),
      min: range.min,
      max: range.max,
      value: shown,
    });
  if (parsed === undefined || !Number.isFinite(parsed) || (integer && !Number.isInteger(parsed))) {
    throw invalidInput(outOfRange(describe(value)));
  }
  if (parsed < range.min || parsed > range.max) throw invalidInput(outOfRange(String(parsed)));
  return parsed;
}

function resolvePrompt(value: unknown, fallback: unknown): string {
  const chosen = isGiven(value) ? value : fallback;
  if (!isGiven(chosen)) return FILL_DEFAULTS.prompt;
  if (typeof chosen === 'string') return chosen;
  if (typeof chosen === 'number' || typeof chosen === 'boolean') return String(chosen);
  throw invalidInput(text('parameters.promptNotText', { value: describe(chosen) }));
}

function resolveSeed(value: unknown, fallback: unknown): number | undefined {
  const fromMessage = !isGiven(value);
  const chosen = fromMessage ? fallback : value;
  if (!isGiven(chosen)) return undefined;
  const parsed = toNumber(chosen);
  if (parsed === undefined || !Number.isSafeInteger(parsed) || parsed < 0) {
    throw invalidInput(text(fromMessage ? 'parameters.msgSeed' : 'parameters.seed', { value: describe(chosen) }));
  }
  return parsed;
}

function resolveOutputFormat(value: unknown): OutputFormat {
  if (!isGiven(value)) return FILL_DEFAULTS.outputFormat;
  const format = typeof value === 'string' ? value.trim().toLowerCase() : '';
  if (format === 'jpeg' || format === 'jpg') return 'jpeg';
  if (format === 'png' || format === 'webp') return format;
  throw invalidInput(text('parameters.outputFormat', { value: describe(value) }));
}

function resolveBoolean(name: FieldName, value: unknown, fallback: boolean): boolean {
  if (!isGiven(value)) return fallback;
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 1) return true;
  if (value === 'false' || value === 0) return false;
  throw invalidInput(text('parameters.boolean', { name: text(`parameters.name.${name}`), value: describe(value) }));
}

export function resolveFillSettings(inputs: RawFillInputs, fallbacks: MessageFallbacks = {}): FillSettings {
  const parameters: FillParameters = {
    prompt: resolvePrompt(inputs.prompt, fallbacks.prompt),
    steps: numberInRange('steps', inputs.steps, FILL_DEFAULTS.steps, FILL_LIMITS.steps, true),
    guidance: numberInRange('guidance', inputs.guidance, FILL_DEFAULTS.guidance, FILL_LIMITS.guidance, false),
    seed: resolveSeed(inputs.seed, fallbacks.seed),
    outputFormat: resolveOutputFormat(inputs.outputFormat),
    safetyTolerance: numberInRange(
      'safetyTolerance',
      inputs.safetyTolerance,
      FILL_DEFAULTS.safetyTolerance,
      FILL_LIMITS.safetyTolerance,
      true,
    ),
    promptUpsampling: resolveBoolean('promptUpsampling', inputs.promptUpsampling, FILL_DEFAULTS.promptUpsampling),
  };
  const timeoutSeconds = numberInRange(
    'timeout',
    inputs.timeout,
    FILL_DEFAULTS.timeoutSeconds,
    FILL_LIMITS.timeoutSeconds,
    false,
  );
  return { parameters, timeoutMs: Math.round(timeoutSeconds * 1000) };
}
