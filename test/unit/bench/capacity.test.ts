import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderCapacity } from '../../../bench/lib/capacity.ts';
import { readResults } from '../../../bench/lib/results.ts';
import type { BenchResult } from '../../../bench/lib/results.ts';

const root = join(import.meta.dirname, '..', '..', '..');

describe('docs/CAPACITY.md', () => {
  it('is what the committed benchmark results give (its measured inputs match the results files)', () => {
    expect(readFileSync(join(root, 'docs', 'CAPACITY.md'), 'utf8')).toBe(renderCapacity(readResults(join(root, 'bench', 'results'))));
  });

  it('plans instances from the measured exactly-once throughput with 30% headroom, and partitions to double them', () => {
    const result = (benchmark: string, median: Record<string, number>, parameters: Record<string, unknown> = {}): BenchResult =>
      ({ benchmark, size: 'standard', started_at: 'x', duration_s: 1, machine: { load_average_at_start: 0 }, parameters, median, min: median, max: median, runs: [], ratios: {}, targets: [], units: {}, notes: [] }) as unknown as BenchResult;
    const md = renderCapacity([
      result('pipeline', { eos_batches_per_s: 1000, alos_batches_per_s: 1200 }, { mean_batch_bytes: 1000 }),
      result('memory', { state_dir_bytes_per_profile: 10_000, profiles_changelog_bytes_per_profile: 5_000, written_bytes_per_batch: 8_000, history_bytes_per_batch: 4_000 }),
      result('restore', { restore_ms: 10_000 }, { changelog_mb: 100 }),
    ]);
    // 10,000 batches/s at 700 per instance: 15 instances, 32 partitions; 1M profiles x 10 KB x 2 / 15 = 1.3 GB each.
    expect(md).toContain('| 1,000,000 | 10,000 | 15 | 32 | 1.3 GB |');
    // Restore of one share: 1M x 5 KB / 15 at 10 MB/s = 33 s. Kafka writes: 10,000 x 9 KB x 3 = 270 MB/s.
    expect(md).toMatch(/\| 1,000,000 \| 10,000 \| 15 \| 32 \| 1\.3 GB \| 33 s \| 270 MB\/s \|/);
  });
});
