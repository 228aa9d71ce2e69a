import { rm, mkdir } from 'node:fs/promises';
import RocksDB from 'rocksdb-native';
import { inBounds, keyId, overlayRange, type BytesEntry, type BytesStore, type KeyBounds } from './bytes-store.ts';

const META_CF = '__meta';

type Session = InstanceType<typeof RocksDB>;

/** What RocksDB itself holds in memory, summed over every open task database (see `TaskDb.memoryUsage`). */
export interface RocksDbMemory {
  readonly databases: number;
  readonly columnFamilies: number;
  /** Active and immutable memtables (`rocksdb.size-all-mem-tables`). */
  readonly memtableBytes: number;
  /** Every column family's own block cache (`rocksdb.block-cache-usage`), pinned index and filter blocks included. */
  readonly blockCacheBytes: number;
  readonly blockCachePinnedBytes: number;
  /** What the block caches may grow to (`rocksdb.block-cache-capacity`; 0 for a family without one). */
  readonly blockCacheCapacityBytes: number;
  /** Index and filter blocks held outside the block cache (`rocksdb.estimate-table-readers-mem`). */
  readonly tableReaderBytes: number;
  /** The same, per store name (summed over tasks). */
  readonly byStore: Record<string, { memtableBytes: number; blockCacheBytes: number; tableReaderBytes: number }>;
}

/**
 * Column family options. rocksdb-native gives every column family its own memtables and its own 32 MiB LRU
 * block cache (no shared cache, no write buffer manager), and there is one database per task with a family per
 * store: 16 task databases and 104 families in profile-stream. Measured at 200,000 users (bench/ANALYSIS.md,
 * "Memory at 200,000 users"), 8 MiB memtables with block caches held ~130 MB of memtables and ~100 MB of block
 * cache (rising toward 8 x 32 MiB for the profiles store alone) while traffic was spread over every user, plus
 * what glibc kept of the freed memtables. So:
 * - no block cache: a point read is then one pread of one data block from the OS page cache, which caches the
 *   files for every family at once, outside the process (microseconds next to a millisecond of processing per
 *   record; pipeline throughput not lower in the same-command comparison); index and filter blocks stay in the
 *   table readers (~1.4 MB at 200,000 profiles);
 * - 2 MiB memtables for stores (their arena grows in 256 KiB blocks, so an idle store costs almost nothing) and
 *   256 KiB for the changelog-offset and default families, which hold a handful of keys. Up to four of them: a
 *   bulk write (restore) fills one while the full ones flush instead of stalling behind a single flush; only the
 *   active one exists between bursts.
 */
const STORE_FAMILY: ColumnFamilyOptions = {
  writeBufferSize: 2 * 1024 * 1024,
  maxWriteBufferNumber: 4,
  blockCache: false,
  // Index and filter blocks cannot be cached without a block cache: the table reader holds them instead.
  tableCacheIndexAndFilterBlocks: false,
};
const SMALL_FAMILY: ColumnFamilyOptions = { ...STORE_FAMILY, writeBufferSize: 256 * 1024 };

type ColumnFamilyOptions = NonNullable<ConstructorParameters<typeof RocksDB.ColumnFamily>[1]>;

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
  /** Every open task database of this process, for `memoryUsage`. */
  static readonly #open = new Set<TaskDb>();

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
    // rocksdb-native's own defaults (64 MiB memtables, two per column family, and a block cache each) would let
    // every task hold hundreds of MiB per store: see STORE_FAMILY.
    const families = [...storeNames.map((n) => new RocksDB.ColumnFamily(n, STORE_FAMILY)), new RocksDB.ColumnFamily(META_CF, SMALL_FAMILY)];
    const root = new RocksDB(dir, { ...SMALL_FAMILY, columnFamilies: families });
    await root.ready();
    const db = new TaskDb(dir, root, storeNames);
    TaskDb.#open.add(db);
    return db;
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
    TaskDb.#open.delete(this);
    await this.#root.close({ force: true });
  }

  /**
   * RocksDB's own memory in this process, from its properties: memtables, block caches (one per column
   * family: rocksdb-native gives each its own) and table readers. For the memory benchmark and operators;
   * a few property reads per column family, so not for a hot path.
   */
  static async memoryUsage(): Promise<RocksDbMemory> {
    const byStore: Record<string, { memtableBytes: number; blockCacheBytes: number; tableReaderBytes: number }> = {};
    let memtableBytes = 0;
    let blockCacheBytes = 0;
    let blockCachePinnedBytes = 0;
    let blockCacheCapacityBytes = 0;
    let tableReaderBytes = 0;
    let columnFamilies = 0;
    // A property the family does not have (a block cache's, without one) reads as undefined: 0.
    const num = async (s: Session, name: string): Promise<number> => Number((await s.getProperty(name).catch(() => null)) ?? 0) || 0;
    for (const db of TaskDb.#open) {
      for (const [name, cf] of [['default', db.#root], ...db.#cfs, [META_CF, db.#meta]] as const) {
        const m = await num(cf, 'rocksdb.size-all-mem-tables');
        const c = await num(cf, 'rocksdb.block-cache-usage');
        const t = await num(cf, 'rocksdb.estimate-table-readers-mem');
        blockCachePinnedBytes += await num(cf, 'rocksdb.block-cache-pinned-usage');
        blockCacheCapacityBytes += await num(cf, 'rocksdb.block-cache-capacity');
        memtableBytes += m;
        blockCacheBytes += c;
        tableReaderBytes += t;
        columnFamilies++;
        const s = (byStore[name] ??= { memtableBytes: 0, blockCacheBytes: 0, tableReaderBytes: 0 });
        s.memtableBytes += m;
        s.blockCacheBytes += c;
        s.tableReaderBytes += t;
      }
    }
    return { databases: TaskDb.#open.size, columnFamilies, memtableBytes, blockCacheBytes, blockCachePinnedBytes, blockCacheCapacityBytes, tableReaderBytes, byStore };
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
