/**
 * The fault vocabulary: which kind applies to which endpoint, each kind's arguments and their defaults, and the
 * one text form (`poll:status=503:x3`) that prompt directives, the faults option and the CLI share, so a fault
 * rehearsed in a flow can be replayed from the command line as it is written.
 */
import { TERMINAL_STATUSES } from './scenarios';
import type { Fault, FaultKind, FaultTarget, FaultVariant } from './types';

export const FAULT_TARGETS: readonly FaultTarget[] = ['submit', 'poll', 'download', 'credits'];

const EVERY: readonly FaultTarget[] = FAULT_TARGETS;

/** The endpoints each kind applies to: a JSON fault means nothing to an image download and the reverse. */
export const FAULT_APPLIES_TO: Readonly<Record<FaultKind, readonly FaultTarget[]>> = {
  status: EVERY,
  'reset-before': EVERY,
  'reset-after': EVERY,
  stall: EVERY,
  'malformed-json': ['submit', 'poll', 'credits'],
  'unknown-status': ['poll'],
  break: ['download'],
  truncated: ['download'],
  expired: ['download'],
  '500-after-create': ['submit'],
  'rate-limit-storm': EVERY,
  restart: EVERY,
  delay: EVERY,
};

export const FAULT_KINDS = Object.keys(FAULT_APPLIES_TO) as FaultKind[];

/** The variants a kind takes, the first being its default. */
const VARIANTS: Partial<Record<FaultKind, readonly FaultVariant[]>> = {
  stall: ['headers', 'body'],
  truncated: ['length', 'short'],
  restart: ['keep', 'forget'],
};

/** Longer names people may write, as the issue and the README's table spell the kinds. */
const ALIASES: Readonly<Record<string, FaultKind>> = {
  'download-break': 'break',
  'download-truncated': 'truncated',
  'submit-500-after-create': '500-after-create',
  drop: 'reset-before',
};

const DEFAULT_STORM_COUNT = 5;
const DEFAULT_DELAY_MS = 1000;
const MAX_DELAY_MS = 600_000;
const MAX_COUNT = 10_000;

/** A fault with every argument filled in; `count` is how many requests it answers in a row. */
export interface ResolvedFault {
  target: FaultTarget;
  kind: FaultKind;
  count: number;
  /** The answered status of `status`, `expired`, `500-after-create` and `rate-limit-storm` (429); else null. */
  status: number | null;
  /** Retry-After seconds; null sends none (for a storm: filled in from the options when it is injected). */
  retryAfterSeconds: number | null;
  variant: FaultVariant | null;
  /** The word an `unknown-status` poll answers. */
  word: string | null;
  /** How long a `delay` holds its answer back; else null. */
  delayMs: number | null;
}

export class FaultSpecError extends RangeError {}

function fail(message: string): never {
  throw new FaultSpecError(message);
}

function checkStatus(kind: FaultKind, status: number | 'drop' | undefined): number | null {
  const given = status === 'drop' ? undefined : status;
  switch (kind) {
    case 'status':
      if (given === undefined) return 503;
      if (!Number.isInteger(given) || given < 100 || given > 599) {
        fail(`fault status must be an HTTP status or 'drop', got ${String(status)}`);
      }
      return given;
    case 'expired':
      if (given === undefined) return 403;
      if (given !== 403 && given !== 404) fail(`an expired delivery URL answers 403 or 404, not ${String(given)}`);
      return given;
    case '500-after-create':
      if (given === undefined) return 500;
      if (!Number.isInteger(given) || given < 500 || given > 599) {
        fail(`500-after-create answers a 5xx status, not ${String(given)}`);
      }
      return given;
    case 'rate-limit-storm':
      return 429;
    default:
      if (given !== undefined) fail(`a ${kind} fault takes no status`);
      return null;
  }
}

function checkWord(word: string | undefined): string {
  if (word === undefined) return 'Queued';
  if (!/^[A-Za-z][A-Za-z ]{0,39}$/.test(word)) fail(`an unknown-status word is letters only, got "${word}"`);
  // A terminal word would end the task for the client, which is not what this fault rehearses.
  if (TERMINAL_STATUSES.has(word)) fail(`"${word}" is a terminal status, not an in-progress word`);
  return word;
}

/** Checks a Fault and fills in its defaults; throws a FaultSpecError (a RangeError) for nonsense. */
export function resolveFault(fault: Fault): ResolvedFault {
  const { target } = fault;
  if (!FAULT_TARGETS.includes(target)) fail(`fault target must be one of ${FAULT_TARGETS.join(', ')}`);
  if (fault.kind === undefined && fault.status === undefined) fail('a fault needs a kind or a status');
  const kind: FaultKind = fault.kind ?? (fault.status === 'drop' ? 'reset-before' : 'status');
  if (!(kind in FAULT_APPLIES_TO)) fail(`unknown fault kind "${String(kind)}"`);
  if (!FAULT_APPLIES_TO[kind].includes(target)) {
    fail(`a ${kind} fault applies to ${FAULT_APPLIES_TO[kind].join(', ')}, not to ${target}`);
  }
  if (fault.kind !== undefined && fault.status === 'drop' && kind !== 'reset-before') {
    fail(`status 'drop' is a reset-before fault, not ${kind}`);
  }
  const count = fault.count ?? (kind === 'rate-limit-storm' ? DEFAULT_STORM_COUNT : 1);
  if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) {
    fail('fault count must be a positive integer');
  }
  const retry = fault.retryAfterSeconds;
  if (retry !== undefined && (typeof retry !== 'number' || !Number.isFinite(retry) || retry < 0)) {
    fail('retryAfterSeconds must be a non-negative number');
  }
  if (retry !== undefined && kind !== 'status' && kind !== 'rate-limit-storm') {
    fail(`a ${kind} fault sends no Retry-After`);
  }
  const variants = VARIANTS[kind];
  if (fault.variant !== undefined && !variants?.includes(fault.variant)) {
    fail(`a ${kind} fault has ${variants ? `the variants ${variants.join(', ')}` : 'no variants'}`);
  }
  if (fault.word !== undefined && kind !== 'unknown-status') fail(`a ${kind} fault takes no word`);
  const delay = fault.delayMs;
  if (delay !== undefined && kind !== 'delay') fail(`a ${kind} fault takes no delay`);
  if (delay !== undefined && (!Number.isInteger(delay) || delay < 0 || delay > MAX_DELAY_MS)) {
    fail(`a delay is a whole number of milliseconds from 0 to ${MAX_DELAY_MS}`);
  }
  return {
    target,
    kind,
    count,
    status: checkStatus(kind, fault.status),
    retryAfterSeconds: retry ?? null,
    variant: fault.variant ?? variants?.[0] ?? null,
    word: kind === 'unknown-status' ? checkWord(fault.word) : null,
    delayMs: kind === 'delay' ? (delay ?? DEFAULT_DELAY_MS) : null,
  };
}

/** The fault's text form with its arguments spelled out and without its count: what the fault log shows. */
export function describeFault(fault: ResolvedFault): string {
  let arg: string | number | null = null;
  if (fault.kind === 'rate-limit-storm') arg = fault.retryAfterSeconds;
  else if (fault.kind === 'unknown-status') arg = fault.word;
  else if (fault.kind === 'delay') arg = fault.delayMs;
  else if (fault.variant !== null) arg = fault.variant;
  else if (fault.status !== null) arg = fault.status;
  return `${fault.target}:${fault.kind}${arg === null ? '' : `=${arg}`}`;
}

/**
 * `target:kind[=arg][:xN]`, e.g. `poll:reset-after`, `poll:status=503:x3` (or `poll:503:x3`), `download:expired=404`,
 * `submit:rate-limit-storm=2:x10`, `download:truncated=short`, `poll:unknown-status=Reasoning`, `poll:restart=forget`,
 * `submit:delay=1500`.
 * The count may also follow a space or stand right after the kind (`poll:503x3`).
 */
const SPEC = /^([a-z]+):([a-z0-9-]+?)(?:=([A-Za-z0-9.]+?))?(?:[:\s]*x(\d+))?$/i;

export function parseFaultSpec(text: string): Fault {
  const match = SPEC.exec(text.trim());
  if (!match) fail(`"${text}" is not a fault (target:kind[=arg][:xN], e.g. poll:reset-after:x2)`);
  const target = match[1]!.toLowerCase() as FaultTarget;
  const name = match[2]!.toLowerCase();
  const arg = match[3];
  const fault: Fault = { target };
  if (/^\d{3}$/.test(name)) {
    if (arg !== undefined) fail(`"${text}": a status fault takes no further argument`);
    fault.kind = 'status';
    fault.status = Number(name);
  } else {
    const kind = ALIASES[name] ?? (name as FaultKind);
    if (!(kind in FAULT_APPLIES_TO)) fail(`"${text}": unknown fault kind "${name}" (kinds: ${FAULT_KINDS.join(', ')})`);
    fault.kind = kind;
    if (arg !== undefined) applyArgument(fault, kind, arg, text);
  }
  if (match[4] !== undefined) fault.count = Number(match[4]);
  return fault;
}

function applyArgument(fault: Fault, kind: FaultKind, arg: string, text: string): void {
  switch (kind) {
    case 'status':
    case 'expired':
    case '500-after-create':
      if (!/^\d{3}$/.test(arg)) fail(`"${text}": ${kind} takes an HTTP status`);
      fault.status = Number(arg);
      return;
    case 'rate-limit-storm':
      if (!/^\d+(\.\d+)?$/.test(arg)) fail(`"${text}": rate-limit-storm takes the Retry-After in seconds`);
      fault.retryAfterSeconds = Number(arg);
      return;
    case 'unknown-status':
      fault.word = arg.charAt(0).toUpperCase() + arg.slice(1);
      return;
    case 'delay':
      if (!/^\d+$/.test(arg)) fail(`"${text}": delay takes milliseconds`);
      fault.delayMs = Number(arg);
      return;
    default:
      if (!VARIANTS[kind]) fail(`"${text}": a ${kind} fault takes no argument`);
      fault.variant = arg.toLowerCase() as FaultVariant;
  }
}

/** A Fault, or its text form, checked and resolved. */
export function toResolvedFault(fault: Fault | string): ResolvedFault {
  return resolveFault(typeof fault === 'string' ? parseFaultSpec(fault) : fault);
}

/**
 * Every failing kind on every endpoint it applies to, in each variant: what `faultRate` draws from by default. A
 * delay is left out: its answer is correct, only late, and rehearsing lateness is asked for by name.
 */
export function everyFault(): ResolvedFault[] {
  const all: ResolvedFault[] = [];
  for (const kind of FAULT_KINDS) {
    if (kind === 'delay') continue;
    const variants = VARIANTS[kind] ?? [undefined];
    const statuses = kind === 'expired' ? [403, 404] : [undefined];
    for (const target of FAULT_APPLIES_TO[kind]) {
      for (const variant of variants) {
        for (const status of statuses) all.push(resolveFault({ target, kind, variant, status }));
      }
    }
  }
  return all;
}

const DIRECTIVE = /\[emulate:fault=([^\]]*)\]/gi;

/**
 * The faults a prompt asks for with `[emulate:fault=spec,spec...]` (several markers allowed), in order, and the
 * specs it could not read, so the emulator can say why a directive did nothing.
 */
export function promptFaults(prompt: string): { faults: ResolvedFault[]; refused: string[] } {
  const faults: ResolvedFault[] = [];
  const refused: string[] = [];
  for (const match of prompt.matchAll(DIRECTIVE)) {
    for (const spec of match[1]!.split(',')) {
      if (spec.trim() === '') continue;
      try {
        faults.push(toResolvedFault(spec));
      } catch (err) {
        refused.push(err instanceof Error ? err.message : String(err));
      }
    }
  }
  return { faults, refused };
}
