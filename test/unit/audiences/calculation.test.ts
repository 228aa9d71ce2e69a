import { describe, expect, it } from 'vitest';
import { addEvent, emptyBucket, mergeBuckets, MAX_TRACKED_VALUES, type Bucket } from '../../../src/audiences/bucket.ts';
import { calculate, UNIQUE_LIST_MAX, type Calculation } from '../../../src/audiences/calculation.ts';
import type { UserAttributeValue } from '../../../src/schema/batch.ts';

const T = Date.UTC(2025, 0, 10, 12);

function fold(events: Array<[number, UserAttributeValue | undefined]>): Bucket {
  return events.reduce((b, [at, v]) => addEvent(b, at, v), emptyBucket(0));
}

describe('calculations', () => {
  const events: Array<[number, UserAttributeValue | undefined]> = [
    [T + 3, 5], [T + 1, '2.5'], [T + 2, 'jazz'], [T + 4, 5], [T + 5, undefined],
  ];
  const expected: Record<Calculation, string | string[] | null> = {
    count: '5',
    sum: '12.5',
    minimum: '2.5',
    maximum: '5',
    average: '4.16666666667',
    most_frequent: '5',
    unique_count: '3',
    first_value: '2.5',
    last_value: '5',
    first_timestamp: new Date(T + 1).toISOString(),
    last_timestamp: new Date(T + 5).toISOString(),
    unique_list: ['2.5', '5', 'jazz'],
  };
  for (const [calculation, value] of Object.entries(expected)) {
    it(`${calculation} gives ${JSON.stringify(value)}`, () => {
      expect(calculate(calculation as Calculation, fold(events))).toEqual(value);
    });
  }

  it('over no events: counts and sums are "0", the rest have no value', () => {
    const empty = emptyBucket(0);
    expect(calculate('count', empty)).toBe('0');
    expect(calculate('sum', empty)).toBe('0');
    expect(calculate('unique_count', empty)).toBe('0');
    for (const c of ['minimum', 'maximum', 'average', 'most_frequent', 'first_value', 'last_value', 'first_timestamp', 'last_timestamp', 'unique_list'] as const) {
      expect(calculate(c, empty), c).toBeNull();
    }
  });

  it('most frequent breaks ties alphabetically, whatever the order of events', () => {
    const a = fold([[T, 'rock'], [T + 1, 'Jazz'], [T + 2, 'rock'], [T + 3, 'Jazz'], [T + 4, 'blues']]);
    const b = fold([[T, 'Jazz'], [T + 1, 'rock'], [T + 2, 'blues'], [T + 3, 'Jazz'], [T + 4, 'rock']]);
    expect(calculate('most_frequent', a)).toBe('Jazz');
    expect(calculate('most_frequent', b)).toBe('Jazz');
  });

  it('a unique list holds at most 100 values (the alphabetically first), a unique count all tracked ones', () => {
    const many = fold(Array.from({ length: 150 }, (_, i) => [T + i, `v${String(i).padStart(3, '0')}`] as [number, string]));
    const list = calculate('unique_list', many) as string[];
    expect(list).toHaveLength(UNIQUE_LIST_MAX);
    expect(list[0]).toBe('v000');
    expect(list.at(-1)).toBe('v099');
    expect(calculate('unique_count', many)).toBe('150');
  });

  it('tracks a bounded number of distinct values per bucket', () => {
    const b = fold(Array.from({ length: MAX_TRACKED_VALUES + 10 }, (_, i) => [T + i, `x${i}`] as [number, string]));
    expect(Object.keys(b.v)).toHaveLength(MAX_TRACKED_VALUES);
    expect(b.n).toBe(MAX_TRACKED_VALUES + 10);
  });

  it('first and last value follow event time, not arrival, and merge across buckets', () => {
    const late = fold([[T + 100, 'late'], [T, 'early']]);
    expect(calculate('first_value', late)).toBe('early');
    expect(calculate('last_value', late)).toBe('late');
    const merged = mergeBuckets([fold([[T + 50, 'mid']]), late], 0);
    expect(calculate('first_value', merged)).toBe('early');
    expect(calculate('count', merged)).toBe('3');
  });

  it('sums give the same text in any order (12 significant digits)', () => {
    const xs = [0.1, 0.2, 0.3, 1e-3, 12.34];
    const forward = fold(xs.map((x, i) => [T + i, x]));
    const backward = fold([...xs].reverse().map((x, i) => [T + i, x]));
    expect(calculate('sum', forward)).toBe(calculate('sum', backward));
    expect(calculate('sum', forward)).toBe('12.941');
  });
});
