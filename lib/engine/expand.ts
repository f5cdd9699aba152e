/**
 * The road of one expand (outpainting) message, in plain values: inputs read and validated -> the sides
 * worked out and checked, the image prepared -> the same road as a fill from there (./fill runPlanned) ->
 * the API's picture at the size asked for, with the original pasted back.
 */
import { resolveExpandSettings } from '../expand-settings';
import type { MessageFallbacks, RawExpandInputs } from '../fields';
import { planExpand, type ExpandGeometry, type ImageLimits } from '../image';
import { prepareInTurn, runPlanned, type JobJournal } from './fill';
import type { PhaseListener } from './phases';
import type { FillResult, FillService } from './service';

export interface ExpandRequest {
  /** The node's fields, already evaluated from their TypedInputs. */
  inputs: RawExpandInputs;
  /** msg.prompt and msg.seed when the node's field is empty; msg.expand in place of the node's sides. */
  fallbacks: MessageFallbacks & { expand?: unknown };
  /** msg.payload */
  image: unknown;
  journal?: JobJournal;
}

export interface ExpandOutcome extends FillResult {
  geometry: ExpandGeometry;
}

export async function expand(
  service: FillService,
  request: ExpandRequest,
  signal: AbortSignal,
  onPhase: PhaseListener = () => undefined,
  imageLimits?: ImageLimits,
): Promise<ExpandOutcome> {
  const settings = resolveExpandSettings(request.inputs, request.fallbacks);
  const planned = await prepareInTurn(service, signal, onPhase, () =>
    planExpand(request.image, settings.layout, settings.options, imageLimits),
  );
  const { sides } = planned;
  const parameters = { ...settings.parameters, modelFields: sides };
  return runPlanned(
    service,
    {
      settings: { parameters, timeoutMs: settings.timeoutMs },
      images: {
        image: planned.images.image,
        width: planned.images.width + sides.left + sides.right,
        height: planned.images.height + sides.top + sides.bottom,
      },
      geometry: planned.geometry,
    },
    request.journal,
    signal,
    onPhase,
  );
}
