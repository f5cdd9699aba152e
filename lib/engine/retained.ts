/**
 * What the runtime keeps for editors opened later: each node's last preview and last input thumbnail, in
 * memory, at most `maxBytes` in all. A node puts one value per kind; when the total would pass the bound,
 * the values put longest ago go first, so a flow with hundreds of nodes cannot grow the runtime's memory.
 */
export class RetainedStore<V> {
  private readonly values = new Map<string, { value: V; bytes: number }>();
  private total = 0;

  constructor(
    readonly maxBytes: number,
    private readonly sizeOf: (value: V) => number,
  ) {}

  /** Keeps `value` for `key` as the newest; one bigger than the whole bound is not kept (and drops the old). */
  put(key: string, value: V): void {
    this.delete(key);
    const bytes = this.sizeOf(value);
    if (bytes > this.maxBytes) return;
    this.values.set(key, { value, bytes });
    this.total += bytes;
    for (const [oldest, entry] of this.values) {
      if (this.total <= this.maxBytes) break;
      this.values.delete(oldest);
      this.total -= entry.bytes;
    }
  }

  get(key: string): V | undefined {
    return this.values.get(key)?.value;
  }

  delete(key: string): void {
    const entry = this.values.get(key);
    if (!entry) return;
    this.values.delete(key);
    this.total -= entry.bytes;
  }

  /** Every value kept, by key. */
  entries(): Array<[string, V]> {
    return [...this.values].map(([key, entry]) => [key, entry.value]);
  }

  get bytes(): number {
    return this.total;
  }
}
