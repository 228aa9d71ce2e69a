/** Median, min and max of each named figure over the runs; the shape every results file uses. */
export interface Summary {
  readonly median: Record<string, number>;
  readonly min: Record<string, number>;
  readonly max: Record<string, number>;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile (p in 0..100) of unsorted samples. */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (values.length === 0) return Number.NaN;
  const s = Float64Array.from(values as ArrayLike<number>).sort();
  const rank = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[rank]!;
}

/** Runs are records of figures; a figure absent from a run (skipped part) is left out of its summary. */
export function summarize(runs: readonly Record<string, number | undefined>[]): Summary {
  const names = [...new Set(runs.flatMap((r) => Object.keys(r)))];
  const out: Summary = { median: {}, min: {}, max: {} };
  for (const name of names) {
    const values = runs.map((r) => r[name]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    if (values.length === 0) continue;
    out.median[name] = round(median(values));
    out.min[name] = round(Math.min(...values));
    out.max[name] = round(Math.max(...values));
  }
  return out;
}

/** Ratio of two medians, or undefined when either is missing. */
export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : round(a / b, 3);
}

export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Spread of a figure over its runs, (max - min) / median: how noisy this machine was for it. */
export function spread(s: Summary, name: string): number | undefined {
  const m = s.median[name];
  return m === undefined || m === 0 ? undefined : round((s.max[name]! - s.min[name]!) / m, 3);
}
