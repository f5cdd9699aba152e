import { inspect } from 'node:util';
import { text, type Text } from '../messages';
import type { ImageLimits } from './types';

export const DEFAULT_MAX_INPUT_BYTES = 50 * 1024 * 1024;
export const DEFAULT_MAX_INPUT_PIXELS = 40_000_000;

export type ResolvedLimits = Required<ImageLimits>;

/**
 * Limits come from the engine, not from the flow, so a bad value is a programming error: it is thrown as a
 * plain TypeError (sharp's style) rather than blamed on the message.
 */
export function resolveLimits(limits: ImageLimits = {}): ResolvedLimits {
  if (limits === null || typeof limits !== 'object') {
    throw new TypeError(`Expected an object for limits but received ${String(limits)}`);
  }
  return {
    maxInputBytes: positiveInteger('maxInputBytes', limits.maxInputBytes, DEFAULT_MAX_INPUT_BYTES),
    maxInputPixels: positiveInteger('maxInputPixels', limits.maxInputPixels, DEFAULT_MAX_INPUT_PIXELS),
  };
}

function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(`Expected a positive integer for limits.${name} but received ${inspect(value)}`);
  }
  return value;
}

/** A byte count for messages, e.g. "3.5 MiB". */
export function formatBytes(bytes: number): Text {
  if (bytes < 1024) return text('size.bytes', { count: bytes });
  if (bytes < 1024 * 1024) return text('size.kib', { value: trimmed(bytes / 1024) });
  return text('size.mib', { value: trimmed(bytes / (1024 * 1024)) });
}

/** A pixel count for messages, e.g. "12 MP". */
export function formatPixels(pixels: number): Text {
  return pixels >= 1_000_000
    ? text('size.megapixels', { value: trimmed(pixels / 1_000_000) })
    : text('size.pixels', { count: pixels });
}

function trimmed(value: number): string {
  return value.toFixed(1).replace(/\.0$/, '');
}
