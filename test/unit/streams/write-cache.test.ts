import { describe, expect, it } from 'vitest';
import type { BytesEntry } from '../../../src/streams/internals/bytes-store.ts';
import { CachingBytesStore } from '../../../src/streams/internals/caching-store.ts';
import { ChangeLoggingBytesStore } from '../../../src/streams/internals/change-logging-store.ts';
import { InMemoryBytesStore } from '../../../src/streams/internals/memory-store.ts';

const b = (s: string): Buffer => Buffer.from(s);

function layered() {
  const inner = new InMemoryBytesStore('s');
  const logged: Array<[string, string | null]> = [];
  const logging = new ChangeLoggingBytesStore(inner, { logChange: (_s, k, v) => logged.push([k.toString(), v?.toString() ?? null]) });
  const cache = new CachingBytesStore(logging);
  return { inner, logged, cache };
}

describe('write cache', () => {
  it('keeps writes in memory until flush, and reads see them first', async () => {
    const { inner, logged, cache } = layered();
    await cache.putAll([[b('k'), b('1')]]);
    expect(await cache.get(b('k'))).toEqual(b('1'));
    expect(await inner.get(b('k'))).toBeUndefined();
    expect(logged).toEqual([]);
    await cache.flush();
    expect(await inner.get(b('k'))).toEqual(b('1'));
  });

  it('logs only the last write of a key per commit (deduplication)', async () => {
    const { logged, cache } = layered();
    for (const v of ['1', '2', '3']) await cache.putAll([[b('k'), b(v)]]);
    await cache.putAll([[b('gone'), b('x')]]);
    await cache.putAll([[b('gone'), null]]);
    await cache.flush();
    expect(logged).toEqual([['k', '3'], ['gone', null]]);
  });

  it('reads all misses of a getMany with one read of the layer below', async () => {
    const inner = new InMemoryBytesStore('s');
    await inner.putAll([[b('a'), b('A')], [b('b'), b('B')]]);
    const calls: number[] = [];
    const spy = {
      name: 's',
      get: (k: Buffer) => inner.get(k),
      getMany: (ks: readonly Buffer[]) => (calls.push(ks.length), inner.getMany(ks)),
      putAll: (es: readonly BytesEntry[]) => inner.putAll(es),
      range: inner.range.bind(inner),
      approximateCount: () => inner.approximateCount(),
    };
    const cache = new CachingBytesStore(spy);
    await cache.putAll([[b('c'), b('C')]]);
    expect(await cache.getMany([b('a'), b('b'), b('c'), b('d')])).toEqual([b('A'), b('B'), b('C'), undefined]);
    expect(calls).toEqual([3]);
    // Read again: all answered from the cache.
    expect(await cache.get(b('a'))).toEqual(b('A'));
    expect(calls).toEqual([3]);
  });

  it('forgets unflushed writes on discard', async () => {
    const { inner, cache } = layered();
    await inner.putAll([[b('k'), b('old')]]);
    await cache.putAll([[b('k'), b('new')]]);
    cache.discard();
    expect(await cache.get(b('k'))).toEqual(b('old'));
  });

  it('does not keep a value read from below while a write and a flush landed (an interactive query racing a commit)', async () => {
    const inner = new InMemoryBytesStore('s');
    await inner.putAll([[b('k'), b('old')]]);
    // The layer below answers the query's read only after processing wrote and the commit flushed.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = {
      name: 's',
      get: (k: Buffer) => inner.get(k),
      getMany: async (keys: readonly Buffer[]) => {
        const values = await inner.getMany(keys);
        await gate;
        return values;
      },
      putAll: (e: readonly BytesEntry[]) => inner.putAll(e),
      range: inner.range.bind(inner),
      approximateCount: () => inner.approximateCount(),
    };
    const cache = new CachingBytesStore(slow);
    const query = cache.get(b('k'));
    await cache.putAll([[b('k'), b('new')]]);
    await cache.flush();
    release();
    expect(await query).toEqual(b('old')); // what was there when the query read
    expect(await cache.get(b('k'))).toEqual(b('new')); // the next read is not served the stale copy
  });
});

describe('write cache size', () => {
  it('counts the bytes it holds, frees clean entries on demand and everything on flush', async () => {
    const inner = new InMemoryBytesStore('s');
    await inner.putAll([[b('read'), Buffer.alloc(1000)]]);
    const cache = new CachingBytesStore(inner);
    expect(cache.bytes).toBe(0);
    await cache.get(b('read'));
    const afterRead = cache.bytes;
    expect(afterRead).toBeGreaterThanOrEqual(1000);
    await cache.putAll([[b('w'), Buffer.alloc(500)]]);
    await cache.putAll([[b('w'), Buffer.alloc(200)]]); // replaces, does not add
    expect(cache.bytes - afterRead).toBeGreaterThanOrEqual(200);
    expect(cache.bytes - afterRead).toBeLessThan(500);
    cache.dropClean();
    expect(cache.bytes).toBeLessThan(500);
    expect(await cache.get(b('w'))).toEqual(Buffer.alloc(200)); // dirty entries stay
    await cache.flush();
    expect(cache.bytes).toBe(0);
  });
});
