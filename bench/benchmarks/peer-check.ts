import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { rmSync } from 'node:fs';
import { createSchemaRegistry } from '../../src/schema/avro-serde.ts';
import type { EnrichedBatch } from '../../src/schema/enriched-batch.ts';
import type { BenchContext } from '../lib/context.ts';
import { BenchAdmin, benchKafka } from '../lib/kafka.ts';
import { log } from '../lib/progress.ts';
import type { EncodedRecord } from '../lib/workload.ts';
import { produceRecords } from '../lib/workload.ts';
import { createServiceTopics, serviceChild, workerConfig } from '../lib/service-under-test.ts';
import { peerChild } from './peer.ts';
import { join } from 'node:path';
import { BENCH_TMP } from '../lib/workload.ts';

/** Parts of the enriched output the peer computes the same way; the rest is listed as a known difference. */
export const COMPARED = ['batch', 'integration', 'profile.mpid', 'profile.user_attributes', 'profile.user_identities', 'profile.created_timestamp_ms', 'profile.last_seen_timestamp_ms', 'profile.is_opted_out'] as const;
export const NOT_COMPARED = ['processed_timestamp_ms (wall clock)', 'profile.consent_state (peer: the batch\'s own, not merged)', 'profile.device_info (peer: the batch\'s own, not the merged device)', 'profile.limit_ad_tracking (peer: always false)', 'profile.audience_memberships / calculated_attributes (none defined in the benchmark; empty in both)'] as const;

export interface PeerCheck {
  readonly sample: number;
  readonly compared: number;
  /** Outputs whose compared fields differ, by field. */
  readonly mismatches: Record<string, number>;
  /** How often each not-compared field differed, for the record. */
  readonly otherDifferences: Record<string, number>;
  readonly examples: string[];
}

function pick(e: EnrichedBatch, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], e);
}

/** Normalizes what Avro decoding leaves as null-prototype objects or Maps, so deep equality means equal content. */
function plain(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x instanceof Map ? Object.fromEntries(x) : x))) as unknown;
}

async function readAll(ctx: BenchContext, topic: string, count: number, timeoutMs: number): Promise<Map<string, EnrichedBatch>> {
  const registry = createSchemaRegistry(ctx.registryUrl);
  const consumer = benchKafka(ctx.brokers, 'bench-peer-check').consumer({ groupId: `bench-peer-check-${randomUUID()}`, readUncommitted: false });
  const out = new Map<string, EnrichedBatch>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${topic}: ${out.size} of ${count} outputs within ${timeoutMs} ms`)), timeoutMs);
      void consumer.run({
        eachMessage: async ({ message }) => {
          const e = (await registry.decode(message.value!)) as EnrichedBatch;
          out.set(e.batch.source_request_id!, e);
          if (out.size >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}

/**
 * Runs profile-stream and the peer (at-least-once) over the same sample of raw records and compares
 * their enriched outputs for both integrations, output by output.
 */
export async function checkPeerEquivalence(ctx: BenchContext, admin: BenchAdmin, records: readonly EncodedRecord[]): Promise<PeerCheck> {
  const id = `${ctx.runId}-peercheck`;
  const rawTopic = `${id}.raw.web`;
  await admin.create([{ topic: rawTopic, partitions: ctx.options.partitions, config: { 'retention.ms': '-1' } }]);
  await produceRecords(ctx.brokers, rawTopic, records, 'peer check sample');
  const psId = `${id}-ps`;
  const peerId = `${id}-peer`;
  const [psAll, psAds] = await createServiceTopics(admin, psId, rawTopic, ctx.options.partitions);
  const [peerAll, peerAds] = await createServiceTopics(admin, peerId, rawTopic, ctx.options.partitions);
  const config = workerConfig(ctx, psId, rawTopic, 'at_least_once');
  const peerState = join(BENCH_TMP, 'state', peerId);
  const ps = serviceChild(ctx, config, 'peer-check profile-stream');
  const peer = peerChild({ applicationId: peerId, brokers: ctx.brokers, registryUrl: ctx.registryUrl, input: rawTopic, outputAll: peerAll!, outputAds: peerAds!, guarantee: 'at_least_once', commitIntervalMs: 1000, stateDir: peerState });
  try {
    const timeout = 120_000 + records.length * 20;
    const [a, b] = await Promise.all([readAll(ctx, psAll!, records.length, timeout), readAll(ctx, peerAll!, records.length, timeout)]);
    // `ads` gets fewer outputs; both have had every input by now (the `all` topics are complete), so wait briefly.
    const psAdsCount = (await admin.endOffsetSum(psAds!));
    const [c, d] = await Promise.all([readAll(ctx, psAds!, psAdsCount, 60_000), readAll(ctx, peerAds!, psAdsCount, 60_000).catch(() => new Map<string, EnrichedBatch>())]);
    const mismatches: Record<string, number> = {};
    const otherDifferences: Record<string, number> = {};
    const examples: string[] = [];
    let compared = 0;
    for (const [mine, theirs, name] of [[a, b, 'all'], [c, d, 'ads']] as const) {
      if (mine.size !== theirs.size) mismatches[`${name}: output count`] = Math.abs(mine.size - theirs.size);
      for (const [batchId, x] of mine) {
        const y = theirs.get(batchId);
        if (!y) continue;
        compared += 1;
        for (const path of COMPARED) {
          if (!isDeepStrictEqual(plain(pick(x, path)), plain(pick(y, path)))) {
            mismatches[path] = (mismatches[path] ?? 0) + 1;
            if (examples.length < 3) examples.push(`${name} ${batchId} ${path}: profile-stream ${JSON.stringify(plain(pick(x, path))).slice(0, 300)} vs peer ${JSON.stringify(plain(pick(y, path))).slice(0, 300)}`);
          }
        }
        for (const path of ['profile.consent_state', 'profile.device_info', 'profile.limit_ad_tracking']) {
          if (!isDeepStrictEqual(plain(pick(x, path)), plain(pick(y, path)))) otherDifferences[path] = (otherDifferences[path] ?? 0) + 1;
        }
      }
    }
    log(`peer check: ${compared} outputs compared, mismatches ${JSON.stringify(mismatches)}, other differences ${JSON.stringify(otherDifferences)}`);
    return { sample: records.length, compared, mismatches, otherDifferences, examples };
  } finally {
    await Promise.all([ps.stop(10_000), peer.stop(10_000)]);
    rmSync(config.stateDir, { recursive: true, force: true });
    rmSync(peerState, { recursive: true, force: true });
    await admin.deleteByPrefix(id);
    await admin.deleteGroups([psId, peerId]);
  }
}
