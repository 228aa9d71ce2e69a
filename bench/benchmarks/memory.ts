import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CompressionTypes } from 'kafkajs';
import { BATCH_DEDUP_STORE, recentBatchesSerde } from '../../src/app/topology/batch-dedup-store.ts';
import { PROFILES_STORE } from '../../src/app/topology/profile-node-names.ts';
import { profileStateSerde } from '../../src/app/topology/profile-state-serde.ts';
import { SeededRandom } from '../../src/generator/seeded-random.ts';
import { sampleBatches, sampleUser } from '../../src/generator/sample-batches.ts';
import { mergeBatch } from '../../src/profiles/merge-batch.ts';
import type { ProfileState } from '../../src/schema/profile-state.ts';
import type { UserAttributeValue } from '../../src/schema/batch.ts';
import { partitionForKey } from '../../src/streams/partitioner.ts';
import type { RocksDbMemory } from '../../src/streams/internals/rocksdb-task-db.ts';
import type { BenchChild, ChildEvent } from '../lib/child.ts';
import type { BenchContext } from '../lib/context.ts';
import { BenchAdmin, benchKafka } from '../lib/kafka.ts';
import { measureThroughput } from '../lib/measure.ts';
import { log, Progress } from '../lib/progress.ts';
import type { BenchResult } from '../lib/results.ts';
import { median, ratio, round, summarize } from '../lib/stats.ts';
import { BENCH_TMP, loadWorkload, produceRecords, type EncodedRecord } from '../lib/workload.ts';
import { COMMIT_INTERVAL_MS, createServiceTopics, serviceChild, workerConfig, type Guarantee } from '../lib/service-under-test.ts';
import { buildPeer, peerChild } from './peer.ts';

/** Distinct real profiles the stored state is made of (each user gets one, with its own MPID and identities). */
const TEMPLATES = 2000;
/** Remembered batch ids per user in the seeded dedup store (the real list grows to 256 with activity). */
const DEDUP_ENTRIES = 4;
const MB = 2 ** 20;
const SHORT: Record<Guarantee, 'alos' | 'eos'> = { at_least_once: 'alos', exactly_once: 'eos' };

interface MemorySample {
  readonly t: number;
  readonly rss: number;
  readonly heapTotal?: number;
  readonly heapUsed?: number;
  readonly external?: number;
  readonly arrayBuffers?: number;
  readonly rocksdb?: RocksDbMemory;
}

/** Real profiles (generated batches folded with mergeBatch), decoded, to be handed out under every user's own MPID. */
function templateProfiles(seed: number): ProfileState[] {
  const byUser = new Map<string, ProfileState>();
  for (const batch of sampleBatches({ seed: seed + 1, users: TEMPLATES, batches: TEMPLATES * 3, sources: ['web'], startTimeMs: Date.now() - 3 * 24 * 3600 * 1000, workspaceId: '1' })) {
    byUser.set(batch.mpid!, mergeBatch(byUser.get(batch.mpid!), batch).profile);
  }
  return [...byUser.values()];
}

/** User `index`'s stored profile: a template's attributes, devices and consent under the user's MPID and identities. */
function profileFor(template: ProfileState, seed: number, index: number): ProfileState {
  const user = sampleUser(seed, index);
  const identities: ProfileState['user_identities'] = Object.create(null) as ProfileState['user_identities'];
  for (const [type, value] of Object.entries(user.identities)) identities[type] = { value, updated_ms: template.created_timestamp_ms, source: 'web', batch_id: null };
  return { ...template, mpid: user.mpid, user_identities: identities };
}

/** Java's DataOutputStream: what the Kafka Streams peer's ProfileState.toBytes writes (ASCII data, so writeUTF is UTF-8). */
class JavaData {
  readonly #parts: Buffer[] = [];
  long(v: number): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(BigInt(Math.trunc(v)));
    this.#parts.push(b);
    return this;
  }
  int(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.#parts.push(b);
    return this;
  }
  byte(v: number): this {
    this.#parts.push(Buffer.from([v & 0xff]));
    return this;
  }
  double(v: number): this {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(v);
    this.#parts.push(b);
    return this;
  }
  utf(s: string): this {
    const body = Buffer.from(s, 'utf8');
    const head = Buffer.alloc(2);
    head.writeUInt16BE(Math.min(body.length, 0xffff));
    this.#parts.push(head, body.subarray(0, 0xffff));
    return this;
  }
  bytes(): Buffer {
    return Buffer.concat(this.#parts);
  }
}

/** The same profile in the peer's store format (attributes, tombstones and identities; the peer keeps no devices or consent). */
function peerProfileBytes(p: ProfileState): Buffer {
  const out = new JavaData();
  const ws = p.workspaces['1'];
  const stamp = (s: { updated_ms?: number; deleted_ms?: number; source: string; batch_id: string | null }) => out.long(s.updated_ms ?? s.deleted_ms ?? 0).utf(s.source).utf(s.batch_id ?? '');
  const value = (v: UserAttributeValue) => {
    if (v === null) out.byte(0);
    else if (typeof v === 'string') out.byte(1).utf(v);
    else if (typeof v === 'number') out.byte(2).double(v);
    else if (typeof v === 'boolean') out.byte(3).byte(v ? 1 : 0);
    else {
      out.byte(4).int(v.length);
      for (const s of v) out.utf(String(s));
    }
  };
  out.long(p.created_timestamp_ms).long(p.last_seen_timestamp_ms).byte(p.is_opted_out ? 1 : 0).long(p.opt_out_updated_ms ?? Number.MIN_SAFE_INTEGER);
  const attributes = Object.entries(ws?.user_attributes ?? {});
  out.int(attributes.length);
  for (const [name, a] of attributes) {
    out.utf(name);
    value(a.value);
    stamp(a);
  }
  const tombstones = Object.entries(ws?.attribute_tombstones ?? {});
  out.int(tombstones.length);
  for (const [name, t] of tombstones) {
    out.utf(name);
    stamp(t);
  }
  const identities = Object.entries(p.user_identities);
  out.int(identities.length);
  for (const [type, id] of identities) {
    out.utf(type).byte(id.value === null ? 0 : 1);
    if (id.value !== null) out.utf(id.value);
    stamp(id);
  }
  return out.bytes();
}

/** The peer's replay-dedup list: (FNV hash, seen ms) pairs, 16 bytes each. */
function peerDedupBytes(random: SeededRandom, seenMs: number): Buffer {
  const b = Buffer.alloc(DEDUP_ENTRIES * 16);
  for (let i = 0; i < DEDUP_ENTRIES; i++) {
    b.writeUInt32BE(random.nextUint32(), i * 16);
    b.writeUInt32BE(random.nextUint32(), i * 16 + 4);
    b.writeBigInt64BE(BigInt(seenMs), i * 16 + 8);
  }
  return b;
}

interface StoredState {
  readonly changelogBytes: number;
  readonly meanProfileBytes: number;
}

/**
 * Writes the stores' changelogs of `users` users straight to Kafka (profiles and batch-dedup, keyed by MPID,
 * partitioned as the runtime partitions them), in profile-stream's format and, for the peer, in its own.
 */
async function produceState(ctx: BenchContext, users: number, targets: { profiles: string; dedup: string; format: 'profile-stream' | 'peer' }[]): Promise<StoredState> {
  const { seed, partitions } = ctx.options;
  const templates = templateProfiles(seed);
  const serde = profileStateSerde();
  const dedupSerde = recentBatchesSerde();
  const producer = benchKafka(ctx.brokers, 'bench-memory-state').producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const progress = new Progress(`writing ${users.toLocaleString('en-US')} users' stored state`);
  let profileBytes = 0;
  let changelogBytes = 0;
  try {
    const chunk = 1000;
    const inflight: Promise<unknown>[] = [];
    for (let i = 0; i < users; i += chunk) {
      const random = new SeededRandom(seed * 7919 + i);
      const topicMessages = targets.map((t) => ({ t, profiles: [] as { key: Buffer; value: Buffer; partition: number }[], dedup: [] as { key: Buffer; value: Buffer; partition: number }[] }));
      for (let j = i; j < Math.min(users, i + chunk); j++) {
        const profile = profileFor(templates[j % templates.length]!, seed, j);
        const key = Buffer.from(profile.mpid);
        const partition = partitionForKey(key, partitions);
        const seen = profile.last_seen_timestamp_ms;
        for (const m of topicMessages) {
          const value = m.t.format === 'peer' ? peerProfileBytes(profile) : serde.serialize('changelog', profile);
          const dedup = m.t.format === 'peer'
            ? peerDedupBytes(random, seen)
            : dedupSerde.serialize('changelog', Array.from({ length: DEDUP_ENTRIES }, () => ({ digest: random.hex(16), seen_ms: seen })));
          if (m.t.format === 'profile-stream') profileBytes += value.length;
          changelogBytes += value.length + dedup.length;
          m.profiles.push({ key, value, partition });
          m.dedup.push({ key, value: dedup, partition });
        }
      }
      inflight.push(producer.sendBatch({
        acks: -1,
        compression: CompressionTypes.None,
        topicMessages: topicMessages.flatMap((m) => [{ topic: m.t.profiles, messages: m.profiles }, { topic: m.t.dedup, messages: m.dedup }]),
      }));
      if (inflight.length >= 4) await inflight.shift();
      progress.update(Math.min(users, i + chunk), users);
    }
    await Promise.all(inflight);
  } finally {
    await producer.disconnect();
  }
  return { changelogBytes, meanProfileBytes: profileBytes / Math.max(1, users) };
}

/** Samples the child's resident set (VmRSS) every second until stopped. */
function rssSampler(child: BenchChild): { stop(): number[] } {
  const samples: number[] = [];
  const timer = setInterval(() => {
    const mb = child.rssMb();
    if (mb !== undefined) samples.push(mb);
  }, 1000);
  return {
    stop() {
      clearInterval(timer);
      return samples;
    },
  };
}

/** The samples of the second half of a phase: memory once processing has settled in, not while it ramps up. */
function settled<T>(samples: readonly T[]): T[] {
  return samples.length <= 1 ? [...samples] : samples.slice(Math.floor(samples.length / 2));
}

const mb = (bytes: number | undefined): number | undefined => (bytes === undefined ? undefined : round(bytes / MB, 1));

interface Measured {
  readonly figures: Record<string, number | undefined>;
  readonly lastRocks: RocksDbMemory | undefined;
}

async function runService(ctx: BenchContext, admin: BenchAdmin, applicationId: string, input: string, batches: number, guarantee: Guarantee, outputTopic: string): Promise<Measured> {
  const g = SHORT[guarantee];
  const config = { ...workerConfig(ctx, applicationId, input, guarantee), reportMemoryMs: 1000 };
  // Empty task directories (a full restore each run); the static member id beside them is kept, so the next
  // worker takes the previous one's place in the group at once.
  rmSync(join(config.stateDir, applicationId), { recursive: true, force: true });
  const child = serviceChild(ctx, config, `profile-stream memory ${g}`);
  try {
    const t0 = Date.now();
    const running = await child.waitFor('running', 900_000);
    const restoreMs = child.events.filter((e) => e.event === 'restore').reduce((s, e) => s + Number(e.ms), 0);
    const peakAfterRestore = child.peakRssMb();
    const rssAfterRestore = child.rssMb();
    const sampler = rssSampler(child);
    const m = await measureThroughput({ label: `profile-stream ${g} over ${batches.toLocaleString('en-US')} batches`, child, admin, groupId: applicationId, inputTopic: input, outputTopic, records: batches, timeoutMs: 120_000 + (batches / 100) * 1000 });
    const trafficEnd = Date.now();
    sampler.stop();
    if (process.env.BENCH_MEMORY_SMAPS) writeFileSync(join(BENCH_TMP, `memory-smaps-${g}.txt`), readFileSync(`/proc/${child.process.pid}/smaps`, 'utf8'));
    let samples = memoryEvents(child.events).filter((e) => e.t >= running.t && e.t <= trafficEnd);
    // Traffic shorter than the worker's report interval (a tiny run) has no report inside it: the first one
    // after it stands in, the same process with the same state a moment later.
    for (const deadline = Date.now() + 3_000; samples.length === 0 && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 100));
      samples = memoryEvents(child.events).filter((e) => e.t > trafficEnd).slice(0, 1);
    }
    // After the samples: the high-water mark covers every one of them.
    const peak = child.peakRssMb();
    const steady = settled(samples);
    const pick = (f: (s: MemorySample) => number | undefined) => {
      const values = steady.map(f).filter((v): v is number => v !== undefined);
      return values.length ? mb(median(values)) : undefined;
    };
    const rocks = steady.at(-1)?.rocksdb;
    // Every sample of the run (restore included), for whoever studies where the memory went.
    writeFileSync(join(BENCH_TMP, `memory-trace-${g}.json`), JSON.stringify({ running: running.t, trafficEnd, samples: memoryEvents(child.events) }));
    log(`${g}: peak ${peak} MB, steady ${pick((s) => s.rss)} MB, heap ${pick((s) => s.heapUsed)} MB; RocksDB ${JSON.stringify(rocks)}`);
    return {
      figures: {
        [`${g}_peak_rss_mb`]: peak,
        [`${g}_steady_rss_mb`]: pick((s) => s.rss),
        [`${g}_rss_after_restore_mb`]: rssAfterRestore,
        [`${g}_peak_rss_after_restore_mb`]: peakAfterRestore,
        [`${g}_heap_used_mb`]: pick((s) => s.heapUsed),
        [`${g}_heap_total_mb`]: pick((s) => s.heapTotal),
        [`${g}_external_mb`]: pick((s) => s.external),
        [`${g}_rocksdb_memtables_mb`]: pick((s) => s.rocksdb?.memtableBytes),
        [`${g}_rocksdb_block_caches_mb`]: pick((s) => s.rocksdb?.blockCacheBytes),
        [`${g}_rocksdb_table_readers_mb`]: pick((s) => s.rocksdb?.tableReaderBytes),
        [`${g}_restore_ms`]: restoreMs,
        [`${g}_start_to_running_ms`]: running.t - t0,
        [`${g}_batches_per_s`]: round(m.recordsPerS, 0),
      },
      lastRocks: rocks,
    };
  } finally {
    await child.stop(30_000);
  }
}

function memoryEvents(events: readonly ChildEvent[]): MemorySample[] {
  return events.filter((e) => e.event === 'memory') as unknown as MemorySample[];
}

async function runPeer(ctx: BenchContext, admin: BenchAdmin, applicationId: string, input: string, batches: number, guarantee: Guarantee, outputs: string[], identityTopic: string): Promise<Record<string, number | undefined>> {
  const g = `peer_${SHORT[guarantee]}`;
  const stateDir = join(BENCH_TMP, 'state', applicationId);
  rmSync(stateDir, { recursive: true, force: true });
  const child = peerChild({ applicationId, brokers: ctx.brokers, registryUrl: ctx.registryUrl, input, outputAll: outputs[0]!, outputAds: outputs[1]!, guarantee, commitIntervalMs: COMMIT_INTERVAL_MS[guarantee], stateDir, work: 'full', identityTopic });
  try {
    await child.waitFor('running', 900_000);
    const rssAfterRestore = child.rssMb();
    const sampler = rssSampler(child);
    const m = await measureThroughput({ label: `Kafka Streams peer ${SHORT[guarantee]} over ${batches.toLocaleString('en-US')} batches`, child, admin, groupId: applicationId, inputTopic: input, outputTopic: outputs[0]!, records: batches, timeoutMs: 120_000 + (batches / 100) * 1000 });
    const samples = sampler.stop();
    return {
      [`${g}_peak_rss_mb`]: child.peakRssMb(),
      [`${g}_steady_rss_mb`]: settled(samples).length ? median(settled(samples)) : undefined,
      [`${g}_rss_after_restore_mb`]: rssAfterRestore,
      [`${g}_batches_per_s`]: round(m.recordsPerS, 0),
    };
  } finally {
    await child.stop(30_000);
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/**
 * `npm run bench -- memory`: issue 12's "peak RSS ≤ 400 MB at 200,000 users". The stores of a fresh instance hold
 * `memoryUsers` users' profiles and replay-dedup lists (written to their changelogs up front and restored, as
 * after a move to a new machine); then it processes `memoryBatches` batches spread uniformly over those users
 * (at-least-once, then exactly-once with the same application and state restored again), while its RSS (peak and
 * settled), its JS heap and RocksDB's own memory are recorded. The Kafka Streams peer does the same on the same data.
 */
export async function memoryBenchmark(ctx: BenchContext): Promise<BenchResult> {
  const started = Date.now();
  const { options: o } = ctx;
  const users = o.memoryUsers;
  const batches = o.memoryBatches;
  const guarantees: Guarantee[] = o.skip.has('eos') ? ['at_least_once'] : ['at_least_once', 'exactly_once'];
  const admin = new BenchAdmin(ctx.brokers);
  await admin.connect();
  const notes: string[] = [];
  const failures: string[] = [];
  const applicationId = `${ctx.runId}-mem`;
  const peerId = `${ctx.runId}-mem-peer`;
  // The peer's half is left out by --skip peer, and by --skip peer-throughput (its runs here are throughput runs too).
  const peerReady = !o.skip.has('peer') && !o.skip.has('peer-throughput') && (await buildPeer().then(() => true, (e: Error) => {
    notes.push(`peer skipped: ${e.message.split('\n')[0]}`);
    return false;
  }));
  // One input topic per guarantee, each with its own batches (the second run must not meet its batches in the
  // dedup store the first run filled): the first and second half of one uniform workload.
  const workload = await loadWorkload({ seed: o.seed, batches: batches * guarantees.length, users, partitions: o.partitions, workspaceId: '1', zipfExponent: 0 }, ctx.registryUrl, 'bench.raw.web');
  const inputs = guarantees.map((g) => ({ guarantee: g, topic: `${ctx.runId}-mem.raw.${SHORT[g]}`, records: workload.records.slice(guarantees.indexOf(g) * batches, (guarantees.indexOf(g) + 1) * batches) }));
  const touched = (records: readonly EncodedRecord[]) => new Set(records.map((r) => r.key.toString())).size;
  const runs: Record<string, number | undefined>[] = [];
  let state: StoredState | undefined;
  let rocks: RocksDbMemory | undefined;
  try {
    await admin.create(inputs.map((i) => ({ topic: i.topic, partitions: o.partitions, config: { 'retention.ms': '-1' } })));
    const outputs = await createServiceTopics(admin, applicationId, inputs[0]!.topic, o.partitions);
    const changelogs = (app: string) => ({ profiles: `${app}-${PROFILES_STORE}-changelog`, dedup: `${app}-${BATCH_DEDUP_STORE}-changelog` });
    const peerOutputs = [`${peerId}.enriched.all`, `${peerId}.enriched.ads`];
    const peerIdentity = `${peerId}-identity-changes`;
    // The runtimes create their changelogs when missing; these two are written before either starts.
    await admin.create(Object.values(changelogs(applicationId)).map((topic) => ({ topic, partitions: o.partitions, config: { 'cleanup.policy': 'compact' } })));
    if (peerReady) {
      await admin.create([
        ...peerOutputs.map((topic) => ({ topic, partitions: o.partitions, config: { 'retention.ms': '-1' } })),
        { topic: peerIdentity, partitions: o.partitions, config: { 'retention.ms': '-1' } },
        ...Object.values(changelogs(peerId)).map((topic) => ({ topic, partitions: o.partitions, config: { 'cleanup.policy': 'compact' } })),
      ]);
    }
    log(`stored state: ${users.toLocaleString('en-US')} users (profiles and batch-dedup changelogs${peerReady ? ', also in the peer\'s format' : ''})`);
    state = await produceState(ctx, users, [{ ...changelogs(applicationId), format: 'profile-stream' }, ...(peerReady ? [{ ...changelogs(peerId), format: 'peer' as const }] : [])]);
    for (const i of inputs) await produceRecords(ctx.brokers, i.topic, i.records, `pre-producing ${i.records.length.toLocaleString('en-US')} ${SHORT[i.guarantee]} batches`);
    const figures: Record<string, number | undefined> = {};
    const attempt = async (what: string, f: () => Promise<void>): Promise<void> => {
      try {
        await f();
      } catch (e) {
        failures.push(`${what}: ${(e as Error).message.split('\n')[0]}`);
        log(`FAILED ${what}: ${(e as Error).message}`);
      }
    };
    for (const i of inputs) {
      await attempt(`profile-stream ${SHORT[i.guarantee]}`, async () => {
        const r = await runService(ctx, admin, applicationId, i.topic, i.records.length, i.guarantee, outputs[0]!);
        Object.assign(figures, r.figures);
        if (i.guarantee === 'at_least_once' || rocks === undefined) rocks = r.lastRocks;
      });
    }
    if (peerReady) {
      for (const i of inputs) {
        await attempt(`peer ${SHORT[i.guarantee]}`, async () => {
          Object.assign(figures, await runPeer(ctx, admin, peerId, i.topic, i.records.length, i.guarantee, peerOutputs, peerIdentity));
        });
      }
    }
    const peak = Math.max(figures.alos_peak_rss_mb ?? 0, figures.eos_peak_rss_mb ?? 0) || undefined;
    runs.push({ peak_rss_mb: peak, ...figures });
  } finally {
    rmSync(join(BENCH_TMP, 'state', applicationId), { recursive: true, force: true });
    await admin.deleteByPrefix(applicationId);
    await admin.deleteGroups([applicationId, peerId]);
    await admin.disconnect();
  }
  const s = summarize(runs);
  const byStore = rocks ? Object.entries(rocks.byStore).filter(([, v]) => v.memtableBytes + v.blockCacheBytes + v.tableReaderBytes > MB / 10)
    .map(([store, v]) => `${store} ${mb(v.memtableBytes)} / ${mb(v.blockCacheBytes)} / ${mb(v.tableReaderBytes)}`).join('; ') : undefined;
  return {
    benchmark: 'memory-at-scale',
    started_at: new Date(started).toISOString(),
    duration_s: (Date.now() - started) / 1000,
    size: o.size,
    machine: ctx.machine,
    parameters: {
      users, batches_per_guarantee: batches, users_touched_per_guarantee: inputs.map((i) => touched(i.records)), partitions: o.partitions, seed: o.seed,
      mean_profile_bytes: state ? round(state.meanProfileBytes, 0) : undefined, changelog_mb: state ? round(state.changelogBytes / MB, 1) : undefined,
      distinct_profile_values: TEMPLATES, task_databases: rocks?.databases, column_families: rocks?.columnFamilies, commit_interval_ms: COMMIT_INTERVAL_MS,
    },
    ...s,
    runs,
    ratios: {
      peak_rss_vs_peer_alos: ratio(s.median.alos_peak_rss_mb, s.median.peer_alos_peak_rss_mb),
      peak_rss_vs_peer_eos: ratio(s.median.eos_peak_rss_mb, s.median.peer_eos_peak_rss_mb),
    },
    targets: [{ label: `peak RSS ≤ 400 MB at ${users.toLocaleString('en-US')} users`, key: 'peak_rss_mb', op: '<=', value: 400 }],
    units: Object.fromEntries(Object.keys(s.median).map((k) => [k, k.endsWith('_ms') ? 'ms' : k.endsWith('_per_s') ? 'batches/s' : 'MB'])),
    notes: [
      `The stores hold ${users.toLocaleString('en-US')} users: each a real profile (${TEMPLATES} distinct ones folded from generated batches, handed out under every user's own MPID and identities) and a replay-dedup list of ${DEDUP_ENTRIES} batches, written to the changelogs and restored into an empty state directory before each run (restore included in the peak). Then ${batches.toLocaleString('en-US')} new batches spread uniformly over all users (${inputs.map((i) => `${touched(i.records).toLocaleString('en-US')} users touched ${SHORT[i.guarantee]}`).join(', ')}), at-least-once, then exactly-once on the same application (its state restored again, its own batches).`,
      'peak_rss_mb: the larger of the two runs\' kernel high-water marks (VmHWM) of the worker process (compiled JavaScript on Node, as `npm start` runs). steady_*: the median of the samples taken every second in the second half of the traffic (VmRSS; the heap, external and RocksDB figures from the worker itself: process.memoryUsage() and RocksDB properties summed over every column family of every task database).',
      `RocksDB at the end of the ${guarantees.length > 1 ? 'at-least-once ' : ''}traffic, per store summed over tasks (memtables / block cache / table readers, MB): ${byStore ?? 'not measured'}.`,
      'The identity index, history and history-days stores start empty (the traffic\'s batches carry the identities the profiles already hold, so identity lookups are few); the peer (Kafka Streams, equal work, heap capped at 1 GiB) restores the same users\' profiles and dedup lists in its own store format.',
      'One run per guarantee: RSS varies little between runs (unlike throughput, which here only shows that the traffic was processed).',
      ...notes, ...failures.map((f) => `failed: ${f}`),
    ],
  };
}
