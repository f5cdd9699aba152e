/**
 * An account as a bfl-config node describes it: region, base URL, key and concurrency, turned into a ready
 * FillService. The `emulator` region leases the built-in emulator (./local-emulator).
 */
import { join } from 'node:path';
import { cancelledError, emulatorStartError, invalidInput, noKeyError } from '../errors';
import {
  bflRegionEndpoint,
  customEndpoint,
  emulatorEndpoint,
  normaliseBaseUrl,
  type ApiEndpoint,
  type Region,
} from '../api/regions';
import type { RetryPolicy } from '../api/retry';
import type { BflEmulator, EmulatorOptions } from '../emulator';
import { DEFAULT_EMULATOR_KEY } from '../emulator/key';
import { CONFIG_FIELDS, readBoolean, readChoice, readNumber } from '../fields';
import { text } from '../messages';
import { FillService } from './service';
import { SpendLedger } from './budget';
import { DURATIONS_FILE, TaskDurations } from './durations';
import { Journal, type JournalEntry } from './journal';
import { leaseEmulator, runningLocalEmulator } from './local-emulator';
import type { PollSchedule } from './schedule';

export interface AccountSettings {
  region: unknown;
  baseUrl: unknown;
  apiKey: unknown;
  maxConcurrent: unknown;
  resumeJobs?: unknown;
  dailyCreditLimit?: unknown;
}

export interface AccountTuning {
  retry?: Partial<RetryPolicy>;
  pollSchedule?: Partial<PollSchedule>;
  maxQueued?: number;
  /** Options for the in-process emulator of the `emulator` region (first user decides). */
  emulator?: EmulatorOptions;
  /**
   * A directory of this account's own (in the Node-RED user directory) for what must outlive the process:
   * the journal of jobs in flight, today's spend, and how long its tasks take. Undefined: kept in memory only.
   */
  stateDir?: string;
  /** The journal's cap on disk space (default DEFAULT_JOURNAL_CAP_BYTES). */
  journalCapBytes?: number;
  /** A journal write failed: the job goes on, but would not survive a restart. */
  onJournalError?: (error: unknown) => void;
}

export interface ResolvedAccount {
  region: Region;
  /** Undefined for the emulator region until it has started. */
  baseUrl: string | undefined;
  apiKey: string;
  maxConcurrent: number;
  resumeJobs: boolean;
  /** Credits per UTC day; undefined: no limit. */
  dailyCreditLimit: number | undefined;
}

/** Checks the config node's settings; problems are errors a user fixes in the config dialog. */
export function resolveAccount(settings: AccountSettings): ResolvedAccount {
  const region = readChoice(CONFIG_FIELDS.region, settings.region, { field: 'region' }) as Region;
  const apiKey = typeof settings.apiKey === 'string' ? settings.apiKey.trim() : '';
  if (apiKey === '' && region !== 'emulator') throw noKeyError();
  const maxConcurrent = readNumber(CONFIG_FIELDS.maxConcurrent, settings.maxConcurrent, { field: 'maxConcurrent' })!;
  let baseUrl: string | undefined;
  if (region === 'custom') {
    baseUrl = typeof settings.baseUrl === 'string' ? normaliseBaseUrl(settings.baseUrl) : undefined;
    if (!baseUrl) throw invalidInput(text('config.baseUrl'));
  } else if (region !== 'emulator') {
    baseUrl = bflRegionEndpoint(region).baseUrl;
  }
  const resumeJobs = readBoolean(CONFIG_FIELDS.resumeJobs, settings.resumeJobs, { field: 'resumeJobs' });
  const dailyCreditLimit = readNumber(CONFIG_FIELDS.dailyCreditLimit, settings.dailyCreditLimit, {
    field: 'dailyCreditLimit',
  });
  return { region, baseUrl, apiKey: apiKey || DEFAULT_EMULATOR_KEY, maxConcurrent, resumeJobs, dailyCreditLimit };
}

/**
 * A config node's live account. `service()` waits for the emulator when there is one; close() stops the
 * connection pools and releases the emulator.
 */
export class Account {
  readonly settings: ResolvedAccount;
  /** What this account's tasks cost today, against its daily credit limit. */
  readonly spend: SpendLedger;
  /** Jobs in flight, kept for a restart; undefined when resumeJobs is off or there is no state directory. */
  readonly journal: Journal | undefined;
  /** How long this account's tasks take, learned from them, so they are polled when they can be ready. */
  readonly durations: TaskDurations;
  private readonly journalClaims = new Set<string>();
  private readonly servicePromise: Promise<FillService>;
  private releaseEmulator: (() => Promise<void>) | undefined;
  private closed = false;

  constructor(settings: AccountSettings, tuning: AccountTuning = {}) {
    this.settings = resolveAccount(settings);
    const { region, apiKey, maxConcurrent, dailyCreditLimit } = this.settings;
    this.spend = new SpendLedger({
      file: tuning.stateDir === undefined ? undefined : join(tuning.stateDir, 'spend.json'),
      limit: dailyCreditLimit,
    });
    this.journal =
      this.settings.resumeJobs && tuning.stateDir !== undefined
        ? new Journal({
            dir: join(tuning.stateDir, 'jobs'),
            apiKey,
            capBytes: tuning.journalCapBytes,
            onWriteError: tuning.onJournalError,
          })
        : undefined;
    this.durations = new TaskDurations({
      file: tuning.stateDir === undefined ? undefined : join(tuning.stateDir, DURATIONS_FILE),
    });
    const endpointPromise = this.endpointFor(region, tuning);
    this.servicePromise = endpointPromise.then(
      (endpoint) =>
        new FillService({
          endpoint,
          apiKey,
          maxConcurrent,
          maxQueued: tuning.maxQueued,
          retry: tuning.retry,
          pollSchedule: tuning.pollSchedule,
          budget: this.spend,
          durations: this.durations,
        }),
    );
    // Callers await service(); this keeps a failed emulator start from being an unhandled rejection meanwhile.
    this.servicePromise.catch(() => undefined);
  }

  get emulated(): boolean {
    return this.settings.region === 'emulator';
  }

  private async endpointFor(region: Region, tuning: AccountTuning): Promise<ApiEndpoint> {
    if (region === 'emulator') {
      const lease = leaseEmulator(tuning.emulator);
      this.releaseEmulator = lease.release;
      let emulator: BflEmulator;
      try {
        emulator = await lease.emulator;
      } catch (error) {
        throw emulatorStartError(error);
      }
      return emulatorEndpoint(emulator);
    }
    if (region === 'custom') return customEndpoint(this.settings.baseUrl!);
    return bflRegionEndpoint(region);
  }

  /**
   * The jobs a previous process left for node `nodeId`, to resume. Asking claims them: entries that no node
   * claims by the time the flows have started are dropped as orphans (dropUnclaimed).
   */
  async journalFor(nodeId: string): Promise<JournalEntry[]> {
    this.journalClaims.add(nodeId);
    if (!this.journal) return [];
    const { entries } = await this.journal.entries().catch(() => ({ entries: [] as JournalEntry[] }));
    return entries.filter((entry) => entry.nodeId === nodeId);
  }

  /** Drops the journal's entries whose node is gone, and returns them so the user can be told. */
  async dropUnclaimed(): Promise<JournalEntry[]> {
    if (!this.journal) return [];
    const { entries } = await this.journal.entries().catch(() => ({ entries: [] as JournalEntry[] }));
    const orphans = entries.filter((entry) => !this.journalClaims.has(entry.nodeId));
    for (const entry of orphans) await this.journal.drop(entry);
    return orphans;
  }

  async service(): Promise<FillService> {
    if (this.closed) throw cancelledError();
    return this.servicePromise;
  }

  /** A description of where requests go, for logs and status (never the key). */
  async origin(): Promise<string> {
    if (this.settings.region !== 'emulator') return this.settings.baseUrl!;
    const emulator = await runningLocalEmulator();
    return emulator?.apiUrl ?? 'emulator';
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const service = await this.servicePromise.catch(() => undefined);
    await service?.close();
    await this.spend.flush();
    await this.durations.flush();
    // The journal's first read makes its directory; nothing of this account may still touch the disk after close.
    await this.journal?.entries().catch(() => undefined);
    await this.releaseEmulator?.();
  }
}
