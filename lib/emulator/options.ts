/**
 * Checking EmulatorOptions and filling in their defaults, all before a port is opened: a bad option must fail the
 * start, not a request later on.
 */
import { toResolvedFault } from './fault-specs';
import type { FaultPlanSettings } from './faults';
import { isLoopbackHost, type Origin } from './http';
import type { EmulatorOptions, Fault, WebhookScenario } from './types';
import type { EmulatedModel } from './validation';

/** BFL's list prices in credits: Fill [pro] 5, Fill [pro] fine-tuned 6, Expand [pro] 5. */
const LIST_PRICES: Readonly<Record<EmulatedModel, number>> = { fill: 5, finetuned: 6, expand: 5 };

/** The options the running emulator reads, defaults applied. */
export interface Config {
  processingMs: number;
  processingSpread: number;
  deliveryTtlMs: number;
  maxActivePerKey: number;
  retryAfterSeconds: number;
  /** What a task of each model costs (null: cost null, nothing charged). */
  costs: Readonly<Record<EmulatedModel, number | null>>;
  /** An expand's output sides are rounded down to a multiple of this. */
  outputSizeStep: number;
  resignOnPoll: boolean;
  webhookResponse: boolean;
  webhookStyle: 'current' | 'legacy';
  webhookDuplicates: boolean;
  webhook: WebhookScenario;
  stallMs: number;
  restartMs: number;
  log: ((line: string) => void) | undefined;
}

export interface StartSettings {
  host: string;
  ports: Record<Origin, number>;
  keys: Record<string, number> | undefined;
  defaultCredits: number;
  config: Config;
  faults: FaultPlanSettings;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`BflEmulator: ${name} must be a non-negative number`);
  }
  return value;
}

/** costPerImage, when given, is every model's price; else each model costs its list price. */
function costsOf(costPerImage: number | null | undefined): Record<EmulatedModel, number | null> {
  if (costPerImage === undefined) return { ...LIST_PRICES };
  const cost = costPerImage === null ? null : nonNegative('costPerImage', costPerImage, 5);
  return { fill: cost, finetuned: cost, expand: cost };
}

function port(name: string, value: number | undefined): number {
  const p = value ?? 0;
  if (!Number.isInteger(p) || p < 0 || p > 65535) throw new RangeError(`BflEmulator: ${name} must be a port number`);
  return p;
}

export function parseOptions(options: EmulatorOptions): StartSettings {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackHost(host)) {
    throw new Error(`BflEmulator listens on loopback only (127.0.0.0/8, ::1, localhost), not on "${host}"`);
  }
  const config: Config = {
    processingMs: nonNegative('processingMs', options.processingMs, 1500),
    processingSpread: nonNegative('processingSpread', options.processingSpread, 0),
    deliveryTtlMs: nonNegative('deliveryTtlMs', options.deliveryTtlMs, 600_000),
    maxActivePerKey: nonNegative('maxActivePerKey', options.maxActivePerKey, 24),
    retryAfterSeconds: nonNegative('retryAfterSeconds', options.retryAfterSeconds, 1),
    costs: costsOf(options.costPerImage),
    outputSizeStep: Math.max(1, Math.floor(nonNegative('outputSizeStep', options.outputSizeStep, 1))),
    resignOnPoll: options.resignOnPoll ?? true,
    webhookResponse: options.webhookResponse ?? false,
    webhookStyle: options.webhookStyle ?? 'current',
    webhookDuplicates: options.webhookDuplicates ?? false,
    webhook: { ...options.webhook },
    stallMs: nonNegative('stallMs', options.stallMs, 30_000),
    restartMs: nonNegative('restartMs', options.restartMs, 500),
    log: options.log,
  };
  if (config.processingSpread > 1) throw new RangeError('BflEmulator: processingSpread must be between 0 and 1');
  const defaultCredits = nonNegative('defaultCredits', options.defaultCredits, 1000);
  const ports = {
    api: port('port', options.port),
    cluster: port('clusterPort', options.clusterPort),
    delivery: port('deliveryPort', options.deliveryPort),
  };
  return { host, ports, keys: options.keys, defaultCredits, config, faults: faultSettings(options, config) };
}

function faultSettings(options: EmulatorOptions, config: Config): FaultPlanSettings {
  const rate = nonNegative('faultRate', options.faultRate, 0);
  if (rate > 1) throw new RangeError('BflEmulator: faultRate must be between 0 and 1');
  const seed = options.seed;
  if (seed !== undefined && (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32)) {
    throw new RangeError('BflEmulator: seed must be an integer from 0 to 2^32 - 1');
  }
  let pool: FaultPlanSettings['pool'];
  if (options.faults !== undefined) {
    if (!Array.isArray(options.faults)) throw new RangeError('BflEmulator: faults must be a list of faults');
    pool = (options.faults as readonly (string | Fault)[]).map((fault) => {
      try {
        return toResolvedFault(fault);
      } catch (err) {
        throw new RangeError(`BflEmulator: faults: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
  }
  return { rate, pool, seed, retryAfterSeconds: config.retryAfterSeconds };
}
