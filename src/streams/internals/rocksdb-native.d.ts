// Minimal types for the parts of rocksdb-native (no bundled types) the task database uses.
declare module 'rocksdb-native' {
  interface ReadBatch {
    get(key: Buffer): Promise<Buffer | null>;
    tryFlush(): void;
    flush(): Promise<void>;
    destroy(): void;
  }
  interface WriteBatch {
    tryPut(key: Buffer, value: Buffer): void;
    tryDelete(key: Buffer): void;
    flush(): Promise<void>;
    destroy(): void;
  }
  interface IteratorRange {
    gt?: Buffer | null;
    gte?: Buffer | null;
    lt?: Buffer | null;
    lte?: Buffer | null;
    reverse?: boolean;
    limit?: number;
    capacity?: number;
  }
  /** Options of one column family (lib/column-family.js); each family gets its own table factory and block cache. */
  interface ColumnFamilyOptions {
    writeBufferSize?: number;
    maxWriteBufferNumber?: number;
    /** false: no block cache at all (`no_block_cache`); true: a 32 MiB LRU cache of this family's own. */
    blockCache?: boolean;
    tableBlockSize?: number;
    tableCacheIndexAndFilterBlocks?: boolean;
    optimizeFiltersForMemory?: boolean;
    optimizeFiltersForHits?: boolean;
  }
  class ColumnFamily {
    constructor(name: string, options?: ColumnFamilyOptions);
    readonly name: string;
  }
  class RocksDB {
    static ColumnFamily: typeof ColumnFamily;
    constructor(path: string, options?: { columnFamilies?: Array<string | ColumnFamily>; writeBufferSize?: number; maxWriteBufferNumber?: number });
    ready(): Promise<void>;
    close(options?: { force?: boolean }): Promise<void>;
    columnFamily(name: string): RocksDB;
    read(options?: { capacity?: number; autoDestroy?: boolean }): ReadBatch;
    write(options?: { capacity?: number; autoDestroy?: boolean }): WriteBatch;
    iterator(range: IteratorRange): AsyncIterable<{ key: Buffer; value: Buffer }>;
    /** A RocksDB property of this session's column family (`rocksdb.block-cache-usage`, ...); undefined or null when the family has no such property. */
    getProperty(name: string): Promise<string | null | undefined>;
  }
  export default RocksDB;
}
