import type { UserAttributeValue } from '../schema/batch.ts';
import { dict, entriesOf, get, setEntry, type Dict } from '../shared/dictionary.ts';
import { numberOf, textOf } from './value-condition.ts';

export const DAY_MS = 24 * 60 * 60 * 1000;
/** The bucket of lifetime and since-date definitions: one accumulator, no window. */
export const ALL_TIME = -1;
/**
 * Distinct values tracked per bucket (for most frequent, unique count, unique list). Beyond it new values
 * are still counted in `n` but not tracked, so memory per user stays bounded whatever the traffic.
 */
export const MAX_TRACKED_VALUES = 1000;

/** The UTC day (days since the epoch) of a time. */
export const dayOf = (ms: number): number => Math.floor(ms / DAY_MS);

/**
 * What a calculation needs to know of the matching events of one UTC day (or of all time): counts, the
 * numeric sum and range, the first and last value by event time, and how often each value occurred.
 * Two buckets merge associatively, so a window's value is the merge of its days.
 */
export type Bucket = {
  /** UTC day, or `ALL_TIME`. */
  d: number;
  /** Matching events. */
  n: number;
  /** Matching events whose attribute is numeric, their sum, minimum and maximum. */
  c: number;
  s: number;
  lo: number | null;
  hi: number | null;
  /** First and last matching event time. */
  ft: number | null;
  lt: number | null;
  /** First and last [event time, value text] (ties: smaller text first, larger text last). */
  f: [number, string] | null;
  l: [number, string] | null;
  /** Value text -> occurrences, at most MAX_TRACKED_VALUES keys. */
  v: Dict<number>;
};

export function emptyBucket(d: number): Bucket {
  return { d, n: 0, c: 0, s: 0, lo: null, hi: null, ft: null, lt: null, f: null, l: null, v: dict() };
}

/**
 * Adds one event to a copy of the bucket. `value` is the aggregated attribute (undefined when the
 * definition has none or the event lacks it): events without it count in `n` only.
 */
export function addEvent(bucket: Bucket, timeMs: number, value: UserAttributeValue | undefined): Bucket {
  const next = cloneBucket(bucket);
  addInto(next, timeMs, value);
  return next;
}

/** A copy whose value counts can be changed without touching the original (the tuples are never mutated). */
export function cloneBucket(bucket: Bucket): Bucket {
  return { ...bucket, v: dict(entriesOf(bucket.v)) };
}

/**
 * `addEvent` in place, for a bucket the caller just cloned: a batch clones each touched bucket once,
 * instead of copying up to MAX_TRACKED_VALUES counts per event.
 */
export function addInto(b: Bucket, timeMs: number, value: UserAttributeValue | undefined): void {
  b.n += 1;
  b.ft = b.ft === null ? timeMs : Math.min(b.ft, timeMs);
  b.lt = b.lt === null ? timeMs : Math.max(b.lt, timeMs);
  if (value === undefined || value === null) return;
  const n = numberOf(value);
  if (n !== undefined) {
    b.c += 1;
    b.s += n;
    b.lo = b.lo === null ? n : Math.min(b.lo, n);
    b.hi = b.hi === null ? n : Math.max(b.hi, n);
  }
  const text = textOf(value);
  b.f = earlier(b.f, [timeMs, text]);
  b.l = later(b.l, [timeMs, text]);
  const seen = get(b.v, text);
  // Counting keys is O(keys); only needed for a value not seen yet.
  if (seen !== undefined || Object.keys(b.v).length < MAX_TRACKED_VALUES) setEntry(b.v, text, (seen ?? 0) + 1);
}

/** The merge of several buckets (a window's days), as one bucket of day `d`. */
export function mergeBuckets(buckets: readonly Bucket[], d: number): Bucket {
  const out = emptyBucket(d);
  const values = new Map<string, number>();
  for (const b of buckets) {
    out.n += b.n;
    out.c += b.c;
    out.s += b.s;
    if (b.lo !== null) out.lo = out.lo === null ? b.lo : Math.min(out.lo, b.lo);
    if (b.hi !== null) out.hi = out.hi === null ? b.hi : Math.max(out.hi, b.hi);
    if (b.ft !== null) out.ft = out.ft === null ? b.ft : Math.min(out.ft, b.ft);
    if (b.lt !== null) out.lt = out.lt === null ? b.lt : Math.max(out.lt, b.lt);
    if (b.f) out.f = earlier(out.f, b.f);
    if (b.l) out.l = later(out.l, b.l);
    for (const [text, count] of entriesOf(b.v)) values.set(text, (values.get(text) ?? 0) + count);
  }
  out.v = dict([...values]);
  return out;
}

function earlier(a: [number, string] | null, b: [number, string]): [number, string] {
  if (a === null || b[0] < a[0] || (b[0] === a[0] && b[1] < a[1])) return b;
  return a;
}

function later(a: [number, string] | null, b: [number, string]): [number, string] {
  if (a === null || b[0] > a[0] || (b[0] === a[0] && b[1] > a[1])) return b;
  return a;
}
