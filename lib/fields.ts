/**
 * The table of fields: every property of the bfl-fill, bfl-expand and bfl-config nodes, declared once with its kind,
 * default, range and TypedInput. The engine checks values with it (below), the build hands it to the editor
 * (the dialogs' defaults and inline validators) and fills the ranges into the help; test/fields.test.ts
 * proves that the three agree. A field's label is `field.<name>` in the message catalogs, shared by the
 * dialogs and by the errors that name it.
 *
 * Values come from the node (the editor saves numbers as strings), from msg/flow/global/env through a
 * TypedInput, or not at all: undefined, null and blank strings take the default. Anything unusable is a
 * BFL_INVALID_INPUT that names the field, its range and the value received, before anything is submitted.
 */
import { EXPAND_LIMITS, FILL_MODEL_IDS, FINETUNED_FILL_MODEL, type ModelId } from './api/models';
import { REGIONS } from './api/regions';
import type { FillParameters } from './api/types';
import { invalidInput } from './errors';
import { ANCHORS, API_MAX_PIXELS, MAX_SHAPES, type ImageFormat, type ImageOptions } from './image';
import { text, type Text } from './messages';
import { describeValue, isGiven, toNumber } from './values';

/** The literal type of a TypedInput: besides it, the value may come from msg, flow, global or env. */
export type LiteralType = 'str' | 'num' | 'bool';

interface FieldBase {
  /** Set when the field is a TypedInput with a `<name>Type` companion property. */
  readonly typedInput?: LiteralType;
  /** Shown beside the input in the dialog, e.g. seconds. */
  readonly unit?: 'seconds' | 'pixels' | 'megapixels' | 'credits';
}

export interface TextField extends FieldBase {
  readonly kind: 'text';
  readonly default: string;
}

export interface NumberField extends FieldBase {
  /** integer: whole numbers only; number: fractions too. */
  readonly kind: 'integer' | 'number';
  readonly min: number;
  readonly max: number;
  /** '' when an empty field means something of its own (a random seed, no cap). */
  readonly default: number | '';
  /** 0 is accepted besides the range, and means the same as empty (off). */
  readonly zeroMeansEmpty?: boolean;
}

export interface BooleanField extends FieldBase {
  readonly kind: 'boolean';
  readonly default: boolean;
}

export interface ChoiceField extends FieldBase {
  readonly kind: 'choice';
  readonly choices: readonly string[];
  readonly default: string;
  /** Other spellings accepted for a choice, in lower case. */
  readonly aliases?: Readonly<Record<string, string>>;
}

/** A reference to a config node (the editor's node picker). */
export interface NodeField extends FieldBase {
  readonly kind: 'node';
  readonly nodeType: string;
  readonly default: '';
}

/** Mask shapes drawn in the dialog: a list in the shapes' own formats (lib/image/shapes), stored in the flow. */
export interface ShapesField extends FieldBase {
  readonly kind: 'shapes';
  readonly default: readonly [];
  /** Most shapes in the list (the shape parser's own limit). */
  readonly max: number;
}

export type Field = TextField | NumberField | BooleanField | ChoiceField | NodeField | ShapesField;

export const OUTPUT_FORMATS: readonly ImageFormat[] = ['jpeg', 'png', 'webp'];

/** The bfl-fill node's properties, in the order of its dialog. */
export const FILL_FIELDS = {
  name: { kind: 'text', default: '' },
  config: { kind: 'node', nodeType: 'bfl-config', default: '' },
  model: { kind: 'choice', choices: FILL_MODEL_IDS, default: 'flux-pro-1.0-fill' },
  // Only for flux-pro-1.0-fill-finetuned, which requires the id (BFL's, or `org-id/lora-name` for a shared one).
  finetuneId: { kind: 'text', default: '', typedInput: 'str' },
  finetuneStrength: { kind: 'number', min: 0, max: 2, default: 1.1, typedInput: 'num' },
  prompt: { kind: 'text', default: '', typedInput: 'str' },
  steps: { kind: 'integer', min: 15, max: 50, default: 50, typedInput: 'num' },
  guidance: { kind: 'number', min: 1.5, max: 100, default: 60, typedInput: 'num' },
  seed: { kind: 'integer', min: 0, max: Number.MAX_SAFE_INTEGER, default: '', typedInput: 'num' },
  outputFormat: { kind: 'choice', choices: OUTPUT_FORMATS, default: 'jpeg', aliases: { jpg: 'jpeg' } },
  safetyTolerance: { kind: 'integer', min: 0, max: 6, default: 2 },
  promptUpsampling: { kind: 'boolean', default: false },
  timeout: { kind: 'number', min: 1, max: 86_400, default: 300, unit: 'seconds' },
  maskInvert: { kind: 'boolean', default: false, typedInput: 'bool' },
  maskGrow: { kind: 'integer', min: 0, max: 1000, default: 0, typedInput: 'num', unit: 'pixels' },
  maskFeather: { kind: 'integer', min: 0, max: 1000, default: 0, typedInput: 'num', unit: 'pixels' },
  pasteBack: { kind: 'boolean', default: true },
  cropToMask: { kind: 'boolean', default: false },
  cropMargin: { kind: 'integer', min: 0, max: 10_000, default: 64, unit: 'pixels' },
  // From 0.25 MP (512×512) to the most the API takes; empty or 0: no cap.
  maxMegapixels: {
    kind: 'number',
    min: 0.25,
    max: API_MAX_PIXELS / 1_000_000,
    default: '',
    zeroMeansEmpty: true,
    unit: 'megapixels',
  },
  // In fractions 0..1 of the image; msg.mask wins, and with neither the image's alpha channel is the mask.
  maskShapes: { kind: 'shapes', default: [], max: MAX_SHAPES },
  preview: { kind: 'boolean', default: false },
} as const satisfies Record<string, Field>;

const SIDE = {
  kind: 'integer',
  min: 0,
  max: EXPAND_LIMITS.maxSide,
  default: 0,
  typedInput: 'num',
  unit: 'pixels',
} as const satisfies NumberField;

/** The bfl-expand node's properties, in the order of its dialog; the generation fields are the fill's. */
export const EXPAND_FIELDS = {
  name: FILL_FIELDS.name,
  config: FILL_FIELDS.config,
  prompt: FILL_FIELDS.prompt,
  top: SIDE,
  bottom: SIDE,
  left: SIDE,
  right: SIDE,
  // Such as 16:9; empty: the four sides are used.
  aspectRatio: { kind: 'text', default: '', typedInput: 'str' },
  anchor: { kind: 'choice', choices: ANCHORS, default: 'center' },
  steps: FILL_FIELDS.steps,
  guidance: FILL_FIELDS.guidance,
  seed: FILL_FIELDS.seed,
  outputFormat: FILL_FIELDS.outputFormat,
  safetyTolerance: FILL_FIELDS.safetyTolerance,
  promptUpsampling: FILL_FIELDS.promptUpsampling,
  timeout: FILL_FIELDS.timeout,
  pasteBack: FILL_FIELDS.pasteBack,
  // The soft seam: the original's edges next to new area blend into the generated picture over this width.
  seamFeather: { kind: 'integer', min: 0, max: 1000, default: 0, typedInput: 'num', unit: 'pixels' },
} as const satisfies Record<string, Field>;

/** The bfl-config node's properties (its credentials, apiKey and webhookSecret, are not fields). */
export const CONFIG_FIELDS = {
  name: { kind: 'text', default: '' },
  region: { kind: 'choice', choices: REGIONS, default: 'global' },
  baseUrl: { kind: 'text', default: '' },
  // BFL allows 24 active tasks per account.
  maxConcurrent: { kind: 'integer', min: 1, max: 24, default: 24 },
  // Jobs in flight are kept in a journal in the Node-RED user directory, so a restart resumes them.
  resumeJobs: { kind: 'boolean', default: true },
  // Credits per UTC day; empty or 0: no limit.
  dailyCreditLimit: { kind: 'number', min: 1, max: 1_000_000, default: '', zeroMeansEmpty: true, unit: 'credits' },
  // The public base URL at which BFL reaches this Node-RED; empty: polling only.
  webhookUrl: { kind: 'text', default: '' },
} as const satisfies Record<string, Field>;

export type FillFieldName = keyof typeof FILL_FIELDS;
export type ExpandFieldName = keyof typeof EXPAND_FIELDS;
export type ConfigFieldName = keyof typeof CONFIG_FIELDS;

/** The fields a bfl-fill node hands to the engine (the rest only matter to the editor and the glue). */
export const FILL_INPUTS = [
  'model',
  'finetuneId',
  'finetuneStrength',
  'prompt',
  'steps',
  'guidance',
  'seed',
  'outputFormat',
  'safetyTolerance',
  'promptUpsampling',
  'timeout',
  'maskInvert',
  'maskGrow',
  'maskFeather',
  'pasteBack',
  'cropToMask',
  'cropMargin',
  'maxMegapixels',
  'maskShapes',
] as const satisfies readonly FillFieldName[];

export type FillInputName = (typeof FILL_INPUTS)[number];

/** Values as the node resolved them; undefined or '' means "not given". */
export type RawFillInputs = Partial<Record<FillInputName, unknown>>;

/** The fields a bfl-expand node hands to the engine: all but its name and account. */
export const EXPAND_INPUTS = (Object.keys(EXPAND_FIELDS) as ExpandFieldName[]).filter(
  (name): name is Exclude<ExpandFieldName, 'name' | 'config'> => name !== 'name' && name !== 'config',
);

export type ExpandInputName = (typeof EXPAND_INPUTS)[number];
export type RawExpandInputs = Partial<Record<ExpandInputName, unknown>>;

/** The message properties that fill in when the node's field is empty. */
export interface MessageFallbacks {
  prompt?: unknown;
  seed?: unknown;
}

/** Everything a fill needs from its inputs, checked. */
export interface FillSettings {
  parameters: FillParameters;
  timeoutMs: number;
  imageOptions: ImageOptions;
}

/** The field's label, or for a value taken from the message, the property (msg.seed). */
export type Subject = { field: FillFieldName | ExpandFieldName | ConfigFieldName } | { property: string };

function subjectText(subject: Subject): Text | string {
  return 'field' in subject ? text(`field.label.${subject.field}`) : subject.property;
}

export function refuse(
  key: string,
  subject: Subject,
  shown: Text | string | number,
  params: Record<string, string | number> = {},
): never {
  throw invalidInput(text(`field.${key}`, { ...params, name: subjectText(subject), value: shown }));
}

/** A number field's value, or undefined when it is empty (or 0 where that means empty). */
export function readNumber(field: NumberField, value: unknown, subject: Subject): number | undefined {
  if (!isGiven(value)) return field.default === '' ? undefined : field.default;
  const parsed = toNumber(value);
  const finite = parsed !== undefined && Number.isFinite(parsed);
  const whole = field.kind === 'integer';
  const { min, max } = field;
  if (finite && field.zeroMeansEmpty && parsed === 0) return undefined;
  if (finite && parsed >= min && parsed <= max && (!whole || Number.isInteger(parsed))) return parsed;
  // A number is shown as it is ("but it is 14"), anything else described ("but it is an object").
  const shown = finite ? parsed : describeValue(value);
  const orEmpty = field.default === '' ? 'OrEmpty' : '';
  if (whole && max === Number.MAX_SAFE_INTEGER) refuse(`wholeNumberFrom${orEmpty}`, subject, shown, { min });
  refuse(`${whole ? 'wholeNumberRange' : 'numberRange'}${orEmpty}`, subject, shown, { min, max });
}

export function readBoolean(field: BooleanField, value: unknown, subject: Subject): boolean {
  if (!isGiven(value)) return field.default;
  if (value === true || value === 'true' || value === 1) return true;
  if (value === false || value === 'false' || value === 0) return false;
  refuse('boolean', subject, describeValue(value));
}

export function readChoice(field: ChoiceField, value: unknown, subject: Subject): string {
  if (!isGiven(value)) return field.default;
  const given = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
  const chosen = given === undefined ? undefined : (field.aliases?.[given] ?? given);
  if (chosen !== undefined && field.choices.includes(chosen)) return chosen;
  refuse('choice', subject, describeValue(value), { choices: field.choices.join(', ') });
}

/**
 * The list of drawn shapes, unchecked: the shape parser (lib/image/shapes) checks each one when the mask is
 * made, and names it. A JSON text of a list (a flow written by hand) is read as that list; empty: none.
 */
export function readShapes(field: ShapesField, value: unknown, subject: Subject): readonly unknown[] {
  if (!isGiven(value)) return field.default;
  let list = value;
  if (typeof value === 'string') {
    try {
      list = JSON.parse(value);
    } catch {
      refuse('shapes', subject, describeValue(value));
    }
  }
  if (!Array.isArray(list)) refuse('shapes', subject, describeValue(value));
  if (list.length > field.max)
    refuse('tooManyShapes', subject, describeValue(value), { count: list.length, max: field.max });
  return list as unknown[];
}

/** Numbers and booleans become their text: a prompt of 42 is what the flow meant. */
export function readText(field: TextField, value: unknown, subject: Subject): string {
  if (!isGiven(value)) return field.default;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  refuse('text', subject, describeValue(value));
}

const F = FILL_FIELDS;
const fill = (field: FillFieldName | ExpandFieldName): Subject => ({ field });

/** The node's value, or when the node leaves it empty, the message's (msg.prompt, msg.seed). */
export function withFallback(name: 'prompt' | 'seed', value: unknown, fallbacks: MessageFallbacks): [unknown, Subject] {
  return isGiven(value) ? [value, fill(name)] : [fallbacks[name], { property: `msg.${name}` }];
}

/** The image options alone, e.g. for a program that plans images without a node. */
export function resolveImageOptions(inputs: RawFillInputs = {}): ImageOptions {
  const options: ImageOptions = {
    maskInvert: readBoolean(F.maskInvert, inputs.maskInvert, fill('maskInvert')),
    maskGrow: readNumber(F.maskGrow, inputs.maskGrow, fill('maskGrow'))!,
    maskFeather: readNumber(F.maskFeather, inputs.maskFeather, fill('maskFeather'))!,
    pasteBack: readBoolean(F.pasteBack, inputs.pasteBack, fill('pasteBack')),
    cropToMask: readBoolean(F.cropToMask, inputs.cropToMask, fill('cropToMask')),
    cropMargin: readNumber(F.cropMargin, inputs.cropMargin, fill('cropMargin'))!,
    maxMegapixels: readNumber(F.maxMegapixels, inputs.maxMegapixels, fill('maxMegapixels')) ?? 0,
  };
  const maskShapes = readShapes(F.maskShapes, inputs.maskShapes, fill('maskShapes'));
  return maskShapes.length > 0 ? { ...options, maskShapes } : options;
}

export type GenerationInputs = Partial<Record<ExpandInputName & FillInputName, unknown>>;

/** The generation fields every model shares (the fill's and the expand's are the same fields). */
export function resolveGeneration(inputs: GenerationInputs, fallbacks: MessageFallbacks): FillParameters {
  return {
    prompt: readText(F.prompt, ...withFallback('prompt', inputs.prompt, fallbacks)),
    steps: readNumber(F.steps, inputs.steps, fill('steps'))!,
    guidance: readNumber(F.guidance, inputs.guidance, fill('guidance'))!,
    seed: readNumber(F.seed, ...withFallback('seed', inputs.seed, fallbacks)),
    outputFormat: readChoice(F.outputFormat, inputs.outputFormat, fill('outputFormat')) as ImageFormat,
    safetyTolerance: readNumber(F.safetyTolerance, inputs.safetyTolerance, fill('safetyTolerance'))!,
    promptUpsampling: readBoolean(F.promptUpsampling, inputs.promptUpsampling, fill('promptUpsampling')),
  };
}

export function timeoutMsOf(inputs: GenerationInputs): number {
  return Math.round(readNumber(F.timeout, inputs.timeout, fill('timeout'))! * 1000);
}

/** The model and, for the fine-tuned fill, its fine-tune: an id is required there, so none is refused. */
function resolveFillModel(inputs: RawFillInputs): Pick<FillParameters, 'model' | 'modelFields'> {
  const model = readChoice(F.model, inputs.model, fill('model')) as ModelId;
  if (model !== FINETUNED_FILL_MODEL.id) return { model };
  const finetuneId = readText(F.finetuneId, inputs.finetuneId, fill('finetuneId')).trim();
  if (finetuneId === '') refuse('finetuneIdRequired', fill('finetuneId'), '', { model });
  const finetuneStrength = readNumber(F.finetuneStrength, inputs.finetuneStrength, fill('finetuneStrength'))!;
  return { model, modelFields: { finetuneId, finetuneStrength } };
}

/** Every input of a fill checked, in the order of the dialog, so the first problem a user sees is reported. */
export function resolveFillSettings(inputs: RawFillInputs, fallbacks: MessageFallbacks = {}): FillSettings {
  const model = resolveFillModel(inputs);
  const parameters = { ...model, ...resolveGeneration(inputs, fallbacks) };
  return { parameters, timeoutMs: timeoutMsOf(inputs), imageOptions: resolveImageOptions(inputs) };
}

/** TypedInput types whose empty value means "not given" rather than "evaluate ''". */
const LITERAL_TYPES = new Set(['str', 'num', 'json', 'bool', 're', 'date']);

/** A TypedInput value as saved in a flow (a string, a number or a boolean) as text; anything else is empty. */
function fieldText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return '';
}

/**
 * Where a node property's value comes from, given the property and its `<name>Type` companion: the value
 * itself, or an expression for Node-RED to evaluate against the message. A plain value with no companion
 * type is a literal, so hand-written and older flows keep working; an empty literal is "not given".
 */
export function fieldSource(
  value: unknown,
  type: unknown,
): { value: unknown } | { evaluate: { value: string; type: string } } {
  if (typeof type !== 'string' || type === '') return { value };
  if (LITERAL_TYPES.has(type) && fieldText(value).trim() === '') return { value: undefined };
  return { evaluate: { value: fieldText(value), type } };
}
