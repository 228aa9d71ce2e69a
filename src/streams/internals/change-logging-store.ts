import type { BytesEntry, BytesStore, KeyBounds } from './bytes-store.ts';

/** Receives every change of a logged store; the task's record collector implements it. */
export interface ChangelogSink {
  logChange(store: string, key: Buffer, value: Buffer | null): void;
}

/** Records each write as a changelog record (tombstone for deletes), then passes it down. */
export class ChangeLoggingBytesStore implements BytesStore {
  constructor(
    private readonly inner: BytesStore,
    private readonly sink: ChangelogSink,
  ) {}

  get name(): string {
    return this.inner.name;
  }
  get(key: Buffer): Promise<Buffer | undefined> {
    return this.inner.get(key);
  }
  getMany(keys: readonly Buffer[]): Promise<(Buffer | undefined)[]> {
    return this.inner.getMany(keys);
  }
  async putAll(entries: readonly BytesEntry[]): Promise<void> {
    for (const [k, v] of entries) this.sink.logChange(this.inner.name, k, v);
    await this.inner.putAll(entries);
  }
  range(bounds: KeyBounds): AsyncIterableIterator<[Buffer, Buffer]> {
    return this.inner.range(bounds);
  }
  approximateCount(): Promise<number> {
    return this.inner.approximateCount();
  }
}
