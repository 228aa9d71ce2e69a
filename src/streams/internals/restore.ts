import type { BytesEntry, BytesStore } from './bytes-store.ts';
import type { KafkaPort } from './kafka-port.ts';
import type { StreamsLogger } from './logger.ts';
import type { StreamsMetrics } from './metrics.ts';
import { TaskDb } from './rocksdb-task-db.ts';
import type { BuiltTopology } from './topology-graph.ts';
import { WriteBehind } from './write-behind.ts';
import { StreamsError } from '../errors.ts';
import type { Clock } from '../clock.ts';

/** `__meta` key of a changelog partition's offset. */
export function changelogOffsetKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

export interface ChangelogPartition {
  readonly store: string;
  readonly topic: string;
  readonly partition: number;
}

/** Restore progress of one task, for readiness and metrics. */
export interface RestoreProgress {
  total: bigint;
  restored: bigint;
  done: boolean;
}

/**
 * The only place that knows how a task's state is brought back:
 *  1. open the task's RocksDB and read the stored changelog offsets (`__meta`);
 *  2. a stored offset beyond the changelog's end means the topic was recreated: wipe the whole task
 *     database and rebuild from offset 0 (never mix two histories);
 *  3. read every changelog partition from its stored offset to its end, batch by batch, each batch
 *     written as one RocksDB write batch together with the new offset (restore is resumable); the write
 *     of one batch runs while the next is fetched (`WriteBehind`), in order per partition;
 *  4. only then may the task process input (the caller keeps its inputs paused until this resolves).
 */
export async function openTaskDb(
  dir: string,
  persistentStores: readonly string[],
  changelogs: readonly ChangelogPartition[],
  ends: ReadonlyMap<string, bigint>,
  logger: StreamsLogger,
  refreshEnd?: (topic: string, partition: number) => Promise<bigint>,
): Promise<{ db: TaskDb; offsets: Map<string, bigint>; ends: Map<string, bigint> }> {
  let db = await TaskDb.open(dir, persistentStores);
  let offsets = await db.readOffsets();
  const seen = new Map(ends);
  const isBeyond = (c: ChangelogPartition): boolean => {
    const key = changelogOffsetKey(c.topic, c.partition);
    return (offsets.get(key) ?? 0n) > (seen.get(key) ?? 0n);
  };
  // The end is the last stable offset: a transaction whose commit the coordinator accepted but whose markers
  // it has not written yet (it restarted with its broker) holds it below what this task already committed.
  // The markers come once the coordinator has loaded its state: wait for them before calling the state bad.
  const deadline = Date.now() + STABLE_END_WAIT_MS;
  while (refreshEnd && changelogs.some(isBeyond) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    for (const c of changelogs.filter(isBeyond)) seen.set(changelogOffsetKey(c.topic, c.partition), await refreshEnd(c.topic, c.partition));
  }
  const beyond = changelogs.find(isBeyond);
  if (beyond) {
    const key = changelogOffsetKey(beyond.topic, beyond.partition);
    logger.warn({ dir, changelog: key, stored: String(offsets.get(key)), end: String(seen.get(key)) }, 'stored changelog offset is beyond the changelog end: wiping the task state and rebuilding it');
    await db.close();
    await TaskDb.wipe(dir);
    db = await TaskDb.open(dir, persistentStores);
    offsets = new Map();
  }
  return { db, offsets, ends: seen };
}

/** How long a changelog's last stable offset may stay below a task's stored offset before the state counts as bad. */
const STABLE_END_WAIT_MS = 60_000;

export interface RestoreTarget {
  readonly taskId: string;
  readonly changelog: ChangelogPartition;
  readonly from: bigint;
  readonly to: bigint;
  /** RocksDB task database, or undefined for an in-memory store. */
  readonly db: TaskDb | undefined;
  readonly memory: BytesStore | undefined;
  readonly progress: RestoreProgress;
}

/**
 * Changelog bytes fetched but not yet in RocksDB: about two of the reader's fetches (2 MiB each), enough to keep
 * the fetch busy during a write without holding more of the changelog in memory than that.
 */
const RESTORE_PENDING_BYTES = 4 * 1024 * 1024;

export async function restore(
  targets: readonly RestoreTarget[],
  ctx: { port: Pick<KafkaPort, 'readPartitions'>; readCommitted: boolean; logger: StreamsLogger; metrics: StreamsMetrics; clock: Clock; timeoutMs: number; topology: BuiltTopology },
): Promise<void> {
  const pending = targets.filter((t) => t.from < t.to);
  for (const t of targets) if (t.from >= t.to) t.progress.done = true;
  if (pending.length === 0) return;
  const started = ctx.clock.now();
  const byKey = new Map(pending.map((t) => [changelogOffsetKey(t.changelog.topic, t.changelog.partition), t]));
  ctx.logger.info({ partitions: [...byKey.keys()], records: String(pending.reduce((s, t) => s + (t.to - t.from), 0n)) }, 'restoring state stores from changelogs');
  const writes = new WriteBehind(RESTORE_PENDING_BYTES);
  try {
    await ctx.port.readPartitions({
      readCommitted: ctx.readCommitted,
      timeoutMs: ctx.timeoutMs,
      partitions: pending.map((t) => ({ topic: t.changelog.topic, partition: t.changelog.partition, from: t.from, to: t.to })),
      onBatch: async (topic, partition, records, nextOffset) => {
        const key = changelogOffsetKey(topic, partition);
        const t = byKey.get(key)!;
        const entries: BytesEntry[] = [];
        let bytes = 0;
        for (const r of records) {
          if (r.key === null) continue;
          entries.push([r.key, r.value]);
          bytes += r.key.length + (r.value?.length ?? 0);
        }
        await writes.enqueue(key, bytes, async () => {
          if (t.db) await t.db.applyRestoreBatch(t.changelog.store, entries, key, nextOffset);
          else await t.memory!.putAll(entries);
          t.progress.restored = nextOffset - t.from;
          ctx.metrics.restoredRecords.inc({ task: t.taskId }, records.length);
          ctx.metrics.restoreRemaining.set({ task: t.taskId }, Number(t.to - nextOffset > 0n ? t.to - nextOffset : 0n));
        });
      },
    });
    await writes.drain();
  } catch (err) {
    // No write may still be running when the caller closes the task databases.
    await writes.drain().catch(() => undefined);
    throw new StreamsError('PS_ERR_RESTORE_FAILED', `restore of ${[...byKey.keys()].join(', ')} failed: ${(err as Error).message}`, { cause: err });
  }
  const seconds = Math.max(0.001, (ctx.clock.now() - started) / 1000);
  for (const t of pending) {
    t.progress.done = true;
    t.progress.restored = t.to - t.from;
    ctx.metrics.restoreRemaining.set({ task: t.taskId }, 0);
    ctx.metrics.restoreRate.set({ task: t.taskId }, Number(t.to - t.from) / seconds);
  }
  ctx.logger.info({ partitions: [...byKey.keys()], ms: ctx.clock.now() - started }, 'restore finished');
}
