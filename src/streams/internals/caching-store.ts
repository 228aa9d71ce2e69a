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
  /** Bytes of keys and values held (dirty and clean), so the runtime can bound the cache's memory. */
  #bytes = 0;

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
        if (keep) this.#setClean(keyId(keys[i]!), v ?? null);
      });
    }
    return out;
  }

  async putAll(entries: readonly BytesEntry[]): Promise<void> {
    this.#epoch++;
    for (const e of entries) {
      const id = keyId(e[0]);
      const before = this.#dirty.get(id);
      if (before) this.#bytes -= entryBytes(id, before[1]);
      this.#dropClean(id);
      this.#dirty.set(id, e);
      this.#bytes += entryBytes(id, e[1]);
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

  /** Approximate bytes held: dirty entries (freed by a flush) and clean ones (freed by `dropClean`). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Forgets every clean entry (reads fill them; they are only a copy of the layer below). */
  dropClean(): void {
    for (const [id, v] of this.#clean) this.#bytes -= entryBytes(id, v);
    this.#clean.clear();
  }

  #setClean(id: string, value: Buffer | null): void {
    this.#dropClean(id);
    this.#clean.set(id, value);
    this.#bytes += entryBytes(id, value);
  }

  #dropClean(id: string): void {
    if (!this.#clean.has(id)) return;
    this.#bytes -= entryBytes(id, this.#clean.get(id) ?? null);
    this.#clean.delete(id);
  }

  /** Pushes dirty entries down (to change logging, then the bytes store) and empties the cache. */
  async flush(): Promise<void> {
    const entries = [...this.#dirty.values()];
    this.#epoch++;
    this.#dirty.clear();
    this.#clean.clear();
    this.#bytes = 0;
    if (entries.length > 0) await this.inner.putAll(entries);
  }

  /** Forgets everything not yet flushed (an aborted transaction). */
  discard(): void {
    this.#epoch++;
    this.#dirty.clear();
    this.#clean.clear();
    this.#bytes = 0;
  }
}

/** Key id (hex or latin1 string) and value bytes, plus a fixed share for the map entry itself. */
function entryBytes(id: string, value: Buffer | null): number {
  return id.length + (value?.length ?? 0) + 64;
}
