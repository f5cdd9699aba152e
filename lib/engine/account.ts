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
import { CONFIG_FIELDS, readBoolean, readChoice, readNumber, readText } from '../fields';
import { text } from '../messages';
import type { TaskSlots } from './queue';
import { FillService } from './service';
import { SpendLedger } from './budget';
import { DURATIONS_FILE, TaskDurations } from './durations';
import { Journal, type JournalEntry } from './journal';
import { leaseEmulator, runningLocalEmulator } from './local-emulator';
import type { PollSchedule } from './schedule';
import { WebhookReceiver } from './webhooks';

export interface AccountSettings {
  region: unknown;
  baseUrl: unknown;
  apiKey: unknown;
  maxConcurrent: unknown;
  resumeJobs?: unknown;
  dailyCreditLimit?: unknown;
  webhookUrl?: unknown;
  /** The shared secret of the account's webhooks (the webhookSecret credential). */
  webhookSecret?: unknown;
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
  /**
   * Where this account's webhook receiver is served, as a path below the webhook URL (e.g.
   * `/bfl/webhook/<config id>`); without it there is no receiver, and jobs poll whatever webhookUrl says.
   */
  webhookPath?: string;
  /** How long after its submit a job waits for its webhook before it polls (default: expected finish + 5 s). */
  webhookFallbackMs?: number;
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
  /** The public base URL BFL's webhooks reach this Node-RED at, normalised; undefined: polling only. */
  webhookUrl: string | undefined;
}

/** The webhook URL as typed: an http(s) base URL with no credentials, query or fragment; '' is none. */
export function normaliseWebhookUrl(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username || url.password || url.search || url.hash) return undefined;
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
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
  const typedWebhookUrl = readText(CONFIG_FIELDS.webhookUrl, settings.webhookUrl, { field: 'webhookUrl' }).trim();
  let webhookUrl: string | undefined;
  if (typedWebhookUrl !== '') {
    webhookUrl = normaliseWebhookUrl(typedWebhookUrl);
    if (!webhookUrl) throw invalidInput(text('config.webhookUrl'));
  }
  return {
    region,
    baseUrl,
    apiKey: apiKey || DEFAULT_EMULATOR_KEY,
    maxConcurrent,
    resumeJobs,
    dailyCreditLimit,
    webhookUrl,
  };
}

/**
 * The task slots of the newest account of each state directory (one per config node id): a redeployed config
 * node's account takes over the count of the tasks its predecessor still runs.
 */
const newestSlots = new Map<string, TaskSlots>();

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
  /** Where BFL announces this account's tasks' ends; undefined when webhookUrl is empty (polling only). */
  readonly webhooks: WebhookReceiver | undefined;
  /** How long this account's tasks take, learned from them, so they are polled when they can be ready. */
  readonly durations: TaskDurations;
  private readonly journalClaims = new Set<string>();
  private readonly servicePromise: Promise<FillService>;
  private releaseEmulator: (() => Promise<void>) | undefined;
  private forget: (service: FillService | undefined) => void = () => undefined;
  private isClosed = false;
  private markClosed: () => void = () => undefined;
  /** Resolves once close() has finished: nothing of the account runs any more. */
  readonly closed = new Promise<void>((resolve) => (this.markClosed = resolve));

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
    const secret = typeof settings.webhookSecret === 'string' ? settings.webhookSecret : '';
    this.webhooks =
      this.settings.webhookUrl !== undefined && tuning.webhookPath !== undefined && secret !== ''
        ? new WebhookReceiver({ url: `${this.settings.webhookUrl}${tuning.webhookPath}`, secret })
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
          webhooks: this.webhooks,
          webhookFallbackMs: tuning.webhookFallbackMs,
          durations: this.durations,
        }),
    );
    const { stateDir } = tuning;
    if (stateDir !== undefined) {
      this.servicePromise.then(
        (service) => {
          newestSlots.get(stateDir)?.passOn(service.slots);
          newestSlots.set(stateDir, service.slots);
        },
        () => undefined,
      );
      this.forget = (service) => {
        if (newestSlots.get(stateDir) === service?.slots) newestSlots.delete(stateDir);
      };
    }
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
    if (this.isClosed) throw cancelledError();
    return this.servicePromise;
  }

  /** A description of where requests go, for logs and status (never the key). */
  async origin(): Promise<string> {
    if (this.settings.region !== 'emulator') return this.settings.baseUrl!;
    const emulator = await runningLocalEmulator();
    return emulator?.apiUrl ?? 'emulator';
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    try {
      await this.closeParts();
    } finally {
      this.markClosed();
    }
  }

  private async closeParts(): Promise<void> {
    const service = await this.servicePromise.catch(() => undefined);
    await service?.close();
    this.forget(service);
    this.webhooks?.close();
    await this.spend.flush();
    await this.durations.flush();
    // The journal's first read makes its directory; nothing of this account may still touch the disk after close.
    await this.journal?.entries().catch(() => undefined);
    await this.releaseEmulator?.();
  }
}
