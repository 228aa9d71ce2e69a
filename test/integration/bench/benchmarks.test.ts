import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBenchmarks } from '../../../bench/lib/harness.ts';
import { parseCommand } from '../../../bench/lib/options.ts';
import type { BenchResult } from '../../../bench/lib/results.ts';
import { kafkaBrokers, schemaRegistryUrl, uniqueName } from '../../support/stack-env.ts';

/**
 * Every benchmark at a tiny size against the test broker, so the harness cannot rot. Results go to a
 * temporary directory (never over bench/results). Kafka's perf tools, the exactly-once half and the
 * peer's throughput and latency runs (its output is still checked against profile-stream's) are left to
 * `npm run bench` to keep this file short on two cores.
 */
describe('benchmarks at a tiny size', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ps-bench-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('run end to end, write each results file with the keys issue 8 names, and render BENCHMARKS.md', async () => {
    process.env.KAFKA_BROKERS = kafkaBrokers().join(',');
    process.env.SCHEMA_REGISTRY_URL = schemaRegistryUrl();
    const { names, options } = parseCommand(
      ['--tiny', '--batches', '200', '--users', '60', '--skip', 'eos,perf-tools,peer-throughput,peer-latency', '--latency-rate', '50', '--latency-seconds', '2', '--restore-profiles', '300', '--api-seconds', '1', '--api-connections', '8', '--api-users', '40', '--memory-users', '60', '--memory-batches', '60'],
      {},
      join(dir, 'results'),
      join(dir, 'BENCHMARKS.md'),
    );
    // The run's names carry this test run's prefix, so what a benchmark leaves is removed with the run's.
    const outcome = await runBenchmarks(names, options, '', uniqueName('bench'));
    const read = (name: string) => JSON.parse(readFileSync(join(dir, 'results', `${name}.json`), 'utf8')) as BenchResult;

    const pipeline = read('pipeline');
    expect(pipeline.machine.cores).toBeGreaterThan(0);
    expect(pipeline.runs).toHaveLength(1);
    expect(pipeline.median.alos_batches_per_s).toBeGreaterThan(0);
    expect(pipeline.median.passthrough_batches_per_s).toBeGreaterThan(0);
    expect(pipeline.ratios).toHaveProperty('alos_vs_passthrough');
    // The peer needs Maven; when it ran, its enriched output must equal profile-stream's.
    if (pipeline.median.peer_alos_batches_per_s !== undefined) {
      expect(pipeline.parameters.peer_check).toMatchObject({ mismatches: {} });
    }
    expect(read('memory').median.peak_rss_mb).toBeGreaterThan(0);
    expect(read('latency').median.alos_p99_ms).toBeGreaterThanOrEqual(0);
    expect(read('restore').ratios.vs_plain_read).toBeGreaterThan(0);
    const api = read('api');
    expect(api.ratios.vs_hello_world).toBeGreaterThan(0);
    expect(api.median.owned_p99_ms).toBeGreaterThanOrEqual(0);
    expect(api.median.forwarded_p99_ms).toBeGreaterThanOrEqual(0);
    // Every request answered 200, owned and forwarded alike.
    expect([api.median.owned_errors, api.median.forwarded_errors]).toEqual([0, 0]);
    // Five Live Stream pages were open and each received batches while the pipeline ran.
    const live = read('live-stream');
    expect(live.median.with_5_pages_batches_per_s).toBeGreaterThan(0);
    expect(live.median.events_per_page).toBeGreaterThan(0);
    expect(live.ratios.with_vs_without).toBeGreaterThan(0);
    // A killed instance's tasks served again by the survivor, with and without a warm standby.
    const failover = read('failover');
    expect(failover.median.without_standby_failover_ms).toBeGreaterThan(0);
    expect(failover.median.with_standby_failover_ms).toBeGreaterThan(0);
    expect(failover.ratios).toHaveProperty('with_vs_without_failover');
    // Memory with 60 users' stored state (the memory benchmark's own test checks its figures).
    expect(read('memory-at-scale').median.peak_rss_mb).toBeGreaterThan(0);
    expect(outcome.files.length).toBe(9);
    const md = readFileSync(join(dir, 'BENCHMARKS.md'), 'utf8');
    for (const section of ['## pipeline', '## ceilings', '## memory', '## memory-at-scale', '## latency', '## restore', '## api', '## live-stream', '## failover']) expect(md).toContain(section);
    expect(existsSync(join(dir, 'results', 'throughput.svg'))).toBe(true);
    // 60 s more than before: the pipeline stage now starts one more profile-stream worker (the second client).
  }, 420_000);
});
