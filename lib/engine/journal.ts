/**
 * The journal of an account's jobs in flight, so that a restart of Node-RED resumes every task BFL has accepted
 * (and billed) instead of losing it. One small JSON file per job in the account's state directory, plus the
 * original image when paste-back needs it and the journal's cap allows; every file is written to a temporary
 * name and renamed, so a crash while writing leaves the old file or none, never a torn one. A file that cannot
 * be read is set aside at start-up and reported, never a reason to fail.
 *
 * Never in it: the API key (only a fingerprint, to notice that the key changed) and the webhook secret.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FillParameters, SubmittedTask } from '../api/types';
import { isExpandGeometry, type ExpandGeometry, type FillGeometry, type JobGeometry } from '../image';

/** The journal's default cap on disk space; beyond it jobs still run, but resume without paste-back. */
export const DEFAULT_JOURNAL_CAP_BYTES = 256 * 1024 * 1024;

/**
 * Entries of jobs running in this process. A config node redeployed opens the journal again while its old
 * jobs still run (handed to their nodes' successors); they must not be taken for a previous process's jobs.
 */
const LIVE = new Set<string>();

const ENTRY_SUFFIX = '.job.json';
const IMAGE_SUFFIX = '.job.image';
const VERSION = 1;

/** A geometry with its buffers out: the mask as base64, the source image in a file of its own. */
type StoredFillGeometry = Omit<FillGeometry, 'mask' | 'source'> & {
  mask: Omit<FillGeometry['mask'], 'png'> & { png: string };
  source: Omit<FillGeometry['source'], 'data'>;
};
type StoredExpandGeometry = Omit<ExpandGeometry, 'source'> & { source: Omit<ExpandGeometry['source'], 'data'> };
type StoredGeometry = StoredFillGeometry | StoredExpandGeometry;

export interface JournalEntry {
  version: number;
  /** Unique per job; the files' names. */
  id: string;
  /** The node (bfl-fill or bfl-expand) whose job it is. */
  nodeId: string;
  createdAt: number;
  /** The first 16 hex digits of the key's SHA-256: enough to tell keys apart, useless to find one. */
  keyFingerprint: string;
  /** 'submitting': the POST may have created a task whose id never arrived. */
  state: 'submitting' | 'submitted';
  task?: SubmittedTask;
  submittedAt?: number;
  parameters: FillParameters;
  timeoutMs: number;
  /** The message's JSON-safe properties as they were at input (not payload, mask, req, res). */
  msg: Record<string, unknown>;
  /** Present when paste-back can be redone after a restart. */
  geometry?: StoredGeometry;
  /** Why there is no geometry although the job pastes back: the journal was over its cap. */
  overCap?: boolean;
}

/** What a resumed job gets back: the entry, and its geometry with the image read from disk. */
export interface ResumableJob {
  entry: JournalEntry;
  geometry: JobGeometry | undefined;
}

export interface JournalOptions {
  dir: string;
  apiKey: string;
  capBytes?: number;
  /** A write that failed (disk full, no permission): the job goes on, but would not survive a restart. */
  onWriteError?: (error: unknown) => void;
}

/** A job's place in the journal; every write of one job happens in order. */
export interface JournalRecord {
  submitted(task: SubmittedTask, submittedAt: number): Promise<void>;
  /** The job ended (sent, failed or dropped): its files go. */
  remove(): Promise<void>;
}

export function keyFingerprint(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex').slice(0, 16);
}

/** Properties a resumed msg must not carry: the images (new ones come) and the HTTP request and response. */
const NOT_KEPT = new Set(['payload', 'mask', 'req', 'res']);
const MAX_PROPERTY_JSON = 1024 * 1024;

/** The message's properties that survive JSON as they are; Buffers, functions, cycles and huge values do not. */
export function jsonSafeProperties(msg: Record<string, unknown>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(msg)) {
    if (NOT_KEPT.has(name) || value === undefined || typeof value === 'function') continue;
    try {
      const json = JSON.stringify(value, (_key, inner: unknown) => {
        if (typeof inner === 'bigint' || typeof inner === 'function') throw new TypeError('not JSON');
        if (inner && typeof inner === 'object' && (inner as { type?: unknown }).type === 'Buffer') {
          throw new TypeError('a Buffer');
        }
        return inner;
      });
      if (json !== undefined && json.length <= MAX_PROPERTY_JSON) kept[name] = JSON.parse(json) as unknown;
    } catch {
      // Not JSON-safe: a restarted job goes on without it.
    }
  }
  return kept;
}

function storeGeometry(geometry: JobGeometry): StoredGeometry {
  const { data: _data, ...source } = geometry.source;
  if (isExpandGeometry(geometry)) return { ...geometry, source };
  return { ...geometry, mask: { ...geometry.mask, png: geometry.mask.png.toString('base64') }, source };
}

function loadGeometry(stored: StoredGeometry, data: Buffer): JobGeometry {
  if ('kind' in stored) return { ...stored, source: { ...stored.source, data } };
  return {
    ...stored,
    mask: { ...stored.mask, png: Buffer.from(stored.mask.png, 'base64') },
    source: { ...stored.source, data },
  };
}

/** Whether composing the result needs the original image: to paste back into, or to stitch a crop into. */
function needsSource(geometry: JobGeometry | undefined): boolean {
  if (!geometry) return false;
  return geometry.options.pasteBack || (!isExpandGeometry(geometry) && geometry.resampled);
}

async function writeAtomically(path: string, data: string | Buffer): Promise<void> {
  const temporary = `${path}.${randomUUID()}.tmp`;
  try {
    await writeFile(temporary, data);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

export interface JournalProblem {
  file: string;
  reason: string;
}

export class Journal {
  private readonly dir: string;
  private readonly fingerprint: string;
  private readonly capBytes: number;
  private readonly onWriteError: (error: unknown) => void;
  /** Bytes the journal holds on disk, kept up to date as files come and go. */
  private usedBytes = 0;
  private readonly opened: Promise<{ entries: JournalEntry[]; problems: JournalProblem[] }>;

  constructor(options: JournalOptions) {
    this.dir = options.dir;
    this.fingerprint = keyFingerprint(options.apiKey);
    this.capBytes = options.capBytes ?? DEFAULT_JOURNAL_CAP_BYTES;
    this.onWriteError = options.onWriteError ?? (() => undefined);
    this.opened = this.read();
    // Callers await entries(); a directory that cannot be read must not be an unhandled rejection meanwhile.
    this.opened.catch(() => undefined);
  }

  /** What the journal held when it was opened (a previous process's jobs), and the files it could not read. */
  async entries(): Promise<{ entries: JournalEntry[]; problems: JournalProblem[] }> {
    return this.opened;
  }

  get keyFingerprint(): string {
    return this.fingerprint;
  }

  private async read(): Promise<{ entries: JournalEntry[]; problems: JournalProblem[] }> {
    await mkdir(this.dir, { recursive: true });
    const entries: JournalEntry[] = [];
    const problems: JournalProblem[] = [];
    for (const name of await readdir(this.dir)) {
      const path = join(this.dir, name);
      if (name.endsWith('.tmp')) {
        // A write that a crash interrupted: the rename never happened, so nothing refers to it.
        await rm(path, { force: true });
        continue;
      }
      this.usedBytes += (await stat(path)).size;
      if (!name.endsWith(ENTRY_SUFFIX) || LIVE.has(name.slice(0, -ENTRY_SUFFIX.length))) continue;
      try {
        const entry = JSON.parse(await readFile(path, 'utf8')) as JournalEntry;
        if (entry.version !== VERSION || typeof entry.id !== 'string' || typeof entry.nodeId !== 'string') {
          throw new Error('not a journal entry of this version');
        }
        entries.push(entry);
      } catch (error) {
        problems.push({ file: name, reason: error instanceof Error ? error.message : String(error) });
        await this.removeFiles(name.slice(0, -ENTRY_SUFFIX.length));
      }
    }
    return { entries, problems };
  }

  /** The image and geometry of an entry, when it kept them; undefined when the image file is gone. */
  async load(entry: JournalEntry): Promise<ResumableJob> {
    if (!entry.geometry) return { entry, geometry: undefined };
    try {
      const data = await readFile(join(this.dir, `${entry.id}${IMAGE_SUFFIX}`));
      return { entry, geometry: loadGeometry(entry.geometry, data) };
    } catch {
      return { entry, geometry: undefined };
    }
  }

  /**
   * Starts a job's record before its submit: the image for paste-back (when it fits the cap) and the entry.
   * Nothing is awaited by the caller's hot path but the small entry; see JournalRecord.
   */
  begin(job: {
    nodeId: string;
    parameters: FillParameters;
    timeoutMs: number;
    msg: Record<string, unknown>;
    geometry: JobGeometry | undefined;
  }): JournalRecord {
    const id = `${job.nodeId.replace(/[^A-Za-z0-9_-]/g, '_')}-${randomUUID()}`;
    LIVE.add(id);
    const entryPath = join(this.dir, `${id}${ENTRY_SUFFIX}`);
    const image = needsSource(job.geometry) ? job.geometry!.source.data : undefined;
    const fits = image !== undefined && this.usedBytes + image.length <= this.capBytes;
    const entry: JournalEntry = {
      version: VERSION,
      id,
      nodeId: job.nodeId,
      createdAt: Date.now(),
      keyFingerprint: this.fingerprint,
      state: 'submitting',
      parameters: job.parameters,
      timeoutMs: job.timeoutMs,
      msg: job.msg,
      geometry: fits ? storeGeometry(job.geometry!) : undefined,
      overCap: image !== undefined && !fits ? true : undefined,
    };
    let written = 0;
    const writeEntry = async (): Promise<void> => {
      const json = JSON.stringify(entry);
      await writeAtomically(entryPath, json);
      this.usedBytes += json.length - written;
      written = json.length;
    };
    let chain: Promise<void> = (async () => {
      // The scan at opening removes the temporary files of interrupted writes: it must be over before this
      // writes any, or it could take a write of this very job for one (and count its bytes twice).
      await this.opened.catch(() => undefined);
      await mkdir(this.dir, { recursive: true });
      if (fits) {
        this.usedBytes += image.length;
        await writeAtomically(join(this.dir, `${id}${IMAGE_SUFFIX}`), image);
      }
      await writeEntry();
    })();
    let removed = false;
    const then = (step: () => Promise<void>): Promise<void> => {
      chain = chain.then(step, (error: unknown) => {
        this.onWriteError(error);
        return step();
      });
      return chain.catch((error: unknown) => this.onWriteError(error));
    };
    return {
      submitted: (task, submittedAt) =>
        then(async () => {
          if (removed) return;
          entry.state = 'submitted';
          entry.task = task;
          entry.submittedAt = submittedAt;
          await writeEntry();
        }),
      remove: () =>
        then(async () => {
          removed = true;
          await this.removeFiles(id);
          LIVE.delete(id);
        }),
    };
  }

  /** An entry read at start-up is being resumed: a journal opened again meanwhile must leave it alone. */
  hold(entry: JournalEntry): void {
    LIVE.add(entry.id);
  }

  /** Drops an entry read at start-up (resumed, or not resumable). */
  async drop(entry: JournalEntry): Promise<void> {
    await this.removeFiles(entry.id);
    LIVE.delete(entry.id);
  }

  private async removeFiles(id: string): Promise<void> {
    for (const suffix of [ENTRY_SUFFIX, IMAGE_SUFFIX]) {
      const path = join(this.dir, `${id}${suffix}`);
      try {
        const { size } = await stat(path);
        await rm(path, { force: true });
        this.usedBytes = Math.max(0, this.usedBytes - size);
      } catch {
        // Already gone.
      }
    }
  }
}
