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
  class RocksDB {
    constructor(path: string, options?: { columnFamilies?: string[]; writeBufferSize?: number; maxWriteBufferNumber?: number });
    ready(): Promise<void>;
    close(options?: { force?: boolean }): Promise<void>;
    columnFamily(name: string): RocksDB;
    read(options?: { capacity?: number; autoDestroy?: boolean }): ReadBatch;
    write(options?: { capacity?: number; autoDestroy?: boolean }): WriteBatch;
    iterator(range: IteratorRange): AsyncIterable<{ key: Buffer; value: Buffer }>;
  }
  export default RocksDB;
}
