/** Shapes of the BFL API as this client uses them: the fill's parameters, the submit answer, a poll's state. */
import type { ImageFormat } from '../image/types';
import type { ModelFieldValues, ModelId } from './models';

/** The API's output_format: the same formats it takes as input. */
export type OutputFormat = ImageFormat;

/**
 * The parameters of one task, validated and in the API's units: the generation fields every FLUX.1 tool shares,
 * and the model with its own fields (a fine-tune, the sides of an expand). Kept in the journal as they are.
 */
export interface FillParameters {
  /** undefined: flux-pro-1.0-fill (also what a journal entry written before models existed means). */
  model?: ModelId;
  /** The model's own fields (lib/api/models.ts). */
  modelFields?: ModelFieldValues;
  prompt: string;
  steps: number;
  guidance: number;
  /** undefined: the API picks a random seed. */
  seed: number | undefined;
  outputFormat: OutputFormat;
  safetyTolerance: number;
  promptUpsampling: boolean;
}

/** What a submit (`POST /v1/<model>`) answers on success. */
export interface SubmittedTask {
  id: string;
  pollingUrl: string;
  cost: number | null;
  inputMp: number | null;
  outputMp: number | null;
  /** Set by the engine when the submit asked for a webhook: the job's correlation token in its webhook_url. */
  webhookToken?: string;
}

/** The part of a Ready poll this client uses. */
export interface ReadyResult {
  sampleUrl: string;
  prompt: string | undefined;
  seed: number | undefined;
  /** Seconds BFL reports for the generation, when it does. */
  duration: number | undefined;
  /** When BFL says the task finished: `result.end_time`, seconds since the epoch (BFL's clock). */
  endTime: number | undefined;
  /** A top-level `cost` seen on Ready for some models. */
  cost: number | undefined;
}

/** One poll answer that is not terminal. */
export interface InProgress {
  status: string;
  /** 0..1 when the API reports it. */
  progress: number | undefined;
}

export type PollOutcome = { kind: 'ready'; result: ReadyResult } | { kind: 'in-progress'; state: InProgress };
