import type { Dict } from '../profiles/dictionary.ts';
import { get } from '../profiles/dictionary.ts';
import { addEvent, emptyBucket, mergeBuckets, type Bucket } from './bucket.ts';
import { bucketDayFor, bucketExpiresAt, firstDayInWindow, type DateRange } from './date-range.ts';
import { matchesEvent, type EventFilter } from './event-filter.ts';
import { attributeOf, type EventView } from './event-view.ts';

/**
 * Something kept per user and definition in the `aggregates` store: a calculated attribute (key = its
 * name), or an audience's event counter (key = `~` + content hash). `version` changes when the
 * definition does; state of another version is dropped and rebuilt from the retained events.
 */
export interface TrackedDefinition {
  readonly key: string;
  readonly version: number;
  readonly event: EventFilter;
  readonly attribute: string | null;
  readonly range: DateRange;
}

/** One definition's state for one user: daily buckets (one `ALL_TIME` bucket when not windowed), and a seed. */
export type DefinitionState = {
  version: number;
  /** Sorted by day; windowed ranges keep at most N of them. */
  buckets: Bucket[];
  /** Seeded value covering events before `cutoff_ms`; live events before the cutoff are ignored. */
  seed: Bucket | null;
  cutoff_ms: number | null;
};

/** A user's aggregates in one workspace. */
export type WorkspaceAggregates = {
  defs: Dict<DefinitionState>;
  /** Recent events, newest last, kept so that a changed definition is recomputed, not blended. */
  log: EventView[];
};

/** The `aggregates` store value, keyed by MPID. */
export type UserAggregates = { workspaces: Dict<WorkspaceAggregates> };

/** How much of a user's events is retained for recomputation: bounded in count and age. */
export interface RetentionLimits {
  readonly maxEvents: number;
  readonly maxDays: number;
}
export const DEFAULT_RETENTION: RetentionLimits = { maxEvents: 500, maxDays: 90 };

export function emptyState(version: number): DefinitionState {
  return { version, buckets: [], seed: null, cutoff_ms: null };
}

/** Adds one event to a definition's state (a copy), when the definition reads it and its window still holds it. */
export function foldEvent(state: DefinitionState, def: TrackedDefinition, event: EventView, nowMs: number): DefinitionState {
  const day = bucketDayFor(def.range, event.time_ms);
  if (day === undefined || day < firstDayInWindow(def.range, nowMs)) return state;
  if (state.cutoff_ms !== null && event.time_ms < state.cutoff_ms) return state;
  if (!matchesEvent(def.event, event)) return state;
  const value = def.attribute === null ? undefined : attributeOf(event, def.attribute);
  const i = state.buckets.findIndex((b) => b.d >= day);
  const buckets = [...state.buckets];
  if (i >= 0 && buckets[i]!.d === day) buckets[i] = addEvent(buckets[i]!, event.time_ms, value);
  else buckets.splice(i < 0 ? buckets.length : i, 0, addEvent(emptyBucket(day), event.time_ms, value));
  return { ...state, buckets };
}

/** The state rebuilt from retained events alone (a new or changed definition: seeds are dropped). */
export function recompute(def: TrackedDefinition, log: readonly EventView[], nowMs: number): DefinitionState {
  let state = emptyState(def.version);
  for (const event of log) state = foldEvent(state, def, event, nowMs);
  return state;
}

/** Drops buckets (and a seed) that left the window at `nowMs`; the same state when nothing left. */
export function prune(state: DefinitionState, def: TrackedDefinition, nowMs: number): DefinitionState {
  const first = firstDayInWindow(def.range, nowMs);
  const buckets = state.buckets.filter((b) => b.d >= first);
  const seed = state.seed !== null && state.seed.d < first ? null : state.seed;
  return buckets.length === state.buckets.length && seed === state.seed ? state : { ...state, buckets, seed };
}

/** Every bucket of the state in its window at `nowMs`, merged (seed included). */
export function windowBucket(state: DefinitionState | undefined, def: TrackedDefinition, nowMs: number): Bucket {
  if (state === undefined) return emptyBucket(0);
  const first = firstDayInWindow(def.range, nowMs);
  const parts = state.buckets.filter((b) => b.d >= first);
  if (state.seed !== null && state.seed.d >= first) parts.push(state.seed);
  return mergeBuckets(parts, 0);
}

/** The earliest time a bucket of this state leaves its window; null when time alone never changes it. */
export function stateExpiresAt(state: DefinitionState, def: TrackedDefinition): number | null {
  let next: number | null = null;
  for (const b of state.seed === null ? state.buckets : [...state.buckets, state.seed]) {
    const at = bucketExpiresAt(def.range, b.d);
    if (at !== null && (next === null || at < next)) next = at;
  }
  return next;
}

/** Appends events to the retained log and trims it to the limits (oldest events go first). */
export function retain(log: readonly EventView[], events: readonly EventView[], nowMs: number, limits: RetentionLimits): EventView[] {
  const oldest = nowMs - limits.maxDays * 24 * 60 * 60 * 1000;
  const all = [...log, ...events].filter((e) => e.time_ms >= oldest);
  all.sort((a, b) => a.time_ms - b.time_ms);
  return all.length > limits.maxEvents ? all.slice(all.length - limits.maxEvents) : all;
}

export function stateOf(ws: WorkspaceAggregates | undefined, key: string): DefinitionState | undefined {
  return ws === undefined ? undefined : get(ws.defs, key);
}
