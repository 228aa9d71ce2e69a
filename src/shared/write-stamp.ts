import type { Batch, BatchEvent } from '../schema/batch.ts';

/**
 * Who wrote a value and when. Every last-write-wins register in the profile carries one, and the
 * newest stamp wins: event time first (never arrival order), then `source`, then `batch_id`, compared
 * as plain code-unit strings so every instance and every arrival order picks the same winner.
 */
export interface WriteStamp {
  readonly updated_ms: number;
  readonly source: string;
  readonly batch_id: string;
}

/** Negative when `a` is older than `b`, zero when they are the same write, positive when newer. */
export function compareStamps(a: WriteStamp, b: WriteStamp): number {
  if (a.updated_ms !== b.updated_ms) return a.updated_ms < b.updated_ms ? -1 : 1;
  if (a.source !== b.source) return a.source < b.source ? -1 : 1;
  if (a.batch_id !== b.batch_id) return a.batch_id < b.batch_id ? -1 : 1;
  return 0;
}

/** True when `candidate` should replace `current`: strictly newer, so re-applying the same write is a no-op. */
export function wins(candidate: WriteStamp, current: WriteStamp | undefined | null): boolean {
  return current === undefined || current === null || compareStamps(candidate, current) > 0;
}

/**
 * The time a batch happened: its own timestamp, else the newest of its events, else the time the
 * caller supplies (the Kafka record timestamp). Never the wall clock: replays must see the same time.
 */
export function batchTime(batch: Batch, fallbackMs: number | undefined): number {
  if (batch.timestamp_unixtime_ms !== null) return batch.timestamp_unixtime_ms;
  let newest: number | undefined;
  for (const event of batch.events) {
    const t = event.data.timestamp_unixtime_ms;
    if (t !== null && (newest === undefined || t > newest)) newest = t;
  }
  return newest ?? fallbackMs ?? 0;
}

/** An event's own time, or the batch's when the event has none (mParticle's rule). */
export function eventTime(event: BatchEvent, batchMs: number): number {
  return event.data.timestamp_unixtime_ms ?? batchMs;
}

/** What every write of one batch shares: where it came from and which batch it was. */
export interface BatchContext {
  readonly source: string;
  readonly batchId: string;
  /** The batch's time (`batchTime`), used for writes that carry no time of their own. */
  readonly batchMs: number;
}

export function stampAt(context: BatchContext, updatedMs: number): WriteStamp {
  return { updated_ms: updatedMs, source: context.source, batch_id: context.batchId };
}

/** A stored register's stamp; a stored `batch_id` of null (no id was known) sorts before every id. */
export function storedStamp(register: { updated_ms: number; source: string; batch_id: string | null }): WriteStamp {
  return { updated_ms: register.updated_ms, source: register.source, batch_id: register.batch_id ?? '' };
}
