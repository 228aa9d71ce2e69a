import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../../src/generator/seeded-random.ts';
import { ZipfDistribution } from '../../../src/generator/zipf.ts';

describe('SeededRandom', () => {
  it('repeats its sequence for a seed and stays in range', () => {
    const a = new SeededRandom(1);
    const b = new SeededRandom(1);
    const xs = Array.from({ length: 1000 }, () => a.int(3, 7));
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b.int(3, 7)));
    expect(new Set(xs)).toEqual(new Set([3, 4, 5, 6, 7]));
    expect(new SeededRandom(2).next()).not.toBe(new SeededRandom(1).next());
  });

  it('samples distinct items', () => {
    const picked = new SeededRandom(5).sample([1, 2, 3, 4, 5, 6], 4);
    expect(new Set(picked).size).toBe(4);
  });
});

describe('ZipfDistribution', () => {
  it('makes rank 0 about twice as frequent as rank 1 with exponent 1', () => {
    const zipf = new ZipfDistribution(100);
    const random = new SeededRandom(9);
    const counts = new Array(100).fill(0);
    for (let i = 0; i < 20000; i++) counts[zipf.draw(random)]++;
    expect(counts[0] / counts[1]).toBeGreaterThan(1.7);
    expect(counts[0] / counts[1]).toBeLessThan(2.3);
    expect(counts.every((c) => c >= 0)).toBe(true);
  });
});
