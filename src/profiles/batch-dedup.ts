import { createHash } from 'node:crypto';
import type { Batch } from '../schema/batch.ts';
import type { RecentBatch } from '../schema/profile-state.ts';

/** How long (in event time) a batch id is remembered for replay detection, and how many at most. */
export interface DedupOptions {
  readonly windowMs: number;
  readonly maxRemembered: number;
}

export const DEFAULT_DEDUP: DedupOptions = { windowMs: 7 * 24 * 60 * 60 * 1000, maxRemembered: 256 };

/**
 * The id a batch is deduplicated and tie-broken by: its `source_request_id`, or, when the sender gave
 * none, a digest of its content, so a byte-identical replay is still recognised (and two different
 * batches without ids never collide).
 */
export function batchIdOf(batch: Batch): string {
  if (batch.source_request_id !== null) return batch.source_request_id;
  return `sha256:${createHash('sha256').update(JSON.stringify(batch)).digest('hex')}`;
}

export function isReplay(recent: readonly RecentBatch[], batchId: string): boolean {
  return recent.some((entry) => entry.batch_id === batchId);
}

/**
 * The remembered ids after `batchId` (seen at event time `seenMs`) is added. What is kept depends only
 * on the set of ids ever added, never on their order: the newest `maxRemembered` (by time, then id)
 * within `windowMs` of the newest. That keeps the stored profile identical in every arrival order.
 * A batch older than the window is merged (last-write-wins makes that harmless) but not remembered.
 */
export function rememberBatch(
  recent: readonly RecentBatch[],
  batchId: string,
  seenMs: number,
  options: DedupOptions,
): RecentBatch[] {
  const all = [...recent, { batch_id: batchId, seen_ms: seenMs }];
  const newest = Math.max(...all.map((entry) => entry.seen_ms));
  return all
    .filter((entry) => entry.seen_ms >= newest - options.windowMs)
    .sort((a, b) => a.seen_ms - b.seen_ms || (a.batch_id < b.batch_id ? -1 : a.batch_id > b.batch_id ? 1 : 0))
    .slice(-options.maxRemembered);
}
