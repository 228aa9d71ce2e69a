import type { Unavailable } from './profile-lookup.ts';

/** One calculated attribute's current values over some profiles, bucketed so that instances can add theirs up. */
export interface AttributeValueCounts {
  /** Profiles of the workspace that have the attribute (a value or null). */
  users: number;
  /** Of those, how many have no value yet (null). */
  no_value: number;
  /** Bucketed value → profiles; numbers rounded to 3 significant digits, timestamps to their UTC day. */
  values: Record<string, number>;
  /** Profiles whose value fell outside `values` because it already had its maximum of distinct keys. */
  overflow: number;
  /** Definition version → profiles whose value was computed with it. */
  versions: Record<string, number>;
}

export interface ValueCounts {
  readonly attributes: Record<string, AttributeValueCounts>;
  readonly profiles_scanned: number;
}

/**
 * Counts of the current calculated-attribute values in the profiles this instance owns. Every instance
 * answers for its own partitions (`src/app/adapters/calculated-value-scan.ts` reads the profiles store); the route
 * asks the others and adds the counts up.
 */
export interface CalculatedValueSource {
  localCounts(workspace: string): Promise<ValueCounts | Unavailable>;
  /** `host:port` of every other instance of the application. */
  peers(): string[];
}

/** Distinct keys kept per attribute and instance: a sum over many users has as many values as users. */
export const MAX_DISTINCT_VALUES = 2000;

const NUMBER = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;
const TIMESTAMP = /^(\d{4}-\d{2}-\d{2})T/;

/** The bucket a value counts in: the same on every instance, so counts add up. */
export function valueBucket(value: string): string {
  if (NUMBER.test(value)) return String(Number(Number(value).toPrecision(3)));
  const t = TIMESTAMP.exec(value);
  return t ? t[1]! : value;
}

/** Attribute names and values are data (`__proto__` is a fine value): null-prototype maps throughout. */
function dict<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

export function emptyCounts(): AttributeValueCounts {
  return { users: 0, no_value: 0, values: dict(), overflow: 0, versions: dict() };
}

export function emptyValueCounts(): ValueCounts {
  return { attributes: dict(), profiles_scanned: 0 };
}

export function countValue(into: AttributeValueCounts, value: string | number | boolean | readonly string[] | null, version: number): void {
  into.users++;
  into.versions[String(version)] = (into.versions[String(version)] ?? 0) + 1;
  if (value === null) {
    into.no_value++;
    return;
  }
  // A unique list counts each of its values: the page shows which values are common.
  for (const v of Array.isArray(value) ? (value as readonly string[]) : [String(value)]) {
    const bucket = valueBucket(v);
    if (into.values[bucket] !== undefined) into.values[bucket]++;
    else if (Object.keys(into.values).length < MAX_DISTINCT_VALUES) into.values[bucket] = 1;
    else into.overflow++;
  }
}

export function addCounts(into: ValueCounts, more: ValueCounts): ValueCounts {
  const attributes = dict<AttributeValueCounts>();
  for (const [name, c] of Object.entries(into.attributes)) attributes[name] = c;
  for (const [name, c] of Object.entries(more.attributes)) {
    const before = attributes[name] ?? emptyCounts();
    const a: AttributeValueCounts = { users: before.users, no_value: before.no_value, overflow: before.overflow, values: Object.assign(dict<number>(), before.values), versions: Object.assign(dict<number>(), before.versions) };
    attributes[name] = a;
    a.users += c.users;
    a.no_value += c.no_value;
    a.overflow += c.overflow;
    for (const [k, n] of Object.entries(c.values)) a.values[k] = (a.values[k] ?? 0) + n;
    for (const [k, n] of Object.entries(c.versions)) a.versions[k] = (a.versions[k] ?? 0) + n;
  }
  return { attributes, profiles_scanned: into.profiles_scanned + more.profiles_scanned };
}

export interface Distribution {
  readonly kind: 'histogram' | 'top_values';
  readonly buckets: ReadonlyArray<{ readonly label: string; readonly count: number }>;
}

/**
 * What the page draws: a histogram of 10 equal-width ranges when every value is a number with more than 10
 * distinct values, else the 10 most frequent values (and "other").
 */
export function distributionOf(c: AttributeValueCounts): Distribution {
  const entries = Object.entries(c.values);
  const numeric = entries.length > 0 && entries.every(([k]) => NUMBER.test(k));
  if (numeric && entries.length > 10) {
    const nums = entries.map(([k, n]) => [Number(k), n] as const);
    const min = Math.min(...nums.map(([v]) => v));
    const max = Math.max(...nums.map(([v]) => v));
    const width = (max - min) / 10;
    const counts = new Array<number>(10).fill(0);
    for (const [v, n] of nums) counts[Math.min(9, Math.floor((v - min) / width))]! += n;
    const fmt = (x: number) => String(Number(x.toPrecision(3)));
    return { kind: 'histogram', buckets: counts.map((count, i) => ({ label: `${fmt(min + i * width)} – ${fmt(min + (i + 1) * width)}`, count })) };
  }
  entries.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const top = entries.slice(0, 10).map(([label, count]) => ({ label, count }));
  const other = entries.slice(10).reduce((s, [, n]) => s + n, 0) + c.overflow;
  return { kind: 'top_values', buckets: other > 0 ? [...top, { label: 'other', count: other }] : top };
}
