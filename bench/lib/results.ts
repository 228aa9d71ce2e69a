import { mkdirSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineInfo } from './machine.ts';
import type { Summary } from './stats.ts';

/** Issue 8's targets: `figure` in `median` or `ratios`, compared with `op` against `value`. */
export interface Target {
  readonly label: string;
  readonly key: string;
  readonly op: '>=' | '<=';
  readonly value: number;
}

export interface BenchResult extends Summary {
  readonly benchmark: string;
  readonly started_at: string;
  readonly duration_s: number;
  readonly size: string;
  readonly machine: MachineInfo;
  readonly parameters: Record<string, unknown>;
  readonly runs: Record<string, number | undefined>[];
  readonly ratios: Record<string, number | undefined>;
  readonly targets: Target[];
  /** Units of each figure, for the tables ("batches/s", "ms", "MB"). */
  readonly units: Record<string, string>;
  readonly notes: string[];
  /** Latency benchmark: where the time went per run, from the service's own histograms. */
  readonly stages?: unknown;
}

/** Writes `<dir>/<benchmark>.json` (the benchmarks' results, and the chaos suite's). */
export function writeResult(dir: string, result: { readonly benchmark: string }): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${result.benchmark}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

export function readResults(dir: string): BenchResult[] {
  if (!existsSync(dir)) return [];
  const order = ['pipeline', 'ceilings', 'memory', 'memory-at-scale', 'latency', 'restore', 'api'];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as BenchResult)
    // Other tools' records beside ours (bench/auth-flood.ts writes auth-flood-*.json here) have no runs:
    // reading them as harness results crashed the report at the end of `npm run bench`.
    .filter((r) => r !== null && typeof r === 'object' && typeof r.benchmark === 'string' && Array.isArray(r.runs))
    .sort((a, b) => order.indexOf(a.benchmark) - order.indexOf(b.benchmark));
}

export function targetValue(r: BenchResult, key: string): number | undefined {
  const v = r.ratios[key] ?? r.median[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function targetMet(r: BenchResult, t: Target): boolean | undefined {
  const v = targetValue(r, t.key);
  if (v === undefined) return undefined;
  return t.op === '>=' ? v >= t.value : v <= t.value;
}
