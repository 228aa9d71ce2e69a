import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/streams/clock.ts';
import { InMemoryBytesStore } from '../../../src/streams/internals/memory-store.ts';
import { StreamsMetrics } from '../../../src/streams/internals/metrics.ts';
import type { ReadRequest } from '../../../src/streams/internals/kafka-port.ts';
import { restore, type RestoreTarget } from '../../../src/streams/internals/restore.ts';
import type { RawRecord } from '../../../src/streams/internals/stream-task.ts';
import { countingTopology } from './support.ts';

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** A changelog partition as a list of [key, value] records, served in fetches of `fetch` records. */
function changelogPort(log: ReadonlyArray<[string, string | null]>, fetch: number, failAt?: number) {
  const requests: ReadRequest[] = [];
  return {
    requests,
    readPartitions: async (req: ReadRequest): Promise<void> => {
      requests.push(req);
      for (const p of req.partitions) {
        for (let at = Number(p.from); at < Number(p.to); at += fetch) {
          if (failAt !== undefined && at >= failAt) throw new Error('broker went away');
          const end = Math.min(Number(p.to), at + fetch);
          const records: RawRecord[] = log.slice(at, end).map(([k, v], i) => ({ topic: p.topic, partition: p.partition, offset: String(at + i), key: Buffer.from(k), value: v === null ? null : Buffer.from(v), timestamp: 0, headers: {} }));
          await req.onBatch(p.topic, p.partition, records, BigInt(end));
        }
      }
    },
  };
}

function target(from: bigint, to: bigint): RestoreTarget & { memory: InMemoryBytesStore } {
  return { taskId: '0_0', changelog: { store: 'counts', topic: 'app-counts-changelog', partition: 0 }, from, to, db: undefined, memory: new InMemoryBytesStore('counts'), progress: { total: to - from, restored: 0n, done: false } };
}

const ctx = (port: ReturnType<typeof changelogPort>) => ({ port, readCommitted: true, logger: silent, metrics: new StreamsMetrics(), clock: new ManualClock(0), timeoutMs: 1000, topology: countingTopology('in', 'out').build('app') });

describe('restore (internals/restore.ts)', () => {
  it('replays the changelog from the stored offset to its end: last value per key wins, tombstones delete', async () => {
    const log: Array<[string, string | null]> = [['a', '1'], ['b', '1'], ['a', '2'], ['c', '1'], ['b', null], ['a', '3']];
    const port = changelogPort(log, 2);
    const t = target(0n, BigInt(log.length));
    await restore([t], ctx(port));
    expect((await t.memory.get(Buffer.from('a')))?.toString()).toBe('3');
    expect(await t.memory.get(Buffer.from('b'))).toBeUndefined();
    expect((await t.memory.get(Buffer.from('c')))?.toString()).toBe('1');
    expect(t.progress).toEqual({ total: 6n, restored: 6n, done: true });
    expect(port.requests[0]!.readCommitted).toBe(true);
  });

  it('reads nothing when the store is already at the changelog end', async () => {
    const port = changelogPort([], 2);
    const t = target(4n, 4n);
    await restore([t], ctx(port));
    expect(port.requests).toHaveLength(0);
    expect(t.progress.done).toBe(true);
  });

  it('a read that fails is PS_ERR_RESTORE_FAILED, after every started write finished', async () => {
    const log: Array<[string, string | null]> = [['a', '1'], ['b', '1'], ['c', '1'], ['d', '1']];
    const t = target(0n, 4n);
    await expect(restore([t], ctx(changelogPort(log, 2, 2)))).rejects.toMatchObject({ code: 'PS_ERR_RESTORE_FAILED' });
    expect((await t.memory.get(Buffer.from('a')))?.toString()).toBe('1');
    expect(t.progress.done).toBe(false);
  });
});
