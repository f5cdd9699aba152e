/**
 * The bfl-expand node's inputs checked, from the table of fields (./fields): the generation fields as for a
 * fill, and the layout of the expanded picture: the node's four sides, an aspect ratio to reach from an anchor,
 * or msg.expand. Anything unusable is a BFL_INVALID_INPUT before anything is submitted; whether the sides fit
 * the image and the API is checked once the image's size is known (lib/image/expand-plan.ts).
 */
import { EXPAND_MODEL } from './api/models';
import type { FillParameters } from './api/types';
import {
  EXPAND_FIELDS,
  readBoolean,
  readChoice,
  readNumber,
  readText,
  refuse,
  resolveGeneration,
  timeoutMsOf,
  type ExpandFieldName,
  type MessageFallbacks,
  type RawExpandInputs,
  type Subject,
} from './fields';
import type { Anchor, ExpandLayout, ExpandOptions, Sides } from './image';
import { describeValue } from './values';

const field = (name: ExpandFieldName): Subject => ({ field: name });

export interface ExpandSettings {
  /** Without the sides yet: a ratio needs the image's size first. */
  parameters: FillParameters;
  timeoutMs: number;
  layout: ExpandLayout;
  options: ExpandOptions;
}

const SIDE_NAMES = ['top', 'bottom', 'left', 'right'] as const;
const RATIO = /^\s*(\d+(?:\.\d+)?)\s*(?:[:/x×]\s*(\d+(?:\.\d+)?)\s*)?$/i;
/** Ratios outside 1:10 .. 10:1 are surely a typo, not a picture. */
const MAX_RATIO = 10;

function readAspectRatio(value: unknown, subject: Subject): { width: number; height: number } | undefined {
  const given = readText(EXPAND_FIELDS.aspectRatio, value, subject).trim();
  if (given === '') return undefined;
  const match = RATIO.exec(given);
  const width = match ? Number(match[1]) : NaN;
  const height = match?.[2] !== undefined ? Number(match[2]) : 1;
  const ratio = width / height;
  if (ratio >= 1 / MAX_RATIO && ratio <= MAX_RATIO) return { width, height };
  refuse('aspectRatio', subject, describeValue(value));
}

/** msg.expand: `{top, bottom, left, right}` (sides left out are 0), in place of the node's layout. */
function readMessageSides(value: unknown): Sides {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Buffer.isBuffer(value)) {
    refuse('expandObject', { property: 'msg.expand' }, describeValue(value));
  }
  const given = value as Record<string, unknown>;
  const sides = {} as Sides;
  for (const side of SIDE_NAMES) {
    sides[side] = readNumber(EXPAND_FIELDS[side], given[side], { property: `msg.expand.${side}` })!;
  }
  return sides;
}

/** Every input of an expand checked, in the order of its dialog; msg.expand, when set, gives the sides. */
export function resolveExpandSettings(
  inputs: RawExpandInputs,
  fallbacks: MessageFallbacks & { expand?: unknown } = {},
): ExpandSettings {
  let layout: ExpandLayout;
  if (fallbacks.expand !== undefined && fallbacks.expand !== null) {
    layout = { sides: readMessageSides(fallbacks.expand) };
  } else {
    const sides = {} as Sides;
    for (const side of SIDE_NAMES) sides[side] = readNumber(EXPAND_FIELDS[side], inputs[side], field(side))!;
    const aspectRatio = readAspectRatio(inputs.aspectRatio, field('aspectRatio'));
    const anchor = readChoice(EXPAND_FIELDS.anchor, inputs.anchor, field('anchor')) as Anchor;
    layout = aspectRatio ? { aspectRatio, anchor } : { sides };
  }
  const parameters = { model: EXPAND_MODEL.id, ...resolveGeneration(inputs, fallbacks) };
  return {
    parameters,
    timeoutMs: timeoutMsOf(inputs),
    layout,
    options: {
      pasteBack: readBoolean(EXPAND_FIELDS.pasteBack, inputs.pasteBack, field('pasteBack')),
      seamFeather: readNumber(EXPAND_FIELDS.seamFeather, inputs.seamFeather, field('seamFeather'))!,
    },
  };
}
