/**
 * The whole road of one message, in plain values: inputs read and validated -> images prepared -> job run.
 * Validation and image preparation both happen before anything is queued or submitted, so bad input costs
 * nothing.
 */
import { queueFullError } from '../bfl/errors';
import { prepareFillImages, type ImageLimits } from '../image';
import type { FillResult, FillService } from './fill-service';
import { resolveFillSettings, type MessageFallbacks, type RawFillInputs } from './parameters';
import type { PhaseListener } from './phases';

export interface FillRequest {
  /** The node's fields, already evaluated from their TypedInputs. */
  inputs: RawFillInputs;
  /** msg.prompt and msg.seed, used when the node's field is empty. */
  fallbacks: MessageFallbacks;
  /** msg.payload */
  image: unknown;
  /** msg.mask; undefined means the image's alpha channel is the mask. */
  mask: unknown;
}

export async function fill(
  service: FillService,
  request: FillRequest,
  signal: AbortSignal,
  onPhase: PhaseListener = () => undefined,
  imageLimits?: ImageLimits,
): Promise<FillResult> {
  const settings = resolveFillSettings(request.inputs, request.fallbacks);
  // A burst of messages must not decode dozens of big images only to be refused by a full queue.
  if (!service.slots.hasRoom) throw queueFullError(service.slots.maxWaiting);
  onPhase({ phase: 'preparing' });
  const images = await prepareFillImages(request.image, request.mask, imageLimits);
  return service.run({ parameters: settings.parameters, images, timeoutMs: settings.timeoutMs }, signal, onPhase);
}
