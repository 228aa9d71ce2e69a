import { addInto, cloneBucket, DAY_MS, emptyBucket, mergeBuckets, type Bucket } from './bucket.ts';
import { calculate, type Calculation } from './calculation.ts';
import { bucketDayFor, bucketExpiresAt, firstDayInWindow, type DateRange } from './date-range.ts';
import { matchesEvent, type EventCondition } from './event-condition.ts';
import { attributeOf, type EventView } from './event-view.ts';
import { seedBucket, validateSeed, type SeedSummary } from './seed.ts';

/**
 * What a definition's state depends on. A calculated attribute definition is one; so is an audience's
 * event counter (with `attribute: null`: it only counts).
 */
export interface StateDefinition {
  /** Content hash of the definition: a state of another version is stale and must be recomputed. */
  readonly version: number;
  readonly event: EventCondition;
  /** The event attribute aggregated; null when the calculation only counts or times events. */
  readonly attribute: string | null;
  readonly range: DateRange;
}

/** A definition that has a value: what `valueOf` needs (a `CalculatedAttributeDefinition` is one). */
export interface ValueDefinition extends StateDefinition {
  readonly calculation: Calculation;
}

/**
 * One definition's state for one user — what to persist. Bounded whatever the traffic:
 * - `within_days: N`: one bucket per UTC day, at most N + 1 after `expire` (today may be followed by
 *   tomorrow, for events up to MAX_FUTURE_MS ahead of the clock);
 * - lifetime / since: one bucket (day `ALL_TIME`);
 * - each bucket tracks at most MAX_TRACKED_VALUES distinct values.
 */
export type CalculationState = {
  version: number;
  /** Sorted by day. */
  buckets: Bucket[];
  /** Seeded summary of what happened before `cutoff_ms`; live events before the cutoff are ignored. */
  seed: Bucket | null;
  cutoff_ms: number | null;
};

/**
 * How far ahead of the clock an event may be dated and still count. A device with a wrong clock would
 * otherwise create buckets that never leave the window (or a last timestamp years ahead).
 */
export const MAX_FUTURE_MS = DAY_MS;

export function emptyState(version: number): CalculationState {
  return { version, buckets: [], seed: null, cutoff_ms: null };
}

/**
 * Adds one event to a copy of the state when the definition reads it: it matches the event condition,
 * is in the date range and window at `nowMs`, not before the seed's cutoff, and not more than
 * MAX_FUTURE_MS ahead of `nowMs`. The event's time is `event.time_ms` (see `viewOf`); `nowMs` is the
 * processing wall-clock time, never the event's.
 *
 * @example safe — `expire(applyEvent(state, def, event, now), def, now)` then `valueOf(..., now)`.
 * @example unsafe — passing the event's own time as `nowMs`: late events would reopen closed windows.
 */
export function applyEvent(state: CalculationState, def: StateDefinition, event: EventView, nowMs: number): CalculationState {
  return applyEvents(state, def, [event], nowMs);
}

/** `applyEvent` for a batch: each touched bucket is copied once. The same state object when no event counted. */
export function applyEvents(state: CalculationState, def: StateDefinition, events: readonly EventView[], nowMs: number): CalculationState {
  const first = firstDayInWindow(def.range, nowMs);
  let byDay: Map<number, Bucket> | null = null;
  const ours = new Set<Bucket>();
  for (const event of events) {
    const day = bucketDayFor(def.range, event.time_ms);
    if (day === undefined || day < first || event.time_ms > nowMs + MAX_FUTURE_MS) continue;
    if (state.cutoff_ms !== null && event.time_ms < state.cutoff_ms) continue;
    if (!matchesEvent(def.event, event)) continue;
    byDay ??= new Map(state.buckets.map((b) => [b.d, b]));
    let bucket = byDay.get(day);
    // Clone on first touch in this call; later events of the batch mutate the clone.
    if (bucket === undefined || !ours.has(bucket)) {
      bucket = bucket === undefined ? emptyBucket(day) : cloneBucket(bucket);
      byDay.set(day, bucket);
      ours.add(bucket);
    }
    addInto(bucket, event.time_ms, def.attribute === null ? undefined : attributeOf(event, def.attribute));
  }
  if (byDay === null) return state;
  return { ...state, buckets: [...byDay.values()].sort((a, b) => a.d - b.d) };
}

/** Drops buckets (and a seed) that left the window at `nowMs`; the same state object when nothing left. */
export function expire(state: CalculationState, def: StateDefinition, nowMs: number): CalculationState {
  const first = firstDayInWindow(def.range, nowMs);
  const buckets = state.buckets.filter((b) => b.d >= first);
  const seed = state.seed !== null && state.seed.d < first ? null : state.seed;
  return buckets.length === state.buckets.length && seed === state.seed ? state : { ...state, buckets, seed };
}

/** Every bucket of the state inside its window at `nowMs`, seed included, merged into one. */
export function windowTotal(state: CalculationState | undefined, def: StateDefinition, nowMs: number): Bucket {
  if (state === undefined) return emptyBucket(0);
  const first = firstDayInWindow(def.range, nowMs);
  const parts = state.buckets.filter((b) => b.d >= first);
  if (state.seed !== null && state.seed.d >= first) parts.push(state.seed);
  return mergeBuckets(parts, 0);
}

/**
 * The value at `nowMs`, as mParticle exposes calculated attributes: a string (numbers to 12 significant
 * digits, timestamps ISO-8601 UTC), a list of strings for `unique_list`, or null for no value.
 * Buckets already out of the window are ignored even if `expire` was not called.
 */
export function valueOf(state: CalculationState | undefined, def: ValueDefinition, nowMs: number): string | string[] | null {
  return calculate(def.calculation, windowTotal(state, def, nowMs));
}

/**
 * When time alone will next change what the state holds: the end of the UTC day on which its oldest
 * bucket (or the seed) leaves the window. Null when nothing ever leaves (lifetime, since, or empty).
 * The value may turn out the same (a maximum from another day); the punctuator re-evaluates and asks
 * again. `nowMs` itself when a bucket is already out of the window (call `expire`): never a past time.
 */
export function nextChangeAt(state: CalculationState, def: StateDefinition, nowMs: number): number | null {
  let next: number | null = null;
  for (const b of state.seed === null ? state.buckets : [...state.buckets, state.seed]) {
    const at = bucketExpiresAt(def.range, b.d);
    if (at !== null && (next === null || at < next)) next = at;
  }
  return next === null ? null : Math.max(next, nowMs);
}

/**
 * The state rebuilt from retained events alone, for a new or changed definition: never blended with a
 * state of another version, and seeds (which belong to one version) are dropped.
 */
export function recompute(def: StateDefinition, retainedEvents: readonly EventView[], nowMs: number): CalculationState {
  return expire(applyEvents(emptyState(def.version), def, retainedEvents, nowMs), def, nowMs);
}

/**
 * The state restarted from a seed (mParticle's seeding API): the seed summarises what happened before
 * `seed.cutoff_ms`, and the retained events count only from the cutoff on, so nothing is counted twice.
 * The previous state is not an input: a day bucket may hold events on both sides of the cutoff and
 * cannot be split, so the state is rebuilt from the retained events. Throws `SeedInvalidError` when the
 * seed lacks what the calculation reads or has a bad cutoff.
 *
 * For a windowed definition the seed counts as if it happened on the UTC day before the cutoff, and
 * leaves the window with that day.
 */
export function applySeed(def: ValueDefinition, seed: SeedSummary, retainedEvents: readonly EventView[], nowMs: number): CalculationState {
  validateSeed(def.calculation, seed);
  const seeded: CalculationState = {
    version: def.version,
    buckets: [],
    seed: seedBucket(seed, def.range),
    cutoff_ms: seed.cutoff_ms,
  };
  return expire(applyEvents(seeded, def, retainedEvents, nowMs), def, nowMs);
}
