import type { SeededRandom } from './seeded-random.ts';

/**
 * Zipf-distributed ranks over 0..n-1 (rank 0 most frequent), the usual shape of user activity:
 * a few users send most batches. The cumulative table costs 8 bytes per user and is built once;
 * each draw is a binary search.
 */
export class ZipfDistribution {
  private readonly cdf: Float64Array;

  constructor(readonly n: number, readonly exponent = 1) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`Zipf needs at least one item, got ${n}`);
    this.cdf = new Float64Array(n);
    let sum = 0;
    for (let k = 0; k < n; k++) {
      sum += 1 / (k + 1) ** exponent;
      this.cdf[k] = sum;
    }
    for (let k = 0; k < n; k++) this.cdf[k]! /= sum;
  }

  draw(random: SeededRandom): number {
    const u = random.next();
    let lo = 0;
    let hi = this.n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
