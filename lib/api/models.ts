/**
 * The models this package submits to, one row each: the endpoint, the request fields a model adds to the
 * generation fields every FLUX.1 tool shares, whether it takes a mask, its limits and its list price. The
 * queue, retries, journal and credit limit read a task's model from here, so the next model is a row, not a
 * copy. The list price counts against the daily credit limit whenever the submit answer does not say what a
 * task cost.
 */

/** The API's name of a model, which is also its path below /v1/. */
export type ModelId = 'flux-pro-1.0-fill' | 'flux-pro-1.0-fill-finetuned' | 'flux-pro-1.0-expand';

/** The request fields a model adds, by the engine's name, and their values. */
export interface ModelFieldValues {
  finetuneId?: string;
  finetuneStrength?: number;
  top?: number;
  bottom?: number;
  left?: number;
  right?: number;
}

export interface Model {
  readonly id: ModelId;
  /** Credits per task as BFL lists them. */
  readonly listPrice: number;
  /** Whether the body carries a `mask` beside the `image`. */
  readonly takesMask: boolean;
  /** The model's own request fields: the engine's name -> the API's. Each is sent whenever it has a value. */
  readonly fields: Readonly<Partial<Record<keyof ModelFieldValues, string>>>;
}

/** FLUX.1 Fill [pro]: 5 credits ($0.05) per image. */
export const FILL_MODEL: Model = { id: 'flux-pro-1.0-fill', listPrice: 5, takesMask: true, fields: {} };

/** FLUX.1 Fill [pro] with the account's own fine-tune: every fill field plus the fine-tune; 6 credits. */
export const FINETUNED_FILL_MODEL: Model = {
  id: 'flux-pro-1.0-fill-finetuned',
  listPrice: 6,
  takesMask: true,
  fields: { finetuneId: 'finetune_id', finetuneStrength: 'finetune_strength' },
};

/** FLUX.1 Expand [pro]: outpainting, pixels added on each side; 5 credits. */
export const EXPAND_MODEL: Model = {
  id: 'flux-pro-1.0-expand',
  listPrice: 5,
  takesMask: false,
  fields: { top: 'top', bottom: 'bottom', left: 'left', right: 'right' },
};

export const MODELS: Readonly<Record<ModelId, Model>> = {
  'flux-pro-1.0-fill': FILL_MODEL,
  'flux-pro-1.0-fill-finetuned': FINETUNED_FILL_MODEL,
  'flux-pro-1.0-expand': EXPAND_MODEL,
};

/** The models a bfl-fill node chooses from, in the order of its dialog. */
export const FILL_MODEL_IDS = [FILL_MODEL.id, FINETUNED_FILL_MODEL.id] as const;

/**
 * Limits of the expand endpoint. Sides: the OpenAPI's 0..2048 per side. Input: BFL's own SDK refused images
 * over 20 MP or with a side under 256 pixels for this endpoint. Output: BFL documents no limit; 20 MP is the
 * largest size with evidence that the API takes it (see lib/image/geometry.ts), so nothing larger is sent.
 */
export const EXPAND_LIMITS = {
  maxSide: 2048,
  minInputSide: 256,
  maxInputPixels: 20_000_000,
  maxOutputPixels: 20_000_000,
};

/** A task's model; a task journalled before models existed was a plain fill. */
export function modelOf(id: ModelId | undefined): Model {
  return (id !== undefined && MODELS[id]) || FILL_MODEL;
}

export function modelPath(model: Model): string {
  return `/v1/${model.id}`;
}

/** The model's own request fields with the API's names, in the table's order. */
export function modelRequestFields(model: Model, values: ModelFieldValues = {}): Record<string, string | number> {
  const fields: Record<string, string | number> = {};
  for (const [ours, theirs] of Object.entries(model.fields) as [keyof ModelFieldValues, string][]) {
    const value = values[ours];
    if (value !== undefined) fields[theirs] = value;
  }
  return fields;
}
