import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
import { BENCH_TMP } from '../lib/workload.ts';
import { buildPeer, peerChild } from './peer.ts';
import { BenchChild, REPO_ROOT } from '../lib/child.ts';

/**
 * profile-stream; the Kafka Streams peer doing the same work (equal-work variant, linger.ms=0); or the
 * kafkajs pass-through (consume, produce the same bytes, no work): the floor of one consume-produce hop
 * on this machine, measured the same way.
 */
type System = 'service' | 'peer' | 'passthrough';

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
  /** Outputs of the warm-up's inputs (left out of p50/p99/max). */
  warmup: { p50: number; p99: number; max: number; count: number };
  /** Where the time went, from the service's own histograms (see stage-latency.ts). */
  stages: Record<string, unknown>;
}

async function runOnce(ctx: BenchContext, admin: BenchAdmin, records: readonly EncodedRecord[], system: System, guarantee: Guarantee, rate: number, seconds: number, warmupSeconds: number, run: number): Promise<LatencyRun> {
  const applicationId = `${ctx.runId}-lat-${system === 'service' ? '' : `${system}-`}${SHORT[guarantee]}-${run}`;
  const rawTopic = `${applicationId}.raw.web`;
  await admin.create([{ topic: rawTopic, partitions: ctx.options.partitions, config: { 'retention.ms': '-1' } }]);
  const [all, ads] = await createServiceTopics(admin, applicationId, rawTopic, ctx.options.partitions);
  let child: BenchChild;
  let stateDir: string;
  if (system === 'service') {
    const config = workerConfig(ctx, applicationId, rawTopic, guarantee);
    stateDir = config.stateDir;
    child = serviceChild(ctx, config, `latency ${SHORT[guarantee]} #${run}`);
  } else if (system === 'passthrough') {
    stateDir = join(BENCH_TMP, 'state', applicationId);
    child = BenchChild.node('passthrough', join(REPO_ROOT, 'bench/workers/passthrough-worker.ts'), [JSON.stringify({ brokers: ctx.brokers, groupId: applicationId, input: rawTopic, output: all })]);
  } else {
    const identityTopic = `${applicationId}-identity-changes`;
    await admin.create([{ topic: identityTopic, partitions: ctx.options.partitions, config: { 'retention.ms': '-1' } }]);
    stateDir = join(BENCH_TMP, 'state', applicationId);
    child = peerChild({ applicationId, brokers: ctx.brokers, registryUrl: ctx.registryUrl, input: rawTopic, outputAll: all!, outputAds: ads!, guarantee, commitIntervalMs: COMMIT_INTERVAL_MS[guarantee], stateDir, work: 'full', identityTopic, producerLingerMs: 0 });
  }
  const kafka = benchKafka(ctx.brokers, 'bench-latency');
  const consumer = kafka.consumer({ groupId: `${applicationId}-reader`, maxWaitTimeInMs: 100, readUncommitted: false });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  // Input send time (the output carries it) and the latency seen, per output.
  const samples: Array<{ sentAt: number; latency: number }> = [];
  try {
    await child.waitFor('running', 120_000);
    await Promise.all([consumer.connect(), producer.connect()]);
    await consumer.subscribe({ topics: [all!], fromBeginning: true });
    // Output record timestamp = input record timestamp (the runtime forwards it); the input's is `now` at send.
    void consumer.run({
      eachBatch: async ({ batch }) => {
        const now = Date.now();
        for (const m of batch.messages) samples.push({ sentAt: Number(m.timestamp), latency: now - Number(m.timestamp) });
      },
    });
    await sleep(3000); // the reader's group join, so the first outputs are not waiting for it
    const total = Math.min(records.length, Math.round(rate * (warmupSeconds + seconds)));
    const tickMs = 10;
    const started = Date.now();
    const measuredFrom = started + warmupSeconds * 1000;
    const progress = new Progress(`latency ${system === 'service' ? '' : `${system} `}${SHORT[guarantee]} run ${run} at ${rate}/s`);
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
    if (process.env.BENCH_LATENCY_SAMPLES) writeFileSync(`${process.env.BENCH_LATENCY_SAMPLES}-${system}-${SHORT[guarantee]}-${run}.csv`, `sent_at_ms,latency_ms\n${samples.map((x) => `${x.sentAt - started},${x.latency}`).join('\n')}\n`);
    const measured = samples.filter((x) => x.sentAt >= measuredFrom).map((x) => x.latency);
    const warm = samples.filter((x) => x.sentAt < measuredFrom).map((x) => x.latency);
    if (measured.length === 0) throw new Error('no output of a measured (after warm-up) input arrived');
    const warmup = { p50: warm.length ? percentile(warm, 50) : 0, p99: warm.length ? percentile(warm, 99) : 0, max: warm.length ? percentile(warm, 100) : 0, count: warm.length };
    return { p50: percentile(measured, 50), p99: percentile(measured, 99), max: percentile(measured, 100), rate: round(achieved, 1), warmup, stages };
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await child.stop(10_000);
    rmSync(stateDir, { recursive: true, force: true });
    await admin.deleteByPrefix(applicationId);
    await admin.deleteGroups([applicationId, `${applicationId}-reader`]);
  }
}

export async function latencyBenchmark(ctx: BenchContext): Promise<BenchResult> {
  const started = Date.now();
  const { options: o } = ctx;
  const notes: string[] = [];
  const rate = chooseRate(ctx, notes);
  const workload = await loadWorkload({ seed: o.seed, batches: o.batches, users: o.users, partitions: o.partitions, workspaceId: '1' }, ctx.registryUrl, ctx.workloadTopic);
  const wanted = Math.round(rate * (o.latencyWarmupSeconds + o.latencySeconds));
  // Distinct batches only (a repeated batch is a replay and produces no output): a short workload cuts the warm-up first.
  const available = workload.records.length / rate;
  const warmupSeconds = Math.min(o.latencyWarmupSeconds, Math.max(0, available - o.latencySeconds));
  const seconds = Math.min(o.latencySeconds, available - warmupSeconds);
  if (wanted > workload.records.length) notes.push(`cut to ${warmupSeconds.toFixed(1)} s of warm-up and ${seconds.toFixed(1)} s measured: the workload has ${workload.records.length} distinct batches (a repeated batch is a replay and produces no output)`);
  const peerReady = !o.skip.has('peer') && !o.skip.has('peer-latency') && (await buildPeer().then(() => true, (e: Error) => {
    notes.push(`peer skipped: ${e.message.split('\n')[0]}`);
    return false;
  }));
  const admin = new BenchAdmin(ctx.brokers);
  await admin.connect();
  const runs: Record<string, number | undefined>[] = [];
  const stageRuns: Array<{ guarantee: Guarantee; run: number; stages: Record<string, unknown> }> = [];
  try {
    for (let run = 1; run <= o.runs; run++) {
      const figures: Record<string, number | undefined> = {};
      /** One system's run: its figures under `prefix` (all of them with `full`), or a note when it failed. */
      const measure = async (system: System, g: Guarantee, prefix: string, label: string, full: boolean): Promise<LatencyRun | undefined> => {
        try {
          const r = await runOnce(ctx, admin, workload.records, system, g, rate, seconds, warmupSeconds, run);
          Object.assign(figures, { [`${prefix}_p50_ms`]: r.p50, [`${prefix}_p99_ms`]: r.p99, [`${prefix}_max_ms`]: r.max });
          if (full) Object.assign(figures, { [`${prefix}_achieved_rate`]: r.rate });
          if (full && r.warmup.count > 0) Object.assign(figures, { [`${prefix}_warmup_p99_ms`]: r.warmup.p99, [`${prefix}_warmup_max_ms`]: r.warmup.max });
          return r;
        } catch (e) {
          notes.push(`failed: ${label} run ${run}: ${(e as Error).message.split('\n')[0]}`);
          log(`FAILED latency ${label} run ${run}: ${(e as Error).message}`);
          return undefined;
        }
      };
      for (const g of ['at_least_once', 'exactly_once'] as const) {
        if (g === 'exactly_once' && o.skip.has('eos')) continue;
        const r = await measure('service', g, SHORT[g], SHORT[g], true);
        if (r) {
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
        }
        if (g === 'at_least_once' && !o.skip.has('passthrough')) await measure('passthrough', g, 'passthrough', 'passthrough', false);
        if (peerReady) await measure('peer', g, `peer_${SHORT[g]}`, `peer ${SHORT[g]}`, true);
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
    parameters: { rate_batches_per_s: rate, warmup_seconds: round(warmupSeconds, 1), seconds: round(seconds, 1), partitions: o.partitions, commit_interval_ms: COMMIT_INTERVAL_MS },
    ...s,
    runs,
    stages: stageRuns,
    ratios: {
      eos_p99_vs_alos_p99: ratio(s.median.eos_p99_ms, s.median.alos_p99_ms),
      alos_p99_vs_peer: ratio(s.median.alos_p99_ms, s.median.peer_alos_p99_ms),
      eos_p99_vs_peer: ratio(s.median.eos_p99_ms, s.median.peer_eos_p99_ms),
      alos_p99_vs_passthrough: ratio(s.median.alos_p99_ms, s.median.passthrough_p99_ms),
    },
    targets: [
      { label: 'at-least-once p99 ≤ 20 ms', key: 'alos_p99_ms', op: '<=', value: 20 },
      { label: 'exactly-once p99 ≤ 250 ms', key: 'eos_p99_ms', op: '<=', value: 250 },
    ],
    units: Object.fromEntries(Object.keys(s.median).map((k) => [k, k.endsWith('_rate') ? 'batches/s' : 'ms'])),
    notes: [
      'Latency = time the enriched record reaches a read_committed consumer of the `all` output − the input record\'s timestamp (set at send). The output record carries the input\'s timestamp, so this is "output record timestamp − input record timestamp" measured where a consumer sees it; under exactly-once it includes the wait for the transaction commit.',
      'The producer and the measuring consumer run in the harness process on the same 2 cores as profile-stream and Kafka.',
      'passthrough_*: the kafkajs pass-through (consume the raw topic, produce the same bytes to the output, commit; no decode, no state) at the same rate, measured the same way: the floor of one consume-produce hop with this harness on this machine.',
      'peer_*: the Kafka Streams peer doing the same work as profile-stream (its `full` variant: merge, both integrations, replay dedup, history store and changelog, history-days, the identity index through a repartition topic), same commit intervals, one stream thread, at the same rate with the same warm-up, measured the same way; its producer runs with linger.ms=0 (Kafka Streams\' default is 100 ms, a throughput setting). It is what this machine allows a mature engine on the same job: *_p99_vs_peer below 1 means profile-stream is faster. (latency < 1× is better here, unlike the throughput ratios.)',
      `Warm-up: inputs are sent at the same rate for warmup_seconds before the measured seconds; p50/p99/max count only outputs of inputs sent after it. A freshly started worker's first batches wait for JIT compilation, connections and registry look-ups, and the backlog they leave takes a few seconds to drain; that start-up cost is reported apart as *_warmup_p99_ms / *_warmup_max_ms (outputs of the warm-up's inputs). The service's stage histograms (in the run's log line) cover warm-up and measured inputs alike.`,
      ...notes,
    ],
  };
}
