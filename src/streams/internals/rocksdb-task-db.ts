import { rm, mkdir } from 'node:fs/promises';
import RocksDB from 'rocksdb-native';
import { inBounds, keyId, overlayRange, type BytesEntry, type BytesStore, type KeyBounds } from './bytes-store.ts';

const META_CF = '__meta';

type Session = InstanceType<typeof RocksDB>;

/**
 * One RocksDB database per task (`<stateDir>/<applicationId>/<taskId>/`): a column family per store
 * and `__meta` holding, per changelog partition, the next changelog offset the data reflects.
 *
 * Writes from processing are *staged* and only reach RocksDB through `commitStaged`, in one write batch
 * together with the changelog offsets, after the changelog records were acknowledged: RocksDB is never
 * ahead of the changelog.
 */
export class TaskDb {
  readonly #root: Session;
  readonly #cfs = new Map<string, Session>();
  readonly #meta: Session;
  readonly #staged = new Map<string, Map<string, BytesEntry>>();

  private constructor(readonly dir: string, root: Session, storeNames: readonly string[]) {
    this.#root = root;
    for (const s of storeNames) {
      this.#cfs.set(s, root.columnFamily(s));
      this.#staged.set(s, new Map());
    }
    this.#meta = root.columnFamily(META_CF);
  }

  static async open(dir: string, storeNames: readonly string[]): Promise<TaskDb> {
    await mkdir(dir, { recursive: true });
    // rocksdb-native's defaults (64 MiB memtables, two per column family) would let each task hold up to
    // 128 MiB per store before a flush: with 8 tasks and a few stores that is gigabytes of RSS. 8 MiB
    // memtables bound it (Kafka Streams uses 16 MiB with a shared budget); reads still hit SST files.
    const root = new RocksDB(dir, { columnFamilies: [...storeNames, META_CF], writeBufferSize: 8 * 1024 * 1024, maxWriteBufferNumber: 2 });
    await root.ready();
    return new TaskDb(dir, root, storeNames);
  }

  /** Removes the database directory (a stored offset beyond the changelog's end, or corruption). */
  static async wipe(dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true });
  }

  store(name: string): BytesStore {
    const cf = this.#cfs.get(name);
    const staged = this.#staged.get(name);
    if (!cf || !staged) throw new Error(`no column family for store "${name}"`);
    return new RocksDBBytesStore(name, cf, staged);
  }

  async readOffsets(): Promise<Map<string, bigint>> {
    const out = new Map<string, bigint>();
    for await (const { key, value } of this.#meta.iterator({})) {
      out.set((key as Buffer).toString('utf8'), BigInt((value as Buffer).toString('utf8')));
    }
    return out;
  }

  hasStaged(): boolean {
    for (const s of this.#staged.values()) if (s.size > 0) return true;
    return false;
  }

  /** Drops staged writes (an aborted transaction): RocksDB stays at the last committed offsets. */
  discardStaged(): void {
    for (const s of this.#staged.values()) s.clear();
  }

  /** Staged writes plus offsets, as ONE write batch. */
  async commitStaged(offsets: ReadonlyMap<string, bigint>): Promise<void> {
    const ops: Array<{ cf: Session; key: Buffer; value: Buffer | null }> = [];
    for (const [store, staged] of this.#staged) {
      const cf = this.#cfs.get(store)!;
      for (const [k, v] of staged.values()) ops.push({ cf, key: k, value: v });
    }
    for (const [name, off] of offsets) ops.push({ cf: this.#meta, key: Buffer.from(name), value: Buffer.from(off.toString()) });
    await this.#writeBatch(ops);
    this.discardStaged();
  }

  /** Restore path: changelog records for one store and its new offset, as one write batch. */
  async applyRestoreBatch(store: string, entries: readonly BytesEntry[], offsetKey: string, nextOffset: bigint): Promise<void> {
    const cf = this.#cfs.get(store)!;
    const ops = entries.map(([key, value]) => ({ cf, key, value }));
    ops.push({ cf: this.#meta, key: Buffer.from(offsetKey), value: Buffer.from(nextOffset.toString()) });
    await this.#writeBatch(ops);
  }

  async close(): Promise<void> {
    await this.#root.close({ force: true });
  }

  /**
   * rocksdb-native binds every operation of a write batch to the column family of the session that
   * created it, but its native write applies each operation to its own column family. To get one atomic
   * batch across column families we point the batch at each column family's session while adding that
   * family's operations, then back at the root before flushing (same state, same ref count).
   */
  async #writeBatch(ops: ReadonlyArray<{ cf: Session; key: Buffer; value: Buffer | null }>): Promise<void> {
    if (ops.length === 0) return;
    const batch = this.#root.write({ capacity: ops.length }) as unknown as {
      _db: Session;
      tryPut(k: Buffer, v: Buffer): void;
      tryDelete(k: Buffer): void;
      flush(): Promise<void>;
      destroy(): void;
    };
    const owner = batch._db;
    try {
      for (const op of ops) {
        batch._db = op.cf;
        if (op.value === null) batch.tryDelete(op.key);
        else batch.tryPut(op.key, op.value);
      }
    } finally {
      batch._db = owner;
    }
    try {
      await batch.flush();
    } finally {
      batch.destroy();
    }
  }
}

class RocksDBBytesStore implements BytesStore {
  constructor(
    readonly name: string,
    private readonly cf: Session,
    private readonly staged: Map<string, BytesEntry>,
  ) {}

  async get(key: Buffer): Promise<Buffer | undefined> {
    return (await this.getMany([key]))[0];
  }

  async getMany(keys: readonly Buffer[]): Promise<(Buffer | undefined)[]> {
    const out: (Buffer | undefined)[] = new Array(keys.length);
    const readIdx: number[] = [];
    keys.forEach((k, i) => {
      const s = this.staged.get(keyId(k));
      if (s) out[i] = s[1] ?? undefined;
      else readIdx.push(i);
    });
    if (readIdx.length > 0) {
      // One native read for every key not staged: the batch-shaped read the hot path relies on.
      const batch = this.cf.read({ capacity: readIdx.length, autoDestroy: true });
      const reads = readIdx.map((i) => batch.get(keys[i]!));
      batch.tryFlush();
      const values = await Promise.all(reads);
      values.forEach((v, j) => (out[readIdx[j]!] = v ?? undefined));
    }
    return out;
  }

  async putAll(entries: readonly BytesEntry[]): Promise<void> {
    for (const e of entries) this.staged.set(keyId(e[0]), e);
  }

  range(bounds: KeyBounds): AsyncIterableIterator<[Buffer, Buffer]> {
    const it = this.cf.iterator({ gte: bounds.gte ?? null, lte: bounds.lte ?? null, lt: bounds.lt ?? null });
    const inner = (async function* () {
      for await (const { key, value } of it) {
        const k = key as Buffer;
        if (inBounds(k, bounds)) yield [k, value as Buffer] as [Buffer, Buffer];
      }
    })();
    return overlayRange(this.staged.values(), inner, bounds);
  }

  async approximateCount(): Promise<number> {
    let n = 0;
    for await (const _ of this.range({})) n++;
    return n;
  }
}
