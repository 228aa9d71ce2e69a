import { rmSync } from 'node:fs';
import { CompressionTypes } from 'kafkajs';
import { PROFILES_STORE } from '../../src/app/topology/profile-node-names.ts';
import { profileStateSerde } from '../../src/app/topology/profile-state-serde.ts';
import { SeededRandom } from '../../src/generator/seeded-random.ts';
import { sampleBatches } from '../../src/generator/sample-batches.ts';
import { mergeBatch } from '../../src/profiles/merge-batch.ts';
import type { ProfileState } from '../../src/schema/profile-state.ts';
import { partitionForKey } from '../../src/streams/partitioner.ts';
import type { BenchContext } from '../lib/context.ts';
import { BenchAdmin, benchKafka } from '../lib/kafka.ts';
import { log, Progress } from '../lib/progress.ts';
import type { BenchResult } from '../lib/results.ts';
import { ratio, round, summarize } from '../lib/stats.ts';
import { createServiceTopics, serviceChild, workerConfig } from '../lib/service-under-test.ts';

const TEMPLATES = 2000;

/**
 * Profile values for the changelog: TEMPLATES real profiles (generated batches folded with mergeBatch,
 * 1–8 batches each), reused round-robin under distinct MPID keys. Restore copies bytes without decoding
 * them, so what matters is their size, which is realistic.
 */
export function profileTemplates(seed: number): Buffer[] {
  const serde = profileStateSerde();
  const byUser = new Map<string, ProfileState>();
  for (const batch of sampleBatches({ seed, users: TEMPLATES, batches: TEMPLATES * 3, sources: ['web', 'ios'], startTimeMs: Date.now() - TEMPLATES * 3000, workspaceId: '1' })) {
    byUser.set(batch.mpid!, mergeBatch(byUser.get(batch.mpid!), batch).profile);
  }
  return [...byUser.values()].map((p) => serde.serialize('changelog', p) as Buffer);
}

export async function produceChangelog(ctx: BenchContext, topic: string, profiles: number, templates: Buffer[]): Promise<number> {
  const producer = benchKafka(ctx.brokers, 'bench-restore-producer').producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const random = new SeededRandom(ctx.options.seed);
  const progress = new Progress('writing the profiles changelog');
  let bytes = 0;
  try {
    const chunk = 2000;
    const inflight: Promise<unknown>[] = [];
    for (let i = 0; i < profiles; i += chunk) {
      const messages = [];
      for (let j = i; j < Math.min(profiles, i + chunk); j++) {
        const mpid = ((BigInt(random.nextUint32() & 0x7fffffff) << 32n) | BigInt(random.nextUint32())).toString();
        const key = Buffer.from(mpid);
        const value = templates[j % templates.length]!;
        bytes += value.length;
        messages.push({ key, value, partition: partitionForKey(key, ctx.options.partitions) });
      }
      inflight.push(producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages }));
      if (inflight.length >= 4) await inflight.shift();
      progress.update(Math.min(profiles, i + chunk), profiles);
    }
    await Promise.all(inflight);
  } finally {
    await producer.disconnect();
  }
  return bytes;
}

/** A plain kafkajs read of the same partitions, with the runtime's restore fetch settings; connect and join included, as in restore. */
async function plainRead(ctx: BenchContext, topic: string, ends: Map<number, number>, groupId: string): Promise<number> {
  const consumer = benchKafka(ctx.brokers, 'bench-plain-read').consumer({ groupId, maxWaitTimeInMs: 100, maxBytesPerPartition: 8 * 1024 * 1024, maxBytes: 32 * 1024 * 1024 });
  const started = Date.now();
  const positions = new Map<number, number>();
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  let count = 0;
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  void consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      count += batch.messages.length;
      positions.set(batch.partition, Number(batch.lastOffset()) + 1);
      if ([...ends].every(([p, end]) => (positions.get(p) ?? 0) >= end)) resolve();
    },
  });
  await done;
  const ms = Date.now() - started;
  await consumer.disconnect();
  log(`plain read: ${count} records in ${ms} ms`);
  return ms;
}

export async function restoreBenchmark(ctx: BenchContext): Promise<BenchResult> {
  const started = Date.now();
  const { options: o } = ctx;
  const admin = new BenchAdmin(ctx.brokers);
  await admin.connect();
  const notes: string[] = [];
  const runs: Record<string, number | undefined>[] = [];
  const applicationId = `${ctx.runId}-restore`;
  const rawTopic = `${applicationId}.raw.web`;
  const changelog = `${applicationId}-${PROFILES_STORE}-changelog`;
  let changelogBytes = 0;
  try {
    log(`building ${TEMPLATES} profile templates`);
    const templates = profileTemplates(o.seed);
    await admin.create([
      { topic: rawTopic, partitions: o.partitions, config: { 'retention.ms': '-1' } },
      { topic: changelog, partitions: o.partitions, config: { 'cleanup.policy': 'compact' } },
    ]);
    await createServiceTopics(admin, applicationId, rawTopic, o.partitions);
    changelogBytes = await produceChangelog(ctx, changelog, o.restoreProfiles, templates);
    const ends = await admin.endOffsets(changelog);
    for (let run = 1; run <= o.runs; run++) {
      const plainMs = await plainRead(ctx, changelog, ends, `${applicationId}-plain-${run}`);
      // Same application id each run (the changelog is its), empty state directory each time.
      const config = workerConfig(ctx, applicationId, rawTopic, 'at_least_once');
      rmSync(config.stateDir, { recursive: true, force: true });
      const child = serviceChild(ctx, config, `restore #${run}`);
      const t0 = Date.now();
      try {
        const running = await child.waitFor('running', 600_000);
        const restoreMs = child.events.filter((e) => e.event === 'restore').reduce((s, e) => s + Number(e.ms), 0);
        runs.push({
          restore_ms: restoreMs, plain_read_ms: plainMs, start_to_running_ms: running.t - t0,
          restore_profiles_per_s: round(o.restoreProfiles / (restoreMs / 1000), 0), plain_read_records_per_s: round(o.restoreProfiles / (plainMs / 1000), 0),
        });
        log(`restore run ${run}: ${JSON.stringify(runs.at(-1))}`);
      } finally {
        await child.stop(30_000);
        rmSync(config.stateDir, { recursive: true, force: true });
        await admin.deleteGroups([applicationId, `${applicationId}-plain-${run}`]);
      }
    }
  } finally {
    await admin.deleteByPrefix(applicationId);
    await admin.disconnect();
  }
  const s = summarize(runs);
  return {
    benchmark: 'restore',
    started_at: new Date(started).toISOString(),
    duration_s: (Date.now() - started) / 1000,
    size: o.size,
    machine: ctx.machine,
    parameters: { profiles: o.restoreProfiles, partitions: o.partitions, changelog_mb: round(changelogBytes / 2 ** 20, 1), mean_profile_bytes: round(changelogBytes / Math.max(1, o.restoreProfiles), 0), distinct_profile_values: TEMPLATES },
    ...s,
    runs,
    ratios: { vs_plain_read: ratio(s.median.plain_read_ms, s.median.restore_ms) },
    targets: [{ label: 'restore ≥ 0.8× plain read', key: 'vs_plain_read', op: '>=', value: 0.8 }],
    units: { restore_ms: 'ms', plain_read_ms: 'ms', start_to_running_ms: 'ms', restore_profiles_per_s: 'profiles/s', plain_read_records_per_s: 'records/s' },
    notes: [
      'restore_ms is the runtime\'s own "restore finished" timing (its restore consumer\'s join included, RocksDB writes included), into an empty state directory; plain_read_ms is a kafkajs consumer reading the same partitions to their end offsets with the same fetch sizes, join included. vs_plain_read = plain_read_ms / restore_ms.',
      `Values are ${TEMPLATES} real profiles (folded from generated batches) reused under distinct MPIDs; restore does not decode values, so only their size matters.`,
      ...notes,
    ],
  };
}
