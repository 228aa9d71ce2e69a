import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BenchChild, REPO_ROOT } from '../lib/child.ts';
import type { BenchContext } from '../lib/context.ts';
import { BenchAdmin } from '../lib/kafka.ts';
import { measureThroughput } from '../lib/measure.ts';
import { log } from '../lib/progress.ts';
import type { BenchResult, Target } from '../lib/results.ts';
import { ratio, round, summarize } from '../lib/stats.ts';
import { BENCH_TMP, loadWorkload, produceRecords, type Workload } from '../lib/workload.ts';
import { consumerPerf, producerPerf } from './perf-tools.ts';
import type { KafkaClientName } from '../../src/streams/index.ts';
import { buildPeer, peerChild } from './peer.ts';
import { checkPeerEquivalence, COMPARED, NOT_COMPARED, type PeerCheck } from './peer-check.ts';
import { COMMIT_INTERVAL_MS, createServiceTopics, serviceChild, workerConfig, type Guarantee } from '../lib/service-under-test.ts';

const SHORT: Record<Guarantee, 'alos' | 'eos'> = { at_least_once: 'alos', exactly_once: 'eos' };

export interface SharedInput {
  readonly topic: string;
  readonly workload: Workload;
}

/** Generates (or loads) the workload and produces it once to the raw topic every system in this run reads. */
export async function prepareInput(ctx: BenchContext, admin: BenchAdmin, batches = ctx.options.batches): Promise<SharedInput> {
  const { options: o } = ctx;
  const topic = `${ctx.runId}.raw.web`;
  // Subject `<topic>-value` is registered for a fixed name so the cached workload's schema id stays valid.
  const workload = await loadWorkload({ seed: o.seed, batches, users: o.users, partitions: o.partitions, workspaceId: '1' }, ctx.registryUrl, ctx.workloadTopic);
  await admin.create([{ topic, partitions: o.partitions, config: { 'retention.ms': '-1' } }]);
  log(`workload: ${workload.records.length.toLocaleString('en-US')} batches, ${workload.distinctUsers.toLocaleString('en-US')} users, mean ${Math.round(workload.meanValueBytes)} bytes (Avro)`);
  const ms = await produceRecords(ctx.brokers, topic, workload.records, 'pre-producing raw batches');
  log(`pre-produced in ${(ms / 1000).toFixed(1)} s (${Math.round(workload.records.length / (ms / 1000))}/s)`);
  return { topic, workload };
}

function du(path: string): number {
  if (!existsSync(path)) return 0;
  return Number(execFileSync('du', ['-sb', path], { encoding: 'utf8' }).split('\t')[0]);
}

/**
 * Record bytes of every topic whose name starts with `prefix`, by topic, from the `.log` segment files in
 * Kafka's log directory (local stack only). Only `.log` files: Kafka preallocates each active segment's
 * `.index` and `.timeindex` at 10 MiB apiece, so `du` of a partition directory reports ~20 MiB however
 * little was written (that is what `profiles_changelog_bytes_per_profile` measured before).
 */
function topicLogBytes(dataDir: string | undefined, prefix: string): Map<string, number> | undefined {
  if (!dataDir || !existsSync(dataDir)) return undefined;
  const out = new Map<string, number>();
  for (const d of readdirSync(dataDir)) {
    const m = /^(.*)-\d+$/.exec(d);
    if (!m || !d.startsWith(prefix)) continue;
    const dir = join(dataDir, d);
    const bytes = readdirSync(dir).filter((f) => f.endsWith('.log')).reduce((s, f) => s + statSync(join(dir, f)).size, 0);
    out.set(m[1]!, (out.get(m[1]!) ?? 0) + bytes);
  }
  return out;
}

interface ServiceRun {
  batchesPerS: number;
  cpuMsPerBatch: number | undefined;
  peakRssMb: number | undefined;
  stateBytes: number;
  profilesChangelogBytes: number | undefined;
  /** Record bytes the run left in each of the application's own topics (outputs, history, changelogs, repartitions). */
  writtenBytes: Map<string, number> | undefined;
}

async function runService(ctx: BenchContext, admin: BenchAdmin, input: SharedInput, guarantee: Guarantee, run: number, client: KafkaClientName): Promise<ServiceRun> {
  const applicationId = `${ctx.runId}-ps-${client}-${SHORT[guarantee]}-${run}`;
  const [all] = await createServiceTopics(admin, applicationId, input.topic, ctx.options.partitions);
  const config = workerConfig(ctx, applicationId, input.topic, guarantee, client);
  const child = serviceChild(ctx, config, `profile-stream ${client} ${SHORT[guarantee]} #${run}`);
  // More instances of the same application: the group spreads the tasks over them; the first one is measured for RSS.
  const stateDirs = Array.from({ length: ctx.options.instances }, (_, i) => (i === 0 ? config.stateDir : `${config.stateDir}-${i + 1}`));
  const others = stateDirs.slice(1).map((stateDir, i) => serviceChild(ctx, { ...config, stateDir }, `profile-stream ${client} ${SHORT[guarantee]} #${run} instance ${i + 2}`));
  try {
    const m = await measureThroughput({ label: `profile-stream (${client}) ${SHORT[guarantee]} run ${run}`, child, admin, groupId: applicationId, inputTopic: input.topic, outputTopic: all!, records: input.workload.records.length, timeoutMs: timeoutFor(input), cpuOf: [child, ...others] });
    await child.stop();
    await Promise.all(others.map((o) => o.stop()));
    const stateBytes = stateDirs.reduce((sum, dir) => sum + du(dir), 0);
    const writtenBytes = topicLogBytes(ctx.kafkaDataDir, applicationId);
    const profilesChangelogBytes = writtenBytes?.get(`${applicationId}-profiles-changelog`);
    return { batchesPerS: m.recordsPerS, cpuMsPerBatch: m.cpuMsPerRecord, peakRssMb: m.peakRssMb, stateBytes, profilesChangelogBytes, writtenBytes };
  } finally {
    await Promise.all([child, ...others].map((c) => c.stop(5000)));
    for (const dir of stateDirs) rmSync(dir, { recursive: true, force: true });
    await admin.deleteByPrefix(applicationId);
    await admin.deleteGroups([applicationId]);
  }
}

async function runPassthrough(ctx: BenchContext, admin: BenchAdmin, input: SharedInput, run: number): Promise<{ batchesPerS: number; cpuMsPerBatch: number | undefined }> {
  const groupId = `${ctx.runId}-passthrough-${run}`;
  const output = `${groupId}.out`;
  await admin.create([{ topic: output, partitions: ctx.options.partitions, config: { 'retention.ms': '-1' } }]);
  const child = BenchChild.node('passthrough', join(REPO_ROOT, 'bench/workers/passthrough-worker.ts'), [JSON.stringify({ brokers: ctx.brokers, groupId, input: input.topic, output })]);
  try {
    const m = await measureThroughput({ label: `kafkajs pass-through run ${run}`, child, admin, groupId, inputTopic: input.topic, outputTopic: output, records: input.workload.records.length, timeoutMs: timeoutFor(input) });
    return { batchesPerS: m.recordsPerS, cpuMsPerBatch: m.cpuMsPerRecord };
  } finally {
    await child.stop(5000);
    await admin.deleteByPrefix(groupId);
    await admin.deleteGroups([groupId]);
  }
}

async function runPeer(ctx: BenchContext, admin: BenchAdmin, input: SharedInput, guarantee: Guarantee, run: number, work: 'merge' | 'full'): Promise<{ batchesPerS: number; cpuMsPerBatch: number | undefined; peakRssMb: number | undefined }> {
  const applicationId = `${ctx.runId}-peer-${work}-${SHORT[guarantee]}-${run}`;
  const [all, ads] = await createServiceTopics(admin, applicationId, input.topic, ctx.options.partitions);
  const identityTopic = `${applicationId}-identity-changes`;
  if (work === 'full') await admin.create([{ topic: identityTopic, partitions: ctx.options.partitions, config: { 'retention.ms': '-1' } }]);
  const stateDir = join(BENCH_TMP, 'state', applicationId);
  const child = peerChild({ applicationId, brokers: ctx.brokers, registryUrl: ctx.registryUrl, input: input.topic, outputAll: all!, outputAds: ads!, guarantee, commitIntervalMs: COMMIT_INTERVAL_MS[guarantee], stateDir, work, identityTopic });
  try {
    const m = await measureThroughput({ label: `Kafka Streams peer (${work} work) ${SHORT[guarantee]} run ${run}`, child, admin, groupId: applicationId, inputTopic: input.topic, outputTopic: all!, records: input.workload.records.length, timeoutMs: timeoutFor(input) });
    return { batchesPerS: m.recordsPerS, cpuMsPerBatch: m.cpuMsPerRecord, peakRssMb: m.peakRssMb };
  } finally {
    await child.stop(10_000);
    rmSync(stateDir, { recursive: true, force: true });
    await admin.deleteByPrefix(applicationId);
    await admin.deleteGroups([applicationId]);
  }
}

const cpuMs = (r: { cpuMsPerBatch: number | undefined } | undefined): number | undefined => (r?.cpuMsPerBatch === undefined ? undefined : round(r.cpuMsPerBatch, 3));

/** Bytes written per input batch: all of the application's topics, and the history and changelog topics one by one. */
function writtenPerBatch(written: Map<string, number> | undefined, applicationId: string, batches: number): Record<string, number | undefined> {
  if (written === undefined) return {};
  const per = (bytes: number | undefined) => (bytes === undefined ? undefined : round(bytes / batches, 0));
  const out: Record<string, number | undefined> = { written_bytes_per_batch: per([...written.values()].reduce((a, b) => a + b, 0)) };
  for (const [topic, bytes] of written) {
    const part = topic.slice(applicationId.length).replace(/^[.-]/, '').replaceAll(/[.-]/g, '_');
    if (/history|changelog/.test(part)) out[`${part}_bytes_per_batch`] = per(bytes);
  }
  return out;
}

/** Generous: 150 batches/s would be a broken system, not a slow one. */
function timeoutFor(input: SharedInput): number {
  return 120_000 + (input.workload.records.length / 150) * 1000;
}

export interface PipelineResults {
  readonly pipeline: BenchResult;
  readonly ceilings: BenchResult;
  readonly memory: BenchResult;
}

/** pipeline + ceilings + memory: all from the same runs over the same pre-produced records. */
export async function pipelineBenchmark(ctx: BenchContext): Promise<PipelineResults> {
  const started = Date.now();
  const { options: o } = ctx;
  const admin = new BenchAdmin(ctx.brokers);
  await admin.connect();
  const skip = o.skip;
  const notes: string[] = [];
  const failures: string[] = [];
  const peerReady = !skip.has('peer') && (await buildPeer().then(() => true, (e: Error) => {
    notes.push(`peer skipped: ${e.message.split('\n')[0]}`);
    return false;
  }));
  const input = await prepareInput(ctx, admin);
  const n = input.workload.records.length;
  let peerCheck: PeerCheck | undefined;
  if (peerReady) {
    try {
      peerCheck = await checkPeerEquivalence(ctx, admin, input.workload.records.slice(0, Math.min(2000, n)));
      const bad = Object.entries(peerCheck.mismatches);
      notes.push(`peer equivalence on a sample of ${peerCheck.sample} batches (${peerCheck.compared} enriched outputs of both integrations compared on ${COMPARED.join(', ')}): ${bad.length === 0 ? 'identical' : `DIFFERENT: ${bad.map(([k, v]) => `${k} ×${v}`).join(', ')}; e.g. ${peerCheck.examples.join(' | ')}`}. Not compared: ${NOT_COMPARED.join('; ')}; they differed in ${JSON.stringify(peerCheck.otherDifferences)} outputs.`);
    } catch (e) {
      notes.push(`peer equivalence check failed: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  const runs: Record<string, number | undefined>[] = [];
  const memoryRuns: Record<string, number | undefined>[] = [];
  const ceilingRuns: Record<string, number | undefined>[] = [];
  // Each run measures every system once, in the same order, so a noisy minute hits one run of each.
  const attempt = async <T>(what: string, f: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await f();
    } catch (e) {
      failures.push(`${what}: ${(e as Error).message.split('\n')[0]}`);
      log(`FAILED ${what}: ${(e as Error).message}`);
      return undefined;
    }
  };
  try {
    for (let run = 1; run <= o.runs; run++) {
      // Every client in every run, in the order given: the first one's figures are compared with the peer.
      const byClient: Record<string, number | undefined> = {};
      let alos: ServiceRun | undefined;
      let eos: ServiceRun | undefined;
      for (const [i, client] of o.clients.entries()) {
        const a = await attempt(`${client} alos run ${run}`, () => runService(ctx, admin, input, 'at_least_once', run, client));
        const e = skip.has('eos') ? undefined : await attempt(`${client} eos run ${run}`, () => runService(ctx, admin, input, 'exactly_once', run, client));
        if (o.clients.length > 1) Object.assign(byClient, { [`${client}_alos_batches_per_s`]: a?.batchesPerS, [`${client}_eos_batches_per_s`]: e?.batchesPerS });
        if (i === 0) [alos, eos] = [a, e];
      }
      const pass = skip.has('passthrough') ? undefined : await attempt(`passthrough run ${run}`, () => runPassthrough(ctx, admin, input, run));
      const peerRuns = peerReady && !skip.has('peer-throughput');
      // Equal work first (the comparison that counts), then the merge-only variant the peer began as.
      const peerAlos = peerRuns ? await attempt(`peer alos run ${run}`, () => runPeer(ctx, admin, input, 'at_least_once', run, 'full')) : undefined;
      const peerEos = peerRuns && !skip.has('eos') ? await attempt(`peer eos run ${run}`, () => runPeer(ctx, admin, input, 'exactly_once', run, 'full')) : undefined;
      const mergeOnly = peerRuns && !skip.has('peer-merge-only');
      const peerMergeAlos = mergeOnly ? await attempt(`peer merge-only alos run ${run}`, () => runPeer(ctx, admin, input, 'at_least_once', run, 'merge')) : undefined;
      const peerMergeEos = mergeOnly && !skip.has('eos') ? await attempt(`peer merge-only eos run ${run}`, () => runPeer(ctx, admin, input, 'exactly_once', run, 'merge')) : undefined;
      let producerRate: number | undefined;
      let consumerRate: number | undefined;
      if (!skip.has('perf-tools')) {
        const perfTopic = `${ctx.runId}-perf-${run}`;
        await admin.create([{ topic: perfTopic, partitions: o.partitions, config: { 'retention.ms': '-1' } }]);
        log(`kafka-producer-perf-test / kafka-consumer-perf-test run ${run}`);
        producerRate = await attempt(`producer perf run ${run}`, () => producerPerf({ kafkaLibs: ctx.kafkaLibs, brokers: ctx.brokers, topic: perfTopic, records: n, recordSize: Math.round(input.workload.meanValueBytes) }));
        consumerRate = await attempt(`consumer perf run ${run}`, () => consumerPerf({ kafkaLibs: ctx.kafkaLibs, brokers: ctx.brokers, topic: input.topic, records: n, groupId: `${perfTopic}-consumer` }));
        await admin.deleteByPrefix(perfTopic);
        await admin.deleteGroups([`${perfTopic}-consumer`]);
      }
      runs.push({
        alos_batches_per_s: alos?.batchesPerS, eos_batches_per_s: eos?.batchesPerS, passthrough_batches_per_s: pass?.batchesPerS,
        peer_alos_batches_per_s: peerAlos?.batchesPerS, peer_eos_batches_per_s: peerEos?.batchesPerS,
        peer_merge_only_alos_batches_per_s: peerMergeAlos?.batchesPerS, peer_merge_only_eos_batches_per_s: peerMergeEos?.batchesPerS, ...byClient,
        alos_cpu_ms_per_batch: cpuMs(alos), eos_cpu_ms_per_batch: cpuMs(eos), passthrough_cpu_ms_per_batch: cpuMs(pass),
        peer_alos_cpu_ms_per_batch: cpuMs(peerAlos), peer_eos_cpu_ms_per_batch: cpuMs(peerEos),
      });
      ceilingRuns.push({ passthrough_batches_per_s: pass?.batchesPerS, producer_perf_records_per_s: producerRate, consumer_perf_records_per_s: consumerRate, alos_batches_per_s: alos?.batchesPerS });
      memoryRuns.push({
        peak_rss_mb: Math.max(alos?.peakRssMb ?? 0, eos?.peakRssMb ?? 0) || undefined,
        alos_peak_rss_mb: alos?.peakRssMb, eos_peak_rss_mb: eos?.peakRssMb,
        peer_alos_peak_rss_mb: peerAlos?.peakRssMb, peer_eos_peak_rss_mb: peerEos?.peakRssMb,
        state_dir_bytes_per_profile: alos ? round(alos.stateBytes / input.workload.distinctUsers, 0) : undefined,
        profiles_changelog_bytes_per_profile: alos?.profilesChangelogBytes !== undefined ? round(alos.profilesChangelogBytes / input.workload.distinctUsers, 0) : undefined,
        // The application id of the first client's at-least-once run: its topics' names start with it.
        ...writtenPerBatch(alos?.writtenBytes, `${ctx.runId}-ps-${o.clients[0]}-${SHORT.at_least_once}-${run}`, n),
      });
      log(`run ${run}: ${JSON.stringify(runs.at(-1))}`);
    }
  } finally {
    await admin.deleteByPrefix(input.topic);
    await admin.disconnect();
  }
  const common = {
    started_at: new Date(started).toISOString(),
    duration_s: (Date.now() - started) / 1000,
    size: o.size,
    machine: ctx.machine,
    parameters: {
      batches: n, users_requested: o.users, distinct_users: input.workload.distinctUsers, partitions: o.partitions, seed: o.seed,
      mean_batch_bytes: Math.round(input.workload.meanValueBytes), peer_check: peerCheck ? { sample: peerCheck.sample, compared: peerCheck.compared, mismatches: peerCheck.mismatches } : 'not run', integrations: ['all (every batch)', 'ads (custom events, 3 attributes, 2 identity types)'],
      commit_interval_ms: COMMIT_INTERVAL_MS, peer_stream_threads: 1, kafka_clients: o.clients, profile_stream_instances: o.instances,
    },
  };
  const s = summarize(runs);
  const pipelineTargets: Target[] = [
    { label: 'at-least-once ≥ 1.0× peer (equal work)', key: 'alos_vs_peer', op: '>=', value: 1 },
    { label: 'exactly-once ≥ 1.0× peer (equal work)', key: 'eos_vs_peer', op: '>=', value: 1 },
    { label: 'at-least-once ≥ 0.6× kafkajs pass-through', key: 'alos_vs_passthrough', op: '>=', value: 0.6 },
    { label: 'exactly-once ≥ 0.7× at-least-once', key: 'eos_vs_alos', op: '>=', value: 0.7 },
  ];
  const pipelineNotes = [
    'Throughput = input batches / (lag zero − first output record), polled every 100 ms; start-up (JVM, group join) is excluded for every system alike.',
    '*_cpu_ms_per_batch: CPU time (user + system, all threads: for the peer its JVM\'s JIT, GC and client threads too) of the process(es) under test over that same window, per input batch. Unlike the rate it hardly depends on what else the two cores run, so it compares the work done per batch.',
    `profile-stream on Kafka client ${o.clients[0]}${o.clients.length > 1 ? ` (compared with the peer); also measured on ${o.clients.slice(1).join(', ')} in every run: <client>_alos/eos_batches_per_s, ratios <client>_vs_${o.clients[0]}_alos/eos` : ''}.`,
    'The peer (Kafka Streams, bench/peer-kafka-streams) runs twice per guarantee. peer_*: equal work, the comparison that counts: besides the merge and both integrations it does what profile-stream does per batch (replay dedup in its own store, the history store with its changelog holding batch + profile snapshot as registry Avro, the history-days index, identity changes repartitioned by identity into the identity index). peer_merge_only_*: the merge and both integrations only, as the peer was first written. Consent and devices are not merged by the peer, and its history snapshot is the enriched profile rather than profile-stream\'s full profile state.',
    ...notes, ...failures.map((f) => `failed: ${f}`),
  ];
  const pipeline: BenchResult = {
    benchmark: 'pipeline', ...common, ...s, runs,
    ratios: {
      alos_vs_peer: ratio(s.median.alos_batches_per_s, s.median.peer_alos_batches_per_s),
      eos_vs_peer: ratio(s.median.eos_batches_per_s, s.median.peer_eos_batches_per_s),
      alos_vs_passthrough: ratio(s.median.alos_batches_per_s, s.median.passthrough_batches_per_s),
      eos_vs_passthrough: ratio(s.median.eos_batches_per_s, s.median.passthrough_batches_per_s),
      eos_vs_alos: ratio(s.median.eos_batches_per_s, s.median.alos_batches_per_s),
      peer_eos_vs_peer_alos: ratio(s.median.peer_eos_batches_per_s, s.median.peer_alos_batches_per_s),
      alos_vs_peer_merge_only: ratio(s.median.alos_batches_per_s, s.median.peer_merge_only_alos_batches_per_s),
      eos_vs_peer_merge_only: ratio(s.median.eos_batches_per_s, s.median.peer_merge_only_eos_batches_per_s),
      peer_full_vs_merge_only_alos: ratio(s.median.peer_alos_batches_per_s, s.median.peer_merge_only_alos_batches_per_s),
      // CPU per batch: lower is better; below 1.0 profile-stream spends less CPU on a batch than the peer.
      alos_cpu_per_batch_vs_peer: ratio(s.median.alos_cpu_ms_per_batch, s.median.peer_alos_cpu_ms_per_batch),
      eos_cpu_per_batch_vs_peer: ratio(s.median.eos_cpu_ms_per_batch, s.median.peer_eos_cpu_ms_per_batch),
      ...clientRatios(o.clients, s.median),
    },
    targets: pipelineTargets,
    units: Object.fromEntries(Object.keys(s.median).map((k) => [k, k.includes('cpu_ms') ? 'ms' : 'batches/s'])),
    notes: pipelineNotes,
  };
  const c = summarize(ceilingRuns);
  const ceilings: BenchResult = {
    benchmark: 'ceilings', ...common, ...c, runs: ceilingRuns,
    ratios: {
      passthrough_vs_producer_perf: ratio(c.median.passthrough_batches_per_s, c.median.producer_perf_records_per_s),
      passthrough_vs_consumer_perf: ratio(c.median.passthrough_batches_per_s, c.median.consumer_perf_records_per_s),
      alos_vs_producer_perf: ratio(c.median.alos_batches_per_s, c.median.producer_perf_records_per_s),
    },
    targets: [],
    units: Object.fromEntries(Object.keys(c.median).map((k) => [k, 'records/s'])),
    notes: [
      'kafkajs pass-through: consume the raw topic, produce the same bytes (acks=all), commit; no decode, no state.',
      'kafka-producer-perf-test: records of the workload\'s mean size, acks=all, linger.ms=5, batch.size=256 KiB. kafka-consumer-perf-test reads the same raw topic; its fetch.nMsg.sec (group join excluded).',
    ],
  };
  const m = summarize(memoryRuns);
  const memory: BenchResult = {
    benchmark: 'memory', ...common, ...m, runs: memoryRuns,
    ratios: { peak_rss_vs_peer_alos: ratio(m.median.alos_peak_rss_mb, m.median.peer_alos_peak_rss_mb) },
    targets: [{ label: 'peak RSS ≤ 400 MB', key: 'peak_rss_mb', op: '<=', value: 400 }],
    units: Object.fromEntries(Object.keys(m.median).map((k) => [k, k.includes('bytes') ? 'bytes' : 'MB'])),
    notes: [
      'Peak RSS is the kernel\'s high-water mark (VmHWM) of the profile-stream worker process (or the peer\'s JVM) during the pipeline run.',
      'state_dir_bytes_per_profile: the whole RocksDB state directory after the run (profiles + history store with every batch and its snapshot + identity index) divided by distinct users; profiles_changelog_bytes_per_profile: the profiles changelog on the broker (not yet compacted; record bytes of its .log segments) divided by distinct users.',
      'written_bytes_per_batch: record bytes (.log segments, before compaction) of every topic the at-least-once run wrote (outputs, history, changelogs, repartition topics) divided by input batches; the *_bytes_per_batch figures after it are the largest of those topics.',
      `users: ${input.workload.distinctUsers.toLocaleString('en-US')} distinct of ${o.users.toLocaleString('en-US')} requested (Zipf: many users draw no batch at this size).`,
    ],
  };
  return { pipeline, ceilings, memory };
}

/** Each further client's medians against the first client's, per guarantee. */
function clientRatios(clients: readonly KafkaClientName[], median: Record<string, number | undefined>): Record<string, number | undefined> {
  const out: Record<string, number | undefined> = {};
  const [first, ...others] = clients;
  for (const c of others) {
    for (const g of ['alos', 'eos'] as const) out[`${c}_vs_${first}_${g}`] = ratio(median[`${c}_${g}_batches_per_s`], median[`${first}_${g}_batches_per_s`]);
  }
  return out;
}
