import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CompressionTypes } from 'kafkajs';
import type { BenchContext } from '../lib/context.ts';
import { BenchAdmin, benchKafka, sleep } from '../lib/kafka.ts';
import { log, Progress } from '../lib/progress.ts';
import type { BenchResult } from '../lib/results.ts';
import { percentile, ratio, round, summarize } from '../lib/stats.ts';
import { loadWorkload, type EncodedRecord } from '../lib/workload.ts';
import { stagePercentiles, STAGE_METRICS, type MetricJson } from '../lib/stage-latency.ts';
import { createServiceTopics, serviceChild, workerConfig, COMMIT_INTERVAL_MS, type Guarantee } from '../lib/service-under-test.ts';

const SHORT: Record<Guarantee, string> = { at_least_once: 'alos', exactly_once: 'eos' };

/** 50% of the pipeline's measured at-least-once maximum (bench/results/pipeline.json), or the flag. */
function chooseRate(ctx: BenchContext, notes: string[]): number {
  if (ctx.options.latencyRate > 0) return ctx.options.latencyRate;
  const file = join(ctx.options.resultsDir, 'pipeline.json');
  if (existsSync(file)) {
    const max = (JSON.parse(readFileSync(file, 'utf8')) as BenchResult).median.alos_batches_per_s;
    if (max) {
      notes.push(`rate = 50% of the pipeline's median at-least-once maximum (${Math.round(max)} batches/s, bench/results/pipeline.json)`);
      return Math.max(10, Math.round(max / 2));
    }
  }
  notes.push('no pipeline result to take 50% of: rate fell back to 200 batches/s (run the pipeline benchmark first)');
  return 200;
}

interface LatencyRun {
  p50: number;
  p99: number;
  max: number;
  rate: number;
  /** Where the time went, from the service's own histograms (see stage-latency.ts). */
  stages: Record<string, unknown>;
}

async function runOnce(ctx: BenchContext, admin: BenchAdmin, records: readonly EncodedRecord[], guarantee: Guarantee, rate: number, seconds: number, run: number): Promise<LatencyRun> {
  const applicationId = `${ctx.runId}-lat-${SHORT[guarantee]}-${run}`;
  const rawTopic = `${applicationId}.raw.web`;
  await admin.create([{ topic: rawTopic, partitions: ctx.options.partitions, config: { 'retention.ms': '-1' } }]);
  const [all] = await createServiceTopics(admin, applicationId, rawTopic, ctx.options.partitions);
  const config = workerConfig(ctx, applicationId, rawTopic, guarantee);
  const child = serviceChild(ctx, config, `latency ${SHORT[guarantee]} #${run}`);
  const kafka = benchKafka(ctx.brokers, 'bench-latency');
  const consumer = kafka.consumer({ groupId: `${applicationId}-reader`, maxWaitTimeInMs: 100, readUncommitted: false });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  const samples: number[] = [];
  try {
    await child.waitFor('running', 120_000);
    await Promise.all([consumer.connect(), producer.connect()]);
    await consumer.subscribe({ topics: [all!], fromBeginning: true });
    // Output record timestamp = input record timestamp (the runtime forwards it); the input's is `now` at send.
    void consumer.run({
      eachBatch: async ({ batch }) => {
        const now = Date.now();
        for (const m of batch.messages) samples.push(now - Number(m.timestamp));
      },
    });
    await sleep(3000); // the reader's group join, so the first outputs are not waiting for it
    const total = Math.min(records.length, Math.round(rate * seconds));
    const tickMs = 10;
    const started = Date.now();
    const progress = new Progress(`latency ${SHORT[guarantee]} run ${run} at ${rate}/s`);
    let sent = 0;
    const inflight = new Set<Promise<unknown>>();
    while (sent < total) {
      const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * rate));
      if (due > sent) {
        const slice = records.slice(sent, due);
        sent = due;
        const p = producer.send({ topic: rawTopic, acks: -1, compression: CompressionTypes.None, messages: slice.map((r) => ({ key: r.key, value: r.value, partition: r.partition, timestamp: String(Date.now()) })) });
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
      }
      progress.update(sent, total, `sent, ${samples.length} received`);
      await sleep(tickMs);
    }
    await Promise.all(inflight);
    const achieved = sent / ((Date.now() - started) / 1000);
    const deadline = Date.now() + 60_000;
    while (samples.length < total && Date.now() < deadline) await sleep(100);
    if (samples.length < total) throw new Error(`only ${samples.length} of ${total} outputs arrived`);
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await child.stop(10_000);
    const reported = child.events.find((e) => e.event === 'stages') as unknown as { metrics?: MetricJson[]; eventLoop?: Record<string, number>; gc?: Record<string, number> } | undefined;
    const stages: Record<string, unknown> = { ...stagePercentiles(reported?.metrics ?? [], STAGE_METRICS), event_loop_delay: reported?.eventLoop, gc_pauses: reported?.gc };
    return { p50: percentile(samples, 50), p99: percentile(samples, 99), max: percentile(samples, 100), rate: round(achieved, 1), stages };
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await child.stop(10_000);
    rmSync(config.stateDir, { recursive: true, force: true });
    await admin.deleteByPrefix(applicationId);
    await admin.deleteGroups([applicationId, `${applicationId}-reader`]);
  }
}

export async function latencyBenchmark(ctx: BenchContext): Promise<BenchResult> {
  const started = Date.now();
  const { options: o } = ctx;
  const notes: string[] = [];
  const rate = chooseRate(ctx, notes);
  const wanted = Math.round(rate * o.latencySeconds);
  const workload = await loadWorkload({ seed: o.seed, batches: o.batches, users: o.users, partitions: o.partitions, workspaceId: '1' }, ctx.registryUrl, ctx.workloadTopic);
  const seconds = Math.min(o.latencySeconds, workload.records.length / rate);
  if (wanted > workload.records.length) notes.push(`duration cut to ${seconds.toFixed(1)} s: the workload has ${workload.records.length} distinct batches (a repeated batch is a replay and produces no output)`);
  const admin = new BenchAdmin(ctx.brokers);
  await admin.connect();
  const runs: Record<string, number | undefined>[] = [];
  const stageRuns: Array<{ guarantee: Guarantee; run: number; stages: Record<string, unknown> }> = [];
  try {
    for (let run = 1; run <= o.runs; run++) {
      const figures: Record<string, number | undefined> = {};
      for (const g of ['at_least_once', 'exactly_once'] as const) {
        if (g === 'exactly_once' && o.skip.has('eos')) continue;
        try {
          const r = await runOnce(ctx, admin, workload.records, g, rate, seconds, run);
          Object.assign(figures, { [`${SHORT[g]}_p50_ms`]: r.p50, [`${SHORT[g]}_p99_ms`]: r.p99, [`${SHORT[g]}_max_ms`]: r.max, [`${SHORT[g]}_achieved_rate`]: r.rate });
          stageRuns.push({ guarantee: g, run, stages: r.stages });
          // The in-process bounds on latency beside it: event-loop delay and GC pauses.
          const loop = r.stages.event_loop_delay as Record<string, number> | undefined;
          const gc = r.stages.gc_pauses as Record<string, number> | undefined;
          Object.assign(figures, {
            [`${SHORT[g]}_event_loop_delay_p99_ms`]: loop ? round(loop.p99_ms!, 1) : undefined,
            [`${SHORT[g]}_event_loop_delay_max_ms`]: loop ? round(loop.max_ms!, 1) : undefined,
            [`${SHORT[g]}_gc_pause_p99_ms`]: gc?.p99_ms,
            [`${SHORT[g]}_gc_pause_max_ms`]: gc?.max_ms,
          });
          log(`latency ${SHORT[g]} run ${run} stages: ${JSON.stringify(r.stages)}`);
        } catch (e) {
          notes.push(`failed: ${SHORT[g]} run ${run}: ${(e as Error).message.split('\n')[0]}`);
          log(`FAILED latency ${SHORT[g]} run ${run}: ${(e as Error).message}`);
        }
      }
      runs.push(figures);
      log(`latency run ${run}: ${JSON.stringify(figures)}`);
    }
  } finally {
    await admin.disconnect();
  }
  const s = summarize(runs);
  return {
    benchmark: 'latency',
    started_at: new Date(started).toISOString(),
    duration_s: (Date.now() - started) / 1000,
    size: o.size,
    machine: ctx.machine,
    parameters: { rate_batches_per_s: rate, seconds: round(seconds, 1), partitions: o.partitions, commit_interval_ms: COMMIT_INTERVAL_MS },
    ...s,
    runs,
    stages: stageRuns,
    ratios: { eos_p99_vs_alos_p99: ratio(s.median.eos_p99_ms, s.median.alos_p99_ms) },
    targets: [
      { label: 'at-least-once p99 ≤ 20 ms', key: 'alos_p99_ms', op: '<=', value: 20 },
      { label: 'exactly-once p99 ≤ 250 ms', key: 'eos_p99_ms', op: '<=', value: 250 },
    ],
    units: Object.fromEntries(Object.keys(s.median).map((k) => [k, k.endsWith('_rate') ? 'batches/s' : 'ms'])),
    notes: [
      'Latency = time the enriched record reaches a read_committed consumer of the `all` output − the input record\'s timestamp (set at send). The output record carries the input\'s timestamp, so this is "output record timestamp − input record timestamp" measured where a consumer sees it; under exactly-once it includes the wait for the transaction commit.',
      'The producer and the measuring consumer run in the harness process on the same 2 cores as profile-stream and Kafka.',
      ...notes,
    ],
  };
}
