/**
 * Reads the runtime's latency histograms (as prom-client's `getMetricsAsJSON` gives them) into percentiles
 * per stage, so a latency benchmark can say where a record's time went, not only how long it took.
 * A percentile is the upper bound of the bucket it falls in: coarse, but the same measure for every stage.
 */
export interface MetricJson {
  readonly name: string;
  readonly type: string;
  readonly values: ReadonlyArray<{ readonly labels: Readonly<Record<string, string | number>>; readonly value: number; readonly metricName?: string }>;
}

export interface StageFigures {
  readonly count: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly mean_ms: number;
}

/** One entry per label set of each histogram named, keyed `<metric>{label=value,…}` without the `le` label. */
export function stagePercentiles(metrics: readonly MetricJson[], names: readonly string[]): Record<string, StageFigures> {
  const out: Record<string, StageFigures> = {};
  for (const m of metrics) {
    if (m.type !== 'histogram' || !names.includes(m.name)) continue;
    const series = new Map<string, { buckets: Array<[number, number]>; sum: number; count: number }>();
    for (const v of m.values) {
      const { le, ...rest } = v.labels;
      const key = `${m.name}${Object.keys(rest).length ? `{${Object.entries(rest).sort().map(([k, x]) => `${k}=${x}`).join(',')}}` : ''}`;
      const s = series.get(key) ?? { buckets: [], sum: 0, count: 0 };
      series.set(key, s);
      if (v.metricName?.endsWith('_bucket')) s.buckets.push([le === '+Inf' ? Infinity : Number(le), v.value]);
      else if (v.metricName?.endsWith('_sum')) s.sum = v.value;
      else if (v.metricName?.endsWith('_count')) s.count = v.value;
    }
    for (const [key, s] of series) {
      if (s.count === 0) continue;
      s.buckets.sort((a, b) => a[0] - b[0]);
      const at = (q: number): number => {
        const rank = q * s.count;
        const hit = s.buckets.find(([, cumulative]) => cumulative >= rank);
        const le = hit?.[0] ?? Infinity;
        // Past the last finite bucket: the largest finite bound is the most that can be said.
        return Number.isFinite(le) ? le * 1000 : (s.buckets.filter(([b]) => Number.isFinite(b)).at(-1)?.[0] ?? 0) * 1000;
      };
      out[key] = { count: s.count, p50_ms: at(0.5), p99_ms: at(0.99), mean_ms: Math.round((s.sum / s.count) * 1000 * 10) / 10 };
    }
  }
  return out;
}

/** The histograms the runtime keeps for latency (see src/streams/internals/metrics.ts). */
export const STAGE_METRICS = ['streams_record_e2e_latency_seconds', 'streams_process_lock_wait_seconds', 'streams_commit_blocking_seconds', 'streams_commit_seconds', 'streams_process_batch_seconds'] as const;
