import { createHash } from 'node:crypto';
import type { Batch } from '../schema/batch.ts';

/** How long (in event time) a batch id is remembered for replay detection, and how many at most. */
export interface DedupOptions {
  readonly windowMs: number;
  readonly maxRemembered: number;
}

export const DEFAULT_DEDUP: DedupOptions = { windowMs: 7 * 24 * 60 * 60 * 1000, maxRemembered: 256 };

/**
 * One remembered batch: a 64-bit digest of its batch id (16 lower-case hex digits) and the event time
 * it was merged at. The digest, not the id, is kept so an entry has a fixed small size whatever the
 * sender's ids look like; with at most `maxRemembered` (256) entries per user, a false match needs a
 * 64-bit collision among them (about 256 / 2^64 per batch).
 */
export type RecentBatch = { readonly digest: string; readonly seen_ms: number };

/** A user's remembered batches, oldest first (by time, then digest). Kept apart from the profile. */
export type RecentBatches = readonly RecentBatch[];

export const NO_RECENT_BATCHES: RecentBatches = Object.freeze([]);

/**
 * The id a batch is deduplicated and tie-broken by: its `source_request_id`, or, when the sender gave
 * none, a digest of its content, so a byte-identical replay is still recognised (and two different
 * batches without ids never collide).
 */
export function batchIdOf(batch: Batch): string {
  if (batch.source_request_id !== null) return batch.source_request_id;
  return `sha256:${createHash('sha256').update(JSON.stringify(batch)).digest('hex')}`;
}

/** The first 64 bits of SHA-256 of the batch id, as 16 hex digits: what the dedup store keeps. */
export function batchDigestOf(batchId: string): string {
  return createHash('sha256').update(batchId).digest('hex').slice(0, 16);
}

export function isReplay(recent: RecentBatches, digest: string): boolean {
  for (const entry of recent) if (entry.digest === digest) return true;
  return false;
}

/**
 * The remembered batches after `digest` (seen at event time `seenMs`) is added. What is kept depends only
 * on the set of digests ever added, never on their order: the newest `maxRemembered` (by time, then
 * digest) within `windowMs` of the newest. That keeps the stored list identical in every arrival order.
 * A batch older than the window is merged (last-write-wins makes that harmless) but not remembered.
 */
export function rememberBatch(recent: RecentBatches, digest: string, seenMs: number, options: DedupOptions): RecentBatches {
  const all = [...recent, { digest, seen_ms: seenMs }];
  let newest = -Infinity;
  for (const entry of all) if (entry.seen_ms > newest) newest = entry.seen_ms;
  return all
    .filter((entry) => entry.seen_ms >= newest - options.windowMs)
    .sort((a, b) => a.seen_ms - b.seen_ms || (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0))
    .slice(-options.maxRemembered);
}

export function sameRecentBatches(a: RecentBatches, b: RecentBatches): boolean {
  return a === b || (a.length === b.length && a.every((entry, i) => entry.digest === b[i]!.digest && entry.seen_ms === b[i]!.seen_ms));
}
