/**
 * The models this package submits to: each one's endpoint and list price, so that a new model is a row here.
 * The list price counts against the daily credit limit whenever the submit answer does not say what a task
 * cost.
 */
export interface Model {
  /** The API's name for it, which is also its path below /v1/. */
  readonly id: string;
  /** Credits per task as BFL lists them. */
  readonly listPrice: number;
}

/** FLUX.1 Fill [pro]: 5 credits ($0.05) per image. */
export const FILL_MODEL: Model = { id: 'flux-pro-1.0-fill', listPrice: 5 };

export function modelPath(model: Model): string {
  return `/v1/${model.id}`;
}
