import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchProducer } from '../../../src/app/adapters/batch-producer.ts';
import { IDENTITY_INDEX_STORE, type IdentityOwner } from '../../../src/app/topology/identity-index-processor.ts';
import { PROFILES_STORE } from '../../../src/app/topology/profile-node-names.ts';
import { StreamsService } from '../../../src/app/streams-service.ts';
import { ensureTopics } from '../../../src/app/kafka/topic-admin.ts';
import { planTopics } from '../../../src/app/topology/topic-plan.ts';
import { readRuntimeEnv } from '../../../src/config/runtime-env.ts';
import { SeededRandom } from '../../../src/generator/seeded-random.ts';
import { sampleBatches } from '../../../src/generator/sample-batches.ts';
import { enrich } from '../../../src/profiles/enrich.ts';
import { independentProfile } from '../../support/independent-profile-reference.ts';
import { createSchemaRegistry } from '../../../src/schema/avro-serde.ts';
import type { Batch } from '../../../src/schema/batch.ts';
import type { EnrichedBatch } from '../../../src/schema/enriched-batch.ts';
import type { HistoryRecord } from '../../../src/schema/history-record.ts';
import type { ProfileState } from '../../../src/schema/profile-state.ts';
import { kafkaBrokers, recentStartTimeMs, schemaRegistryUrl, kafkaClientEnv } from '../../support/stack-env.ts';
import { testDeployment } from '../../support/test-deployment.ts';
import { readTopic } from '../../support/topic-reader.ts';

const USERS = 1000;
const SOURCES = ['web', 'ios', 'android'];

/** Fisher-Yates with the project's seeded PRNG: the same shuffle on every run. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = new SeededRandom(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('profiles from batches of 1,000 users, three sources, shuffled, 4 partitions', () => {
  const { deployment } = testDeployment({ partitions: 4, sources: SOURCES });
  const env = (stateDir: string) => readRuntimeEnv({ STATE_DIR: stateDir, PROCESSING_GUARANTEE: 'exactly_once', ...kafkaClientEnv() });
  const logger = pino({ level: 'warn' });
  let stateDir: string;
  let service: StreamsService | undefined;
  // Every user gets at least one batch: 1,000 batches round the user ids, then Zipf-distributed extras.
  const generated = [...sampleBatches({ seed: 11, users: USERS, batches: 3000, sources: SOURCES, startTimeMs: recentStartTimeMs(3000), workspaceId: '1' })];
  const batches = shuffled(generated, 99);
  const byUser = new Map<string, Batch[]>();
  for (const b of batches) byUser.set(b.mpid!, [...(byUser.get(b.mpid!) ?? []), b]);
  const expected = new Map([...byUser].map(([mpid, list]) => [mpid, independentProfile(list)!]));

  async function startService(): Promise<StreamsService> {
    const s = new StreamsService({ deployment, env: env(stateDir), brokers: kafkaBrokers(), schemaRegistryUrl: schemaRegistryUrl(), logger, commitIntervalMs: 100 });
    await s.start();
    return s;
  }

  async function storedProfiles(s: StreamsService): Promise<Map<string, ProfileState | undefined>> {
    const store = s.app.store<string, ProfileState>(PROFILES_STORE);
    const mpids = [...expected.keys()];
    const values = await store.getMany(mpids);
    return new Map(mpids.map((m, i) => [m, values[i]]));
  }

  function expectProfilesMatchReference(stored: Map<string, ProfileState | undefined>): void {
    let compared = 0;
    for (const [mpid, want] of expected) {
      expect(stored.get(mpid), `profile of ${mpid}`).toEqual(want);
      compared += 1;
    }
    expect(compared).toBe(byUser.size);
  }

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'ps-profiles-'));
    await ensureTopics(kafkaBrokers(), planTopics(deployment));
    service = await startService();
    const producer = new BatchProducer(kafkaBrokers(), schemaRegistryUrl());
    await producer.connect();
    // Shuffled order, each batch to its own source's raw topic, in chunks so all three interleave.
    for (let i = 0; i < batches.length; i += 100) {
      const chunk = batches.slice(i, i + 100);
      await Promise.all(SOURCES.map((source, s) => producer.send(deployment.app.rawTopics[s]!, chunk.filter((b) => b.source === source))));
    }
    await producer.disconnect();
  }, 300_000);

  afterAll(async () => {
    await service?.close();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('every profile equals the independent reference (the documented merge rules) over the same batches', async () => {
    const enrichedAll = await readTopic(kafkaBrokers(), deployment.integrations[0]!.outputTopic, batches.length, 180_000);
    expect(enrichedAll).toHaveLength(batches.length);
    expect(byUser.size).toBeGreaterThan(USERS * 0.6);
    expectProfilesMatchReference(await storedProfiles(service!));
  }, 240_000);

  it('each integration receives the full profile filtered for it, as enrich computes it', async () => {
    const registry = createSchemaRegistry(schemaRegistryUrl());
    // History holds every batch with the profile snapshot it was enriched with.
    const history = await readTopic(kafkaBrokers(), deployment.app.historyTopic, batches.length, 60_000);
    expect(history).toHaveLength(batches.length);
    const snapshots = new Map<string, HistoryRecord>();
    for (const h of history) {
      const record = (await registry.decode(h.message.value!)) as HistoryRecord;
      snapshots.set(record.batch.source_request_id!, record);
    }
    const original = new Map(batches.map((b) => [b.source_request_id!, b]));
    for (const integration of deployment.integrations) {
      const wanted = batches.flatMap((b) => {
        const h = snapshots.get(b.source_request_id!)!;
        const e = enrich(original.get(b.source_request_id!)!, h.profile!, integration, { processedAtMs: h.processed_timestamp_ms });
        return e ? [e] : [];
      });
      const records = await readTopic(kafkaBrokers(), integration.outputTopic, wanted.length, 60_000);
      expect(records, integration.name).toHaveLength(wanted.length);
      if (integration.forwardProfileOnlyBatches) expect(records).toHaveLength(batches.length);
      const byId = new Map(wanted.map((e) => [e.batch.source_request_id!, e]));
      for (const r of records) {
        const got = (await registry.decode(r.message.value!)) as EnrichedBatch;
        expect(got, `${integration.name} output for ${got.batch.source_request_id}`).toEqual(byId.get(got.batch.source_request_id!));
      }
    }
  }, 240_000);

  it('the identity index maps every current identity to its MPID', async () => {
    const index = service!.app.store<string, IdentityOwner>(IDENTITY_INDEX_STORE);
    let checked = 0;
    for (const [mpid, profile] of expected) {
      for (const [type, identity] of Object.entries(profile.user_identities)) {
        if (identity.value === null) continue;
        const owner = await index.get(`${type}:${identity.value}`);
        expect(owner?.mpid, `${type}:${identity.value}`).toBe(mpid);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(byUser.size);
  });

  it('holds the same profiles after a restart', async () => {
    await service!.close();
    service = await startService();
    expectProfilesMatchReference(await storedProfiles(service));
  });

  it('holds the same profiles after the state directory is deleted (restored from changelogs)', async () => {
    await service!.close();
    service = undefined;
    await rm(stateDir, { recursive: true, force: true });
    service = await startService();
    expectProfilesMatchReference(await storedProfiles(service));
  });
});
