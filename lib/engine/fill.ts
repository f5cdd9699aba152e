/**
 * The whole road of one message, in plain values: inputs read and validated -> images planned (mask from
 * shapes or pixels, crop, scale) -> job run -> result composed back into the original. Validation and image
 * preparation both happen before anything is queued or submitted, so bad input costs nothing.
 */
import { BflError, cancelledError, queueFullError } from '../errors';
import {
  composeJobResult,
  geometryMaskPng,
  isExpandGeometry,
  makePreview,
  makeThumbnail,
  planInputs,
  type FillGeometry,
  type ImageLimits,
  type JobGeometry,
  type Preview,
} from '../image';
import type { FillImages } from '../api/request-body';
import type { FillParameters } from '../api/types';
import type { FillResult, FillService } from './service';
import { resolveFillSettings, type MessageFallbacks, type RawFillInputs } from '../fields';
import type { JournalRecord, ResumableJob } from './journal';
import type { PhaseListener } from './phases';

export interface FillRequest {
  /** The node's fields (generation, mask and result options), already evaluated from their TypedInputs. */
  inputs: RawFillInputs;
  /** msg.prompt and msg.seed, used when the node's field is empty. */
  fallbacks: MessageFallbacks;
  /** msg.payload */
  image: unknown;
  /** msg.mask: an image, shapes, or undefined for the image's alpha channel. */
  mask: unknown;
  /** Keeps the job in the account's journal from its submit on, so a restart resumes it. */
  journal?: JobJournal;
}

/** A job's settings as the journal keeps them. */
export interface JournalledSettings {
  parameters: FillParameters;
  timeoutMs: number;
}

export interface JobJournal {
  begin(settings: JournalledSettings, geometry: JobGeometry): JournalRecord;
}

export interface FillOutcome extends FillResult {
  /** What was sent and how the result was put back; for the preview. */
  geometry: FillGeometry;
}

/** A job checked and its images prepared: what is submitted, and how its result is composed. */
export interface PlannedJob<G extends JobGeometry> {
  settings: JournalledSettings;
  images: FillImages;
  geometry: G;
}

export async function fill(
  service: FillService,
  request: FillRequest,
  signal: AbortSignal,
  onPhase: PhaseListener = () => undefined,
  imageLimits?: ImageLimits,
): Promise<FillOutcome> {
  const settings = resolveFillSettings(request.inputs, request.fallbacks);
  const { images, geometry } = await prepareInTurn(service, signal, onPhase, () =>
    planInputs(request.image, request.mask, settings.imageOptions, imageLimits),
  );
  return runPlanned(service, { settings, images, geometry }, request.journal, signal, onPhase);
}

/**
 * Prepares a message's images in its turn: messages enter the queue in the order they arrived, whichever
 * finishes preparing first, and only a few prepare at once (FillService.arrivals). A message that would find
 * the queue full is refused before anything is decoded.
 */
export async function prepareInTurn<T>(
  service: FillService,
  signal: AbortSignal,
  onPhase: PhaseListener,
  prepare: () => Promise<T>,
): Promise<T> {
  // A burst of messages must not decode dozens of big images only to be refused by a full queue.
  if (!service.slots.hasRoomAfter(service.arrivals.inLine)) throw queueFullError(service.slots.maxWaiting);
  onPhase({ phase: 'preparing' });
  const turn = service.arrivals.arrive(signal);
  try {
    await turn.mayPrepare;
    const prepared = await prepare();
    await turn.mayEnter;
    return prepared;
  } catch (error) {
    // Closed while waiting for its turn: nothing was submitted.
    if (!signal.aborted) throw error;
    const reason: unknown = signal.reason;
    throw reason instanceof BflError ? reason : cancelledError(undefined, 'before-submit');
  } finally {
    // The job enters the queue in this same turn (service.run takes its place synchronously), before any later one.
    turn.leave();
  }
}

/**
 * The road from a planned job on, for every model: queue, submit (journalled from then on), poll, download,
 * compose. The journal entry goes before the result is sent, so a job that ended is never resumed.
 */
export async function runPlanned<G extends JobGeometry>(
  service: FillService,
  job: PlannedJob<G>,
  journal: JobJournal | undefined,
  signal: AbortSignal,
  onPhase: PhaseListener,
): Promise<FillResult & { geometry: G }> {
  const { settings, images, geometry } = job;
  let record: JournalRecord | undefined;
  try {
    const result = await service.run(
      { parameters: settings.parameters, images, timeoutMs: settings.timeoutMs },
      signal,
      onPhase,
      {
        onSubmitting: () => {
          record = journal?.begin(settings, geometry);
        },
        // Not awaited: the first poll need not wait for the disk.
        onSubmitted: (task, submittedAt) => void record?.submitted(task, submittedAt),
      },
    );
    onPhase({ phase: 'composing', taskId: result.metadata.id });
    const image = await composeJobResult(result.image, geometry, {
      outputFormat: settings.parameters.outputFormat,
      taskId: result.metadata.id,
    });
    // Composing cannot be interrupted; a node closed meanwhile still settles its message as cancelled.
    if (signal.aborted) throw cancelledError(result.metadata.id);
    return { ...result, image, geometry };
  } finally {
    await record?.remove();
  }
}

export interface ResumedOutcome extends FillResult {
  /** Undefined when the journal kept no image to paste back into: the API's image as it came. */
  geometry: JobGeometry | undefined;
}

/** The rest of the road for a task of any model submitted before a restart: poll, download, paste back if it can. */
export async function resumeFill(
  service: FillService,
  job: ResumableJob,
  timeoutMs: number,
  signal: AbortSignal,
  onPhase: PhaseListener = () => undefined,
): Promise<ResumedOutcome> {
  const { entry, geometry } = job;
  const result = await service.resume(
    entry.task!,
    { parameters: entry.parameters, submittedAt: entry.submittedAt ?? entry.createdAt, timeoutMs },
    signal,
    onPhase,
  );
  if (!geometry) return { ...result, geometry };
  onPhase({ phase: 'composing', taskId: result.metadata.id });
  const image = await composeJobResult(result.image, geometry, {
    outputFormat: entry.parameters.outputFormat,
    taskId: result.metadata.id,
  });
  return { ...result, image, geometry };
}

/** The workspace thumbnail of a finished fill, with the outline of the area that was filled. */
export async function previewOf(outcome: { image: Buffer; geometry: JobGeometry }): Promise<Preview | undefined> {
  if (isExpandGeometry(outcome.geometry)) return undefined;
  return makePreview(outcome.image, await geometryMaskPng(outcome.geometry));
}

/** Longest side of the input thumbnail the dialog's mask painter draws on. */
export const INPUT_THUMBNAIL_SIDE = 640;

/** The input of a fill as the mask painter's background (upright, as shapes are placed on it). */
export async function inputThumbnailOf(geometry: FillGeometry): Promise<Buffer> {
  return makeThumbnail(geometry.source.data, INPUT_THUMBNAIL_SIDE);
}
