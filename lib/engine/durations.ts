/**
 * How long an account's tasks take, learned from its own tasks: per kind of task (model and output size), the
 * last few durations from acceptance to Ready. The estimate is a window between two quantiles, so a task that
 * took ten times as long (BFL busy, a retry storm) moves it little. Kept in `durations.json` in the account's
 * state directory so a restart does not start from nothing; bounded in kinds and in samples per kind.
 */
import { readFileSync } from 'node:fs';
import type { FinishWindow } from './schedule';
import { CoalescedWriter } from './state-file';

/** The name of an account's durations file in its state directory. */
export const DURATIONS_FILE = 'durations.json';

/** Samples kept per kind: enough for stable quantiles, few enough to follow a change of pace within minutes. */
export const SAMPLES_PER_KIND = 24;
/** Kinds kept: the least recently used is forgotten first. */
export const MAX_KINDS = 32;
/** Fewer samples than this estimate nothing: the first tasks use the first-task schedule. */
export const MIN_SAMPLES = 3;
/** A duration beyond this is not a task's duration but a clock jump or a resumed task. */
const MAX_SAMPLE_MS = 60 * 60 * 1000;
const LOW_QUANTILE = 0.1;
const HIGH_QUANTILE = 0.9;
/**
 * The window is widened on each side by this share of its width, or by 2/n of it with n samples when that is
 * more: a few samples rarely include the fastest and the slowest task (three span about half the true range),
 * so the window they span is too narrow. A few that happened to take about as long as each other say nothing
 * of the spread, so with n samples the window also reaches 30%/n of the median either side of it (10% with
 * three).
 */
const MARGIN = 0.1;
const MEDIAN_MARGIN = 0.3;

/** What a task is, for its duration: the model and the output's size, in steps of a quarter megapixel. */
export function taskKind(model: string, width: number, height: number): string {
  const quarters = Math.max(1, Math.round((width * height) / 250_000));
  return `${model}@${quarters / 4}MP`;
}

/** The q-quantile of sorted values, interpolated between neighbours. */
function quantile(sorted: readonly number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below);
}

function validSample(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 && value <= MAX_SAMPLE_MS;
}

export interface TaskDurationsOptions {
  /** Where they are kept; undefined: in memory only. */
  file?: string;
}

export class TaskDurations {
  /** Kind -> samples, oldest first; the Map's order is the kinds' last use, oldest first. */
  private readonly kinds = new Map<string, number[]>();
  /** Learned durations only make polling cheaper: a failed write is tried again at the next finished task. */
  private readonly writer: CoalescedWriter | undefined;

  constructor(options: TaskDurationsOptions = {}) {
    if (options.file === undefined) return;
    this.load(options.file);
    this.writer = new CoalescedWriter(
      options.file,
      () => `${JSON.stringify({ version: 1, kinds: Object.fromEntries(this.kinds) })}\n`,
    );
  }

  /** A finished task of `kind` took `durationMs` from acceptance to Ready. */
  record(kind: string, durationMs: number): void {
    if (!validSample(durationMs)) return;
    const samples = this.kinds.get(kind) ?? [];
    this.kinds.delete(kind);
    samples.push(Math.round(durationMs));
    if (samples.length > SAMPLES_PER_KIND) samples.splice(0, samples.length - SAMPLES_PER_KIND);
    this.kinds.set(kind, samples);
    while (this.kinds.size > MAX_KINDS) this.kinds.delete(this.kinds.keys().next().value!);
    this.writer?.changed();
  }

  /** Where a task of `kind` is expected to finish; undefined until enough of them have. */
  window(kind: string): FinishWindow | undefined {
    const samples = this.kinds.get(kind);
    if (!samples || samples.length < MIN_SAMPLES) return undefined;
    const sorted = [...samples].sort((a, b) => a - b);
    const low = quantile(sorted, LOW_QUANTILE);
    const high = quantile(sorted, HIGH_QUANTILE);
    const n = sorted.length;
    const margin = (high - low) * Math.max(MARGIN, 2 / n);
    const median = quantile(sorted, 0.5);
    const around = (median * MEDIAN_MARGIN) / n;
    return {
      earliestMs: Math.round(Math.max(0, Math.min(low - margin, median - around))),
      latestMs: Math.round(Math.max(high + margin, median + around)),
    };
  }

  /** Resolves once what was learned is on disk (or writing it failed: it is only an optimisation). */
  async flush(): Promise<void> {
    await this.writer?.flush();
  }

  private load(file: string): void {
    let content: unknown;
    try {
      content = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      // Missing or corrupt: learn again from the next tasks.
      return;
    }
    const kinds = (content as { kinds?: unknown } | null)?.kinds;
    if (!kinds || typeof kinds !== 'object') return;
    for (const [kind, samples] of Object.entries(kinds as Record<string, unknown>).slice(-MAX_KINDS)) {
      if (!Array.isArray(samples)) continue;
      const valid = samples.filter(validSample).slice(-SAMPLES_PER_KIND);
      if (valid.length > 0) this.kinds.set(kind, valid);
    }
  }
}
