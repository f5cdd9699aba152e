/**
 * The whole road of one message, in plain values: inputs read and validated -> images planned (mask from
 * shapes or pixels, crop, scale) -> job run -> result composed back into the original. Validation and image
 * preparation both happen before anything is queued or submitted, so bad input costs nothing.
 */
import { BflError, cancelledError, queueFullError } from '../errors';
import {
  composeResult,
  geometryMaskPng,
  makePreview,
  planInputs,
  type FillGeometry,
  type ImageLimits,
  type Preview,
} from '../image';
import type { FillResult, FillService } from './service';
import { resolveFillSettings, type FillSettings, type MessageFallbacks, type RawFillInputs } from '../fields';
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

export interface JobJournal {
  begin(settings: FillSettings, geometry: FillGeometry): JournalRecord;
}

export interface FillOutcome extends FillResult {
  /** What was sent and how the result was put back; for the preview. */
  geometry: FillGeometry;
}

export async function fill(
  service: FillService,
  request: FillRequest,
  signal: AbortSignal,
  onPhase: PhaseListener = () => undefined,
  imageLimits?: ImageLimits,
): Promise<FillOutcome> {
  const settings = resolveFillSettings(request.inputs, request.fallbacks);
  // A burst of messages must not decode dozens of big images only to be refused by a full queue.
  if (!service.slots.hasRoomAfter(service.arrivals.inLine)) throw queueFullError(service.slots.maxWaiting);
  onPhase({ phase: 'preparing' });
  const turn = service.arrivals.arrive(signal);
  let planned: Awaited<ReturnType<typeof planInputs>>;
  try {
    await turn.mayPrepare;
    planned = await planInputs(request.image, request.mask, settings.imageOptions, imageLimits);
    await turn.mayEnter;
  } catch (error) {
    // Closed while waiting for its turn: nothing was submitted.
    if (!signal.aborted) throw error;
    const reason: unknown = signal.reason;
    throw reason instanceof BflError ? reason : cancelledError(undefined, 'before-submit');
  } finally {
    // The job enters the queue in this same turn (service.run takes its place synchronously), before any later one.
    turn.leave();
  }
  const { images, geometry } = planned;
  let record: JournalRecord | undefined;
  try {
    const result = await service.run(
      { parameters: settings.parameters, images, timeoutMs: settings.timeoutMs },
      signal,
      onPhase,
      {
        onSubmitting: () => {
          record = request.journal?.begin(settings, geometry);
        },
        // Not awaited: the first poll need not wait for the disk.
        onSubmitted: (task, submittedAt) => void record?.submitted(task, submittedAt),
      },
    );
    onPhase({ phase: 'composing', taskId: result.metadata.id });
    const image = await composeResult(result.image, geometry, {
      outputFormat: settings.parameters.outputFormat,
      taskId: result.metadata.id,
    });
    // Composing cannot be interrupted; a node closed meanwhile still settles its message as cancelled.
    if (signal.aborted) throw cancelledError(result.metadata.id);
    return { ...result, image, geometry };
  } finally {
    // Before the result is sent: a job that ended is never resumed by a later restart.
    await record?.remove();
  }
}

export interface ResumedOutcome extends FillResult {
  /** Undefined when the journal kept no image to paste back into: the API's image as it came. */
  geometry: FillGeometry | undefined;
}

/** The rest of the road for a task submitted before a restart: poll, download, and paste back if it can. */
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
  const image = await composeResult(result.image, geometry, {
    outputFormat: entry.parameters.outputFormat,
    taskId: result.metadata.id,
  });
  return { ...result, image, geometry };
}

/** The workspace thumbnail of a finished fill, with the outline of the area that was filled. */
export async function previewOf(outcome: Pick<FillOutcome, 'image' | 'geometry'>): Promise<Preview> {
  return makePreview(outcome.image, await geometryMaskPng(outcome.geometry));
}
