import { describe, expect, it } from 'vitest';
import { addCounts, countValue, distributionOf, emptyCounts, emptyValueCounts, valueBucket } from '../../../src/api/calculated-value-counts.ts';

describe('calculated value counts', () => {
  it('buckets numbers to 3 significant digits and timestamps to their UTC day, so instances add up the same keys', () => {
    expect(valueBucket('1234.5678')).toBe('1230');
    expect(valueBucket('0.000123456')).toBe('0.000123');
    expect(valueBucket('2026-11-30T23:59:59.000Z')).toBe('2026-11-30');
    expect(valueBucket('jazz')).toBe('jazz');
  });

  it('counts values that are object keys elsewhere (__proto__, constructor) as plain values', () => {
    const c = emptyCounts();
    countValue(c, '__proto__', 1);
    countValue(c, '__proto__', 1);
    countValue(c, 'constructor', 1);
    countValue(c, null, 2);
    expect(Object.entries(c.values)).toEqual([['__proto__', 2], ['constructor', 1]]);
    expect(Object.getPrototypeOf(c.values)).toBeNull();
    expect(c).toMatchObject({ users: 4, no_value: 1 });
    expect(distributionOf(c)).toEqual({ kind: 'top_values', buckets: [{ label: '__proto__', count: 2 }, { label: 'constructor', count: 1 }] });
  });

  it('adds two instances\' counts value by value and version by version', () => {
    const a = emptyCounts();
    countValue(a, 'rock', 1);
    countValue(a, ['rock', 'jazz'], 1);
    const b = emptyCounts();
    countValue(b, 'jazz', 2);
    const sum = addCounts(addCounts(emptyValueCounts(), { attributes: { g: a }, profiles_scanned: 5 }), { attributes: { g: b }, profiles_scanned: 7 });
    expect(sum.profiles_scanned).toBe(12);
    expect({ ...sum.attributes['g']!.values }).toEqual({ rock: 2, jazz: 2 });
    expect({ ...sum.attributes['g']!.versions }).toEqual({ 1: 2, 2: 1 });
    // The inputs are left as they were.
    expect({ ...a.values }).toEqual({ rock: 2, jazz: 1 });
  });

  it('shows the ten most frequent values and sums the rest as "other"', () => {
    const c = emptyCounts();
    for (let i = 0; i < 12; i++) for (let n = 0; n <= i; n++) countValue(c, `v${i}`, 1);
    const d = distributionOf(c);
    expect(d.kind).toBe('top_values');
    expect(d.buckets[0]).toEqual({ label: 'v11', count: 12 });
    expect(d.buckets.at(-1)).toEqual({ label: 'other', count: 1 + 2 });
    expect(d.buckets).toHaveLength(11);
  });
});
