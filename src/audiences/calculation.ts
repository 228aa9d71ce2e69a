import { entriesOf } from '../shared/dictionary.ts';
import type { Bucket } from './bucket.ts';

export const CALCULATIONS = [
  'count', 'sum', 'minimum', 'maximum', 'average', 'most_frequent', 'unique_count',
  'first_value', 'last_value', 'first_timestamp', 'last_timestamp', 'unique_list',
] as const;
export type Calculation = (typeof CALCULATIONS)[number];

/** Calculations that read an attribute of the event (the others only count or time events). */
export const NEEDS_ATTRIBUTE: ReadonlySet<Calculation> = new Set([
  'sum', 'minimum', 'maximum', 'average', 'most_frequent', 'unique_count', 'first_value', 'last_value', 'unique_list',
]);

/** mParticle caps a unique list at 100 values; we keep the alphabetically first 100, so the result does not depend on arrival order. */
export const UNIQUE_LIST_MAX = 100;

/**
 * A number as the calculated value shows it: rounded to 12 significant digits, so sums of the same
 * values added in a different order (late batches, window merges) give the same text.
 */
export function formatNumber(n: number): string {
  return String(Number(n.toPrecision(12)));
}

/**
 * The value of a calculation over the merged bucket, as mParticle exposes it: a string (timestamps in
 * ISO-8601 UTC; a unique list is a list of strings), `"0"` for counts and sums over nothing, null when there is no value (no event, or no
 * numeric value for minimum/maximum/average).
 */
export function calculate(calculation: Calculation, b: Bucket): string | string[] | null {
  switch (calculation) {
    case 'count':
      return String(b.n);
    case 'sum':
      return formatNumber(b.s);
    case 'minimum':
      return b.lo === null ? null : formatNumber(b.lo);
    case 'maximum':
      return b.hi === null ? null : formatNumber(b.hi);
    case 'average':
      return b.c === 0 ? null : formatNumber(b.s / b.c);
    case 'most_frequent': {
      let best: [string, number] | null = null;
      for (const [text, count] of entriesOf(b.v)) {
        if (best === null || count > best[1] || (count === best[1] && text < best[0])) best = [text, count];
      }
      return best === null ? null : best[0];
    }
    case 'unique_count':
      return String(Object.keys(b.v).length);
    case 'first_value':
      return b.f === null ? null : b.f[1];
    case 'last_value':
      return b.l === null ? null : b.l[1];
    case 'first_timestamp':
      return b.ft === null ? null : new Date(b.ft).toISOString();
    case 'last_timestamp':
      return b.lt === null ? null : new Date(b.lt).toISOString();
    case 'unique_list': {
      const values = Object.keys(b.v).sort().slice(0, UNIQUE_LIST_MAX);
      return values.length === 0 ? null : values;
    }
  }
}
