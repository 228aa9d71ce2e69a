import { dict } from '../shared/dictionary.ts';
import { ALL_TIME, dayOf, emptyBucket, MAX_TRACKED_VALUES, type Bucket } from './bucket.ts';
import type { Calculation } from './calculation.ts';
import type { DateRange } from './date-range.ts';
import { SeedInvalidError } from './errors.ts';

/**
 * What a user did before `cutoff_ms`, summarised for one calculation, as mParticle's calculated
 * attribute seeding API takes it. Give what the calculation reads (see `SEED_NEEDS`); the rest is kept
 * so that a seed can serve a definition whose calculation reads more (e.g. `count` beside `sum`).
 */
export interface SeedSummary {
  readonly cutoff_ms: number;
  readonly count?: number;
  readonly sum?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  /** Value -> occurrences (most frequent, unique count, unique list). */
  readonly values?: Readonly<Record<string, number>>;
  readonly first?: { readonly timestamp_ms: number; readonly value?: string };
  readonly last?: { readonly timestamp_ms: number; readonly value?: string };
}

/** A seed addressed to a user's definition, as the seeding topic and route carry it. */
export interface Seed extends SeedSummary {
  readonly name: string;
  readonly workspace: string;
}

/** The fields each calculation reads from a seed; a seed without them cannot give a value. */
export const SEED_NEEDS: Readonly<Record<Calculation, readonly string[]>> = {
  count: ['count'],
  sum: ['sum'],
  average: ['sum', 'count'],
  minimum: ['minimum'],
  maximum: ['maximum'],
  most_frequent: ['values'],
  unique_count: ['values'],
  unique_list: ['values'],
  first_value: ['first.value'],
  last_value: ['last.value'],
  first_timestamp: ['first'],
  last_timestamp: ['last'],
};

/** Throws `SeedInvalidError` when the seed cannot stand for the calculation's history before its cutoff. */
export function validateSeed(calculation: Calculation, seed: SeedSummary): void {
  const bad = (problem: string): never => {
    throw new SeedInvalidError(`seed for a ${calculation} calculation: ${problem}`);
  };
  if (!Number.isSafeInteger(seed.cutoff_ms) || seed.cutoff_ms <= 0) bad(`cutoff_ms must be epoch milliseconds, got ${seed.cutoff_ms}`);
  for (const field of SEED_NEEDS[calculation]) {
    const [head, tail] = field.split('.') as [keyof SeedSummary, string | undefined];
    const v = seed[head] as Record<string, unknown> | undefined;
    if (v === undefined || (tail !== undefined && v[tail] === undefined)) bad(`${field} is required`);
  }
  if (seed.count !== undefined && (!Number.isSafeInteger(seed.count) || seed.count < 0)) bad('count must be a whole number, 0 or more');
  for (const key of ['sum', 'minimum', 'maximum'] as const) {
    const v = seed[key];
    if (v !== undefined && !Number.isFinite(v)) bad(`${key} must be a finite number`);
  }
  const values = Object.entries(seed.values ?? {});
  if (values.length > MAX_TRACKED_VALUES) bad(`at most ${MAX_TRACKED_VALUES} values`);
  if (values.some(([, n]) => !Number.isSafeInteger(n) || n < 1)) bad('value occurrences must be whole numbers, 1 or more');
  for (const key of ['first', 'last'] as const) {
    const at = seed[key]?.timestamp_ms;
    if (at !== undefined && (!Number.isSafeInteger(at) || at >= seed.cutoff_ms)) bad(`${key}.timestamp_ms must be before cutoff_ms`);
  }
}

/**
 * The seed as a bucket, mergeable with live days. A windowed definition dates it on the UTC day before
 * the cutoff (the latest day it may stand for, so it stays as long as any of its events could).
 */
export function seedBucket(seed: SeedSummary, range: DateRange): Bucket {
  const b = emptyBucket(range.kind === 'within_days' ? dayOf(seed.cutoff_ms - 1) : ALL_TIME);
  const values = Object.entries(seed.values ?? {});
  b.n = seed.count ?? values.reduce((sum, [, n]) => sum + n, 0);
  // An average is sum / count of numeric values; the seed's count stands for them.
  if (seed.sum !== undefined) {
    b.s = seed.sum;
    b.c = seed.count ?? 1;
  }
  b.lo = seed.minimum ?? null;
  b.hi = seed.maximum ?? null;
  if (seed.minimum !== undefined || seed.maximum !== undefined) b.c = Math.max(b.c, 1);
  b.v = dict(values);
  if (seed.first) {
    b.ft = seed.first.timestamp_ms;
    if (seed.first.value !== undefined) b.f = [seed.first.timestamp_ms, seed.first.value];
  }
  if (seed.last) {
    b.lt = seed.last.timestamp_ms;
    if (seed.last.value !== undefined) b.l = [seed.last.timestamp_ms, seed.last.value];
  }
  return b;
}
