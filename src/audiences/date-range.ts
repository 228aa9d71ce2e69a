import { ALL_TIME, DAY_MS, dayOf } from './bucket.ts';

/**
 * Which events a definition counts, by event time:
 * - `lifetime`: all (within what is retained);
 * - `within_days`: the last N UTC days including today — an event on day `today - N` is out, so an
 *   event exactly N days old has left the window; the value changes at UTC midnight;
 * - `since`: events at or after a date.
 */
export type DateRange =
  | { readonly kind: 'lifetime' }
  | { readonly kind: 'within_days'; readonly days: number }
  | { readonly kind: 'since'; readonly sinceMs: number };

/** The bucket an event at `timeMs` goes to; undefined when the range never counts it. */
export function bucketDayFor(range: DateRange, timeMs: number): number | undefined {
  switch (range.kind) {
    case 'lifetime':
      return ALL_TIME;
    case 'since':
      return timeMs >= range.sinceMs ? ALL_TIME : undefined;
    case 'within_days':
      return dayOf(timeMs);
  }
}

/** The first UTC day still inside the window at `nowMs` (windowed ranges); earlier buckets can be dropped. */
export function firstDayInWindow(range: DateRange, nowMs: number): number {
  return range.kind === 'within_days' ? dayOf(nowMs) - range.days + 1 : Number.NEGATIVE_INFINITY;
}

/** When a bucket of day `d` leaves the window: UTC midnight starting day `d + N`. */
export function bucketExpiresAt(range: DateRange, d: number): number | null {
  return range.kind === 'within_days' ? (d + range.days) * DAY_MS : null;
}
