/**
 * The `bfl-emulator` command: runs the emulator in the foreground so people can try the nodes offline. Parsing is
 * kept apart from running so it can be tested without starting servers.
 */
import { parseArgs } from 'node:util';
import { describeFault, FAULT_KINDS, toResolvedFault } from './fault-specs';
import { BflEmulator, SUBMIT_PATH } from './index';
import { DEFAULT_EMULATOR_KEY } from './key';
import { DIRECTIVES } from './scenarios';
import type { EmulatorOptions } from './types';

/** A fixed default port so a bfl-config node set up once keeps working across restarts. */
export const DEFAULT_CLI_PORT = 41800;

export const USAGE = `Usage: bfl-emulator [options]

Runs a local emulation of the Black Forest Labs FLUX.1 Fill [pro] API on loopback.

Options:
  --port N             API port (default ${DEFAULT_CLI_PORT}; 0 picks a free one)
  --cluster-port N     port of the polling ("cluster") origin (default: a free one)
  --delivery-port N    port of the result delivery origin (default: a free one)
  --host H             loopback address to listen on (default 127.0.0.1)
  --processing-ms N    how long a task stays Pending before it completes (default 1500)
  --processing-spread F  how much that varies per task, a fraction 0..1 (default 0; 0.1: ± 10%)
  --credits N          starting credits per key (default 1000)
  --key K              accept only this API key (repeat for several); default: any key of 8+ characters
  --fault-rate R       answer this share of requests (0..1) with a fault drawn from --faults (default 0)
  --faults LIST        the faults drawn, comma-separated specs (default: every kind on every endpoint),
                       e.g. poll:reset-before,download:break,submit:rate-limit-storm=2:x5
  --seed N             seed of the fault draws, to meet the same faults again (default: random, printed)
  --stall-ms N         how long a stall holds a request before it is reset (default 30000)
  --restart-ms N       how long a restart refuses connections (default 500)
  --quiet              do not log requests
  -h, --help           show this help

Prompt directives pick an outcome offline: ${DIRECTIVES.map((d) => `[emulate:${d}]`).join(' ')}
and faults of one task: [emulate:fault=poll:reset-after:x2,download:expired] (target:kind[=arg][:xN]).
and what happens to its webhook: [emulate:webhook=drop|duplicate|delay=ms|forge|legacy] (comma-separated).
Fault kinds: ${FAULT_KINDS.join(', ')}.
`;

export class CliUsageError extends Error {}

export interface CliArgs {
  help: boolean;
  quiet: boolean;
  options: EmulatorOptions;
}

function integer(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new CliUsageError(`--${name} must be an integer between ${min} and ${max}, got "${value}"`);
  }
  return n;
}

export function parseCliArgs(argv: readonly string[]): CliArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        'cluster-port': { type: 'string' },
        'delivery-port': { type: 'string' },
        host: { type: 'string' },
        'processing-ms': { type: 'string' },
        'processing-spread': { type: 'string' },
        credits: { type: 'string' },
        key: { type: 'string', multiple: true },
        'fault-rate': { type: 'string' },
        faults: { type: 'string' },
        seed: { type: 'string' },
        'stall-ms': { type: 'string' },
        'restart-ms': { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new CliUsageError(err instanceof Error ? err.message : String(err));
  }
  const credits = integer('credits', values.credits, 0, Number.MAX_SAFE_INTEGER);
  const options: EmulatorOptions = {
    host: values.host ?? '127.0.0.1',
    port: integer('port', values.port, 0, 65535) ?? DEFAULT_CLI_PORT,
    clusterPort: integer('cluster-port', values['cluster-port'], 0, 65535) ?? 0,
    deliveryPort: integer('delivery-port', values['delivery-port'], 0, 65535) ?? 0,
  };
  const processingMs = integer('processing-ms', values['processing-ms'], 0, 24 * 3600 * 1000);
  if (processingMs !== undefined) options.processingMs = processingMs;
  const spread = values['processing-spread'];
  if (spread !== undefined) {
    const n = Number(spread);
    if (spread.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
      throw new CliUsageError(`--processing-spread must be a number from 0 to 1, got "${spread}"`);
    }
    options.processingSpread = n;
  }
  if (credits !== undefined) options.defaultCredits = credits;
  if (values.key && values.key.length > 0) {
    options.keys = {};
    for (const key of values.key) {
      if (key.length < 8 || /\s/.test(key))
        throw new CliUsageError('--key must be at least 8 characters with no spaces');
      options.keys[key] = credits ?? 1000;
    }
  }
  Object.assign(options, faultOptions(values));
  return { help: values.help === true, quiet: values.quiet === true, options };
}

function faultOptions(values: Record<string, string | boolean | string[] | undefined>): EmulatorOptions {
  const text = (name: string) => {
    const value = values[name];
    return typeof value === 'string' ? value : undefined;
  };
  const options: EmulatorOptions = {};
  const rate = text('fault-rate');
  if (rate !== undefined) {
    const n = Number(rate);
    if (rate.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
      throw new CliUsageError(`--fault-rate must be a number from 0 to 1, got "${rate}"`);
    }
    options.faultRate = n;
  }
  const faults = text('faults');
  if (faults !== undefined) {
    const specs = faults.split(',').filter((spec) => spec.trim() !== '');
    if (specs.length === 0) throw new CliUsageError('--faults needs at least one fault');
    for (const spec of specs) {
      try {
        toResolvedFault(spec);
      } catch (err) {
        throw new CliUsageError(`--faults: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    options.faults = specs.map((spec) => spec.trim());
  }
  const seed = integer('seed', text('seed'), 0, 2 ** 32 - 1);
  if (seed !== undefined) options.seed = seed;
  const stallMs = integer('stall-ms', text('stall-ms'), 0, 24 * 3600 * 1000);
  if (stallMs !== undefined) options.stallMs = stallMs;
  const restartMs = integer('restart-ms', text('restart-ms'), 0, 3600 * 1000);
  if (restartMs !== undefined) options.restartMs = restartMs;
  return options;
}

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

function banner(emulator: BflEmulator, options: EmulatorOptions): string {
  const keyHint = options.keys
    ? `one of the ${Object.keys(options.keys).length} key(s) given with --key`
    : `any key of 8+ characters, e.g. ${DEFAULT_EMULATOR_KEY}`;
  return [
    'BFL emulator (FLUX.1 Fill [pro], Fill [pro] fine-tuned, Expand [pro]) is running on loopback.',
    `  API       ${emulator.apiUrl}   (submit: POST ${emulator.apiUrl}${SUBMIT_PATH}, -finetuned, /v1/flux-pro-1.0-expand)`,
    `  cluster   ${emulator.clusterUrl}   (polling_url origin)`,
    `  delivery  ${emulator.deliveryUrl}   (signed result URLs)`,
    '',
    'Point a bfl-config node at it:',
    '  Region    custom',
    `  Base URL  ${emulator.apiUrl}`,
    `  API key   ${keyHint}`,
    '',
    `Prompt directives: ${DIRECTIVES.map((d) => `[emulate:${d}]`).join(' ')} [emulate:fault=poll:reset-after]` +
      ' [emulate:webhook=drop]',
    ...faultLines(emulator, options),
    'Press Ctrl+C to stop.',
  ].join('\n');
}

/** What the faults of --fault-rate are and the seed that replays them, so a failed rehearsal can be repeated. */
function faultLines(emulator: BflEmulator, options: EmulatorOptions): string[] {
  if (!options.faultRate) return [];
  const percent = Math.round(options.faultRate * 1000) / 10;
  const drawn =
    options.faults?.map((f) => describeFault(toResolvedFault(f))).join(',') ?? 'every kind on every endpoint';
  return [`Faults: ${percent}% of requests, drawn from ${drawn} (--seed ${emulator.faultSeed} replays them)`];
}

/** Runs until SIGINT/SIGTERM; resolves with the exit code once every server is closed. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let args: CliArgs;
  try {
    args = parseCliArgs(argv);
  } catch (err) {
    if (!(err instanceof CliUsageError)) throw err;
    io.err(`bfl-emulator: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    io.out(USAGE);
    return 0;
  }
  const log = args.quiet ? undefined : (line: string) => io.out(`${new Date().toISOString()} ${line}`);
  let emulator: BflEmulator;
  try {
    emulator = await BflEmulator.start({ ...args.options, ...(log ? { log } : {}) });
  } catch (err) {
    io.err(`bfl-emulator: could not start: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  io.out(banner(emulator, args.options));
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        // A second Ctrl+C means "now".
        process.exit(130);
      }
      stopping = true;
      io.out(`Received ${signal}, stopping.`);
      void emulator.close().then(() => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve(0);
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
