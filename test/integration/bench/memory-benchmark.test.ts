import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBenchmarks } from '../../../bench/lib/harness.ts';
import { parseCommand } from '../../../bench/lib/options.ts';
import type { BenchResult } from '../../../bench/lib/results.ts';
import { kafkaBrokers, schemaRegistryUrl } from '../../support/stack-env.ts';

/**
 * `npm run bench -- memory` at its tiny size (300 users' stored state, 200 batches a guarantee), so the memory
 * benchmark cannot rot: it restores the users it wrote, processes the traffic under both guarantees and records
 * the worker's RSS, heap and RocksDB memory. The Kafka Streams peer's half is left to `npm run bench`.
 */
describe('memory benchmark at a tiny size', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ps-bench-memory-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('restores every user, processes both guarantees and records RSS, heap and RocksDB memory', async () => {
    process.env.KAFKA_BROKERS = kafkaBrokers().join(',');
    process.env.SCHEMA_REGISTRY_URL = schemaRegistryUrl();
    const { names, options } = parseCommand(['memory', '--tiny', '--skip', 'peer'], {}, join(dir, 'results'), join(dir, 'BENCHMARKS.md'));
    const outcome = await runBenchmarks(names, options);
    expect(outcome.files).toEqual([join(dir, 'results', 'memory-at-scale.json')]);
    const r = JSON.parse(readFileSync(outcome.files[0]!, 'utf8')) as BenchResult;
    expect(r.parameters).toMatchObject({ users: 300, batches_per_guarantee: 200, task_databases: 16 });
    for (const g of ['alos', 'eos']) {
      expect(r.median[`${g}_batches_per_s`], g).toBeGreaterThan(0);
      // The kernel's high-water mark is at least what the worker saw in its settled samples.
      expect(r.median[`${g}_peak_rss_mb`], g).toBeGreaterThanOrEqual(r.median[`${g}_steady_rss_mb`]! - 1);
      expect(r.median[`${g}_heap_used_mb`], g).toBeGreaterThan(0);
      expect(r.median[`${g}_rocksdb_memtables_mb`], g).toBeGreaterThan(0);
      // No block caches (the runtime reads through the OS page cache).
      expect(r.median[`${g}_rocksdb_block_caches_mb`], g).toBe(0);
    }
    expect(r.median.peak_rss_mb).toBe(Math.max(r.median.alos_peak_rss_mb!, r.median.eos_peak_rss_mb!));
    expect(r.targets.map((t) => t.key)).toEqual(['peak_rss_mb']);
    expect(readFileSync(join(dir, 'BENCHMARKS.md'), 'utf8')).toContain('## memory-at-scale');
  }, 300_000);
});
