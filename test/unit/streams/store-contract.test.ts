import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringSerde, jsonSerde, type KeyValueStore } from '../../../src/streams/index.ts';
import type { BytesStore } from '../../../src/streams/internals/bytes-store.ts';
import { CachingBytesStore } from '../../../src/streams/internals/caching-store.ts';
import { InMemoryBytesStore } from '../../../src/streams/internals/memory-store.ts';
import { TaskDb } from '../../../src/streams/internals/rocksdb-task-db.ts';
import { TypedKeyValueStore } from '../../../src/streams/internals/typed-store.ts';

const dirs: string[] = [];
const dbs: TaskDb[] = [];
afterAll(async () => {
  for (const db of dbs) await db.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function rocks(): Promise<{ bytes: BytesStore; db: TaskDb }> {
  const dir = await mkdtemp(join(tmpdir(), 'ps-store-'));
  dirs.push(dir);
  const db = await TaskDb.open(dir, ['s']);
  dbs.push(db);
  return { bytes: db.store('s'), db };
}

// Every implementation of the store shapes must pass the same contract (Quix's SUPPORTED_STORES).
const implementations: Array<[string, () => Promise<BytesStore>]> = [
  ['in-memory', async () => new InMemoryBytesStore('s')],
  ['RocksDB', async () => (await rocks()).bytes],
  ['cache over in-memory', async () => new CachingBytesStore(new InMemoryBytesStore('s'))],
  ['cache over RocksDB', async () => new CachingBytesStore((await rocks()).bytes)],
];

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe.each(implementations)('key-value store contract: %s', (_name, make) => {
  const typed = async (): Promise<KeyValueStore<string, { n: number }>> => new TypedKeyValueStore(await make(), stringSerde, jsonSerde<{ n: number }>(), 't');

  it('reads back what it wrote, and nothing for unknown keys', async () => {
    const s = await typed();
    await s.put('a', { n: 1 });
    expect(await s.get('a')).toEqual({ n: 1 });
    expect(await s.get('b')).toBeUndefined();
  });

  it('answers getMany in the order of the keys asked', async () => {
    const s = await typed();
    await s.putAll([{ key: 'x', value: { n: 1 } }, { key: 'y', value: { n: 2 } }]);
    expect(await s.getMany(['y', 'nope', 'x', 'y'])).toEqual([{ n: 2 }, undefined, { n: 1 }, { n: 2 }]);
  });

  it('forgets deleted keys, also in ranges', async () => {
    const s = await typed();
    await s.putAll(['a', 'b', 'c'].map((key, n) => ({ key, value: { n } })));
    await s.delete('b');
    expect(await s.get('b')).toBeUndefined();
    expect((await collect(s.range())).map((e) => e.key)).toEqual(['a', 'c']);
  });

  it('iterates ranges inclusively and prefixes in byte order', async () => {
    const s = await typed();
    await s.putAll(['user:2', 'user:1', 'user:10', 'usex', 'a', 'user:'].map((key, n) => ({ key, value: { n } })));
    expect((await collect(s.range('user:1', 'user:2'))).map((e) => e.key)).toEqual(['user:1', 'user:10', 'user:2']);
    expect((await collect(s.prefix('user:'))).map((e) => e.key)).toEqual(['user:', 'user:1', 'user:10', 'user:2']);
    expect(await s.approximateCount!()).toBe(6);
  });

  it('overwrites a key with the last value', async () => {
    const s = await typed();
    await s.put('k', { n: 1 });
    await s.put('k', { n: 2 });
    expect(await s.get('k')).toEqual({ n: 2 });
    expect(await collect(s.range())).toEqual([{ key: 'k', value: { n: 2 } }]);
  });
});

describe('RocksDB task database', () => {
  it('keeps staged writes out of RocksDB until commitStaged, then writes them with the offsets', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ps-taskdb-'));
    dirs.push(dir);
    let db = await TaskDb.open(dir, ['a', 'b']);
    await db.store('a').putAll([[Buffer.from('k'), Buffer.from('v1')]]);
    await db.store('b').putAll([[Buffer.from('k'), Buffer.from('w1')]]);
    expect(await db.store('a').get(Buffer.from('k'))).toEqual(Buffer.from('v1'));
    await db.close();

    // Nothing was committed: a crash here loses only staged writes, and the offsets say so.
    db = await TaskDb.open(dir, ['a', 'b']);
    expect(await db.store('a').get(Buffer.from('k'))).toBeUndefined();
    expect(await db.readOffsets()).toEqual(new Map());
    await db.store('a').putAll([[Buffer.from('k'), Buffer.from('v2')]]);
    await db.store('b').putAll([[Buffer.from('k'), Buffer.from('w2')]]);
    await db.commitStaged(new Map([['app-a-changelog:0', 12n], ['app-b-changelog:0', 7n]]));
    await db.close();

    db = await TaskDb.open(dir, ['a', 'b']);
    dbs.push(db);
    expect(await db.store('a').get(Buffer.from('k'))).toEqual(Buffer.from('v2'));
    expect(await db.store('b').get(Buffer.from('k'))).toEqual(Buffer.from('w2'));
    expect(await db.readOffsets()).toEqual(new Map([['app-a-changelog:0', 12n], ['app-b-changelog:0', 7n]]));
  });

  it('discards staged writes of an aborted commit', async () => {
    const { db } = await rocks();
    await db.store('s').putAll([[Buffer.from('k'), Buffer.from('v')]]);
    db.discardStaged();
    expect(await db.store('s').get(Buffer.from('k'))).toBeUndefined();
  });
});
