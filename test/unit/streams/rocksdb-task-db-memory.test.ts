import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TaskDb } from '../../../src/streams/internals/rocksdb-task-db.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function open(stores: string[]): Promise<TaskDb> {
  const dir = await mkdtemp(join(tmpdir(), 'ps-taskdb-memory-'));
  dirs.push(dir);
  return TaskDb.open(dir, stores);
}

describe('TaskDb.memoryUsage', () => {
  it('sums RocksDB memory over every open task database, per store, and forgets a closed one', async () => {
    const before = await TaskDb.memoryUsage();
    const a = await open(['profiles', 'dedup']);
    const b = await open(['profiles']);
    try {
      const value = Buffer.alloc(4096, 7);
      await a.store('profiles').putAll(Array.from({ length: 200 }, (_, i) => [Buffer.from(`k${i}`), value] as [Buffer, Buffer]));
      await a.commitStaged(new Map([['changelog:0', 200n]]));
      // Read back from RocksDB (nothing staged any more): a block cache would now hold the blocks read.
      expect((await a.store('profiles').getMany([Buffer.from('k1'), Buffer.from('k199')])).map((v) => v?.length)).toEqual([4096, 4096]);

      const m = await TaskDb.memoryUsage();
      expect(m.databases - before.databases).toBe(2);
      // Each database: its stores, the changelog-offset family and RocksDB's default family.
      expect(m.columnFamilies - before.columnFamilies).toBe(4 + 3);
      // The 200 writes (~800 KiB) are in the profiles memtable.
      expect(m.byStore.profiles!.memtableBytes).toBeGreaterThan(200 * 4096);
      // No block cache for any family (the OS page cache serves reads): nothing to grow, nothing cached.
      expect(m.blockCacheCapacityBytes).toBe(0);
      expect(m.blockCacheBytes).toBe(0);
    } finally {
      await a.close();
      await b.close();
    }
    const after = await TaskDb.memoryUsage();
    expect(after.databases).toBe(before.databases);
  });
});
