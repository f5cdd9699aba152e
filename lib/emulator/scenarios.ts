/**
 * What happens to a submitted task. Tests script it with nextTask()/setDefaultScenario(); people running the CLI
 * offline script it from the prompt with `[emulate:<outcome>]` directives, since they have no API to call.
 */
import type { TaskOutcome, TaskScenario, WebhookScenario } from './types';

export interface ResolvedScenario {
  outcome: TaskOutcome;
  processingMs: number;
  inProgressStatus: 'Pending' | 'Reasoning' | 'Generating';
  progress: boolean;
  moderationReasons: string[];
  cost: number | null;
  webhook: WebhookScenario;
}

export const DIRECTIVES = [
  'request-moderated',
  'content-moderated',
  'error',
  'failed',
  'stuck',
  'not-found',
  'slow',
] as const;

export type Directive = (typeof DIRECTIVES)[number];

const SLOW_FACTOR = 4;

export function promptDirectives(prompt: string): Directive[] {
  const found: Directive[] = [];
  for (const match of prompt.matchAll(/\[emulate:([a-z-]+)\]/gi)) {
    const word = match[1]!.toLowerCase() as Directive;
    if ((DIRECTIVES as readonly string[]).includes(word) && !found.includes(word)) found.push(word);
  }
  return found;
}

const WEBHOOK_DIRECTIVE = /\[emulate:webhook=([^\]]*)\]/gi;
const DEFAULT_WEBHOOK_DELAY_MS = 2_000;

/**
 * `[emulate:webhook=drop|duplicate|forge|legacy|current|delay[=ms]]`, comma-separated, several markers allowed;
 * words it does not know are ignored. Undefined when the prompt has none.
 */
export function webhookDirectives(prompt: string): WebhookScenario | undefined {
  let plan: WebhookScenario | undefined;
  for (const match of prompt.matchAll(WEBHOOK_DIRECTIVE)) {
    plan ??= {};
    for (const word of match[1]!.split(',').map((w) => w.trim().toLowerCase())) {
      const [name, arg] = word.split('=');
      if (name === 'drop') plan.drop = true;
      else if (name === 'duplicate') plan.duplicate = true;
      else if (name === 'forge') plan.forge = true;
      else if (name === 'legacy' || name === 'current') plan.style = name;
      else if (name === 'delay') {
        const ms = Number(arg);
        plan.delayMs = arg !== undefined && Number.isFinite(ms) && ms >= 0 ? ms : DEFAULT_WEBHOOK_DELAY_MS;
      }
    }
  }
  return plan;
}

/** Scenario precedence: a queued nextTask() scenario, else prompt directives; both over the default scenario. */
export function resolveScenario(
  base: { processingMs: number; cost: number | null; webhook?: WebhookScenario },
  defaults: TaskScenario,
  queued: TaskScenario | undefined,
  prompt: string,
): ResolvedScenario {
  const merged: TaskScenario = { ...defaults };
  if (queued) Object.assign(merged, stripUndefined(queued));
  else {
    const directives = promptDirectives(prompt);
    const outcome = directives.find((d): d is Exclude<Directive, 'slow'> => d !== 'slow');
    if (outcome) merged.outcome = outcome;
    if (directives.includes('slow')) merged.processingMs = (merged.processingMs ?? base.processingMs) * SLOW_FACTOR;
    const webhook = webhookDirectives(prompt);
    if (webhook) merged.webhook = { ...merged.webhook, ...webhook };
  }
  return {
    outcome: merged.outcome ?? 'ready',
    processingMs: Math.max(0, merged.processingMs ?? base.processingMs),
    inProgressStatus: merged.inProgressStatus ?? 'Pending',
    progress: merged.progress ?? false,
    moderationReasons: merged.moderationReasons ?? ['Sexual Content'],
    cost: merged.cost !== undefined ? merged.cost : base.cost,
    webhook: { ...base.webhook, ...merged.webhook },
  };
}

function stripUndefined(scenario: TaskScenario): TaskScenario {
  return Object.fromEntries(Object.entries(scenario).filter(([, v]) => v !== undefined)) as TaskScenario;
}

/** The scenarios tests scripted: one-shot nextTask() ones, first in first out, over a default for every task. */
export class ScenarioQueue {
  private queued: TaskScenario[] = [];
  private defaults: TaskScenario = {};

  push(scenario: TaskScenario): void {
    this.queued.push({ ...scenario });
  }

  setDefault(scenario: TaskScenario): void {
    this.defaults = { ...scenario };
  }

  /** The next task's scenario; it stays queued until take(), so a submit that is refused does not use it up. */
  peek(
    base: { processingMs: number; cost: number | null; webhook?: WebhookScenario },
    prompt: string,
  ): ResolvedScenario {
    return resolveScenario(base, this.defaults, this.queued[0], prompt);
  }

  take(): void {
    this.queued.shift();
  }

  clear(): void {
    this.queued = [];
    this.defaults = {};
  }
}

/** Terminal status words exactly as BFL spells them ('Failed' is the non-enum word some docs loops test for). */
export const STATUS = {
  ready: 'Ready',
  requestModerated: 'Request Moderated',
  contentModerated: 'Content Moderated',
  error: 'Error',
  failed: 'Failed',
  notFound: 'Task not found',
} as const;

export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(Object.values(STATUS));

export function errorDetails(outcome: 'error' | 'failed'): Record<string, unknown> {
  return outcome === 'error'
    ? { message: 'An internal error occurred while generating the image (emulated).' }
    : { message: 'The task failed during processing (emulated).' };
}

const UPSAMPLING_PHRASES = [
  'highly detailed, natural lighting',
  'seamless blend with the surrounding image, photorealistic',
  'sharp focus, consistent perspective and shadows',
  'rich texture, soft ambient light',
];

/** The real API rewrites the prompt when upsampling; a deterministic suffix lets tests see the used prompt differ. */
export function upsamplePrompt(prompt: string, seed: number): string {
  const phrase = UPSAMPLING_PHRASES[Math.abs(Math.trunc(seed)) % UPSAMPLING_PHRASES.length]!;
  return prompt.trim() === '' ? phrase : `${prompt}, ${phrase}`;
}
