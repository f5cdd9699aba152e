/** Writing an account's small state files so that a crash leaves the old file or the new one, never a torn one. */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Writes `content` to a temp file beside `file`, flushes it to disk, and renames it over `file`. */
export async function writeAtomically(file: string, content: string): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(content, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
}

/**
 * Keeps a small state file up to date with what `content` gives, off the hot path: changes in one turn of the
 * event loop make one write, and changes while a write is under way make one more after it. A write that fails
 * leaves the file due, for the next change or flush() to try again.
 */
export class CoalescedWriter {
  private due = false;
  private writing: Promise<void> | undefined;
  /** Why the last write failed; undefined once one succeeds. */
  lastError: unknown;

  constructor(
    private readonly file: string,
    private readonly content: () => string,
  ) {}

  /** The file holds the latest content and no write is under way. */
  get settled(): boolean {
    return !this.due && this.writing === undefined;
  }

  changed(): void {
    this.due = true;
    this.writing ??= this.writeLoop();
  }

  /** Resolves once the content is on disk, or writing it failed (see lastError). Never rejects. */
  async flush(): Promise<void> {
    if (this.due && this.writing === undefined) this.changed();
    while (this.writing !== undefined) await this.writing;
  }

  private async writeLoop(): Promise<void> {
    try {
      // Let the rest of this turn's changes land first: one write for the burst.
      await new Promise<void>((resolveTurn) => setImmediate(resolveTurn));
      while (this.due) {
        this.due = false;
        try {
          await writeAtomically(this.file, this.content());
          this.lastError = undefined;
        } catch (error) {
          this.due = true;
          this.lastError = error;
          break;
        }
      }
    } finally {
      this.writing = undefined;
    }
  }
}
