import { keyId, overlayRange, type BytesEntry, type BytesStore, type KeyBounds } from './bytes-store.ts';

/**
 * The per-task write cache: writes stay here until commit; reads see them first. It also keeps what
 * `getMany` read (clean entries) until the next commit, so a processor that prefetches a batch then
 * reads each key from memory. `flush` hands the dirty entries to the layer below in one `putAll`.
 */
export class CachingBytesStore implements BytesStore {
  readonly #dirty = new Map<string, BytesEntry>();
  readonly #clean = new Map<string, Buffer | null>();
  /**
   * Bumped by every write, flush and discard. A read from below that started before one of them may
   * carry a value older than what the cache now knows (an interactive query reading while processing
   * writes and a commit flushes): it is returned to its caller but not kept as clean.
   */
  #epoch = 0;

  constructor(private readonly inner: BytesStore) {}

  get name(): string {
    return this.inner.name;
  }

  async get(key: Buffer): Promise<Buffer | undefined> {
    return (await this.getMany([key]))[0];
  }

  async getMany(keys: readonly Buffer[]): Promise<(Buffer | undefined)[]> {
    const out: (Buffer | undefined)[] = new Array(keys.length);
    const missIdx: number[] = [];
    keys.forEach((k, i) => {
      const id = keyId(k);
      const d = this.#dirty.get(id);
      if (d) out[i] = d[1] ?? undefined;
      else if (this.#clean.has(id)) out[i] = this.#clean.get(id) ?? undefined;
      else missIdx.push(i);
    });
    if (missIdx.length > 0) {
      const epoch = this.#epoch;
      const values = await this.inner.getMany(missIdx.map((i) => keys[i]!));
      const keep = epoch === this.#epoch;
      values.forEach((v, j) => {
        const i = missIdx[j]!;
        out[i] = v;
        if (keep) this.#clean.set(keyId(keys[i]!), v ?? null);
      });
    }
    return out;
  }

  async putAll(entries: readonly BytesEntry[]): Promise<void> {
    this.#epoch++;
    for (const e of entries) {
      const id = keyId(e[0]);
      this.#dirty.set(id, e);
      this.#clean.delete(id);
    }
  }

  range(bounds: KeyBounds): AsyncIterableIterator<[Buffer, Buffer]> {
    return overlayRange([...this.#dirty.values()], this.inner.range(bounds), bounds);
  }

  async approximateCount(): Promise<number> {
    let n = 0;
    for await (const _ of this.range({})) n++;
    return n;
  }

  dirtyCount(): number {
    return this.#dirty.size;
  }

  /** Pushes dirty entries down (to change logging, then the bytes store) and empties the cache. */
  async flush(): Promise<void> {
    const entries = [...this.#dirty.values()];
    this.#epoch++;
    this.#dirty.clear();
    this.#clean.clear();
    if (entries.length > 0) await this.inner.putAll(entries);
  }

  /** Forgets everything not yet flushed (an aborted transaction). */
  discard(): void {
    this.#epoch++;
    this.#dirty.clear();
    this.#clean.clear();
  }
}
