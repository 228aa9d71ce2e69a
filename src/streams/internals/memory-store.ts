import { inBounds, keyId, type BytesEntry, type BytesStore, type KeyBounds } from './bytes-store.ts';

/** Bytes store in a Map; the second implementation of BytesStore (test driver, in-memory stores). */
export class InMemoryBytesStore implements BytesStore {
  readonly #data = new Map<string, [Buffer, Buffer]>();
  constructor(readonly name: string) {}

  async get(key: Buffer): Promise<Buffer | undefined> {
    return this.#data.get(keyId(key))?.[1];
  }
  async getMany(keys: readonly Buffer[]): Promise<(Buffer | undefined)[]> {
    return keys.map((k) => this.#data.get(keyId(k))?.[1]);
  }
  async putAll(entries: readonly BytesEntry[]): Promise<void> {
    for (const [k, v] of entries) {
      if (v === null) this.#data.delete(keyId(k));
      else this.#data.set(keyId(k), [Buffer.from(k), Buffer.from(v)]);
    }
  }
  async *range(bounds: KeyBounds): AsyncIterableIterator<[Buffer, Buffer]> {
    const entries = [...this.#data.values()].filter(([k]) => inBounds(k, bounds)).sort((a, b) => Buffer.compare(a[0], b[0]));
    for (const e of entries) yield e;
  }
  async approximateCount(): Promise<number> {
    return this.#data.size;
  }
  clear(): void {
    this.#data.clear();
  }
}
