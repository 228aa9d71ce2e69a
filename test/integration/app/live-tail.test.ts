import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveEvent } from '../../../src/api/live-feed.ts';
import { BatchProducer } from '../../../src/app/adapters/batch-producer.ts';
import { historyKey } from '../../../src/app/topology/history-store.ts';
import { LiveTail } from '../../../src/app/adapters/live-tail.ts';
import { ensureTopics } from '../../../src/app/kafka/topic-admin.ts';
import { planTopics } from '../../../src/app/topology/topic-plan.ts';
import { mergeBatch } from '../../../src/profiles/merge-batch.ts';
import { createAvroSerde, createSchemaRegistry } from '../../../src/schema/avro-serde.ts';
import type { Batch } from '../../../src/schema/batch.ts';
import type { HistoryRecord } from '../../../src/schema/history-record.ts';
import { SCHEMAS } from '../../../src/schema/schema-catalog.ts';
import { kafkaBrokers, schemaRegistryUrl } from '../../support/stack-env.ts';
import { eventually } from '../../support/eventually.ts';
import { testDeployment } from '../../support/test-deployment.ts';
import { batch, customEvent, screenView } from '../../unit/profiles/support/batches.ts';

/**
 * The Live Stream's tail against the real broker and registry. The pipeline's part (the history record of
 * a processed batch) is written here by hand, with the history topic's key and serde, so each test
 * controls exactly what the tail reads.
 */
describe('LiveTail', () => {
  const { deployment } = testDeployment({ partitions: 2, sources: ['web'] });
  const raw = deployment.app.rawTopics[0]!;
  const producer = new BatchProducer(kafkaBrokers(), schemaRegistryUrl());
  const history = createAvroSerde<HistoryRecord>({ registry: createSchemaRegistry(schemaRegistryUrl()), schema: SCHEMAS['history-record'] });
  const kafka = new Kafka({ brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
  const historyProducer = kafka.producer();
  const admin = kafka.admin();
  const tails: LiveTail[] = [];
  const tail = (o: Partial<ConstructorParameters<typeof LiveTail>[0]> = {}) => {
    const t = new LiveTail({ app: deployment.app, integrations: deployment.integrations, brokers: kafkaBrokers(), schemaRegistryUrl: schemaRegistryUrl(), logger: pino({ level: 'warn' }), ...o });
    tails.push(t);
    return t;
  };
  const b = (id: string, mpid: string, fields: Partial<Batch> = {}) => batch({ id, mpid, workspace_id: '1', source: 'web', timestamp_unixtime_ms: Date.now(), events: [customEvent('play', Date.now())], ...fields });

  beforeAll(async () => {
    await ensureTopics(kafkaBrokers(), planTopics(deployment));
    await Promise.all([producer.connect(), historyProducer.connect(), admin.connect()]);
  });

  afterAll(async () => {
    await Promise.all(tails.map((t) => t.stop()));
    await Promise.all([producer.disconnect(), historyProducer.disconnect(), admin.disconnect()]);
  });

  it('shows a subscriber only its workspaces\' batches, keeps at most tailSize of them, and adds where a batch went once its history record is read', async () => {
    const t = tail({ tailSize: 3 });
    const seen: LiveEvent[] = [];
    const sub = await t.subscribe(['1'], (e) => seen.push(e));
    expect(t.stats().state).toBe('live');
    await producer.send(raw, [b('w2', '501', { workspace_id: '2' }), ...['a', 'b', 'c', 'd'].map((id) => b(id, '502'))]);
    await eventually('four batches of workspace 1', () => seen.filter((e) => e.kind === 'batch').length === 4, { timeoutMs: 15_000, intervalMs: 50 });
    expect(seen.map((e) => e.entry.batch_id)).toEqual(['a', 'b', 'c', 'd']);
    sub.unsubscribe();
    const again = await t.subscribe(['1', '2'], () => {});
    // Workspace 1's tail keeps its newest 3; workspace 2's its one.
    expect(again.tail.map((e) => e.entry.batch_id).sort()).toEqual(['b', 'c', 'd', 'w2']);
    again.unsubscribe();

    // The pipeline processed "d": a screen-view-less custom event goes to both test integrations.
    const updates: LiveEvent[] = [];
    const third = await t.subscribe(['1'], (e) => updates.push(e));
    const d = seen[3]!.entry.batch as Batch;
    const record: HistoryRecord = { batch: d, processed_timestamp_ms: Date.now(), profile: mergeBatch(undefined, d).profile };
    // As the profile processor writes it: on the user's raw partition, keyed with the raw offset × 100 + the raw topic's index.
    const [partition, offset] = seen[3]!.entry.id.split(':').slice(-2).map(Number) as [number, number];
    await historyProducer.send({ topic: deployment.app.historyTopic, messages: [{ partition, key: historyKey('502', record.processed_timestamp_ms, BigInt(offset) * 100n), value: await history.serialize(deployment.app.historyTopic, record) }] });
    const update = await eventually('the update of d', () => updates.find((e) => e.kind === 'update'), { timeoutMs: 15_000, intervalMs: 50 });
    expect(update.entry.batch_id).toBe('d');
    expect(update.entry.processed_ms).toBe(record.processed_timestamp_ms);
    expect(update.entry.forwarding?.map((f) => [f.integration, f.forwarded])).toEqual([['all', true], ['ads', true]]);
    third.unsubscribe();
  });

  it('under a burst, skips ahead to the newest batches instead of reading the backlog, and counts what it skipped', async () => {
    const t = tail({ maxReadBytesPerSecond: 32 * 1024, skipAheadRecords: 100, backfillPerPartition: 5, maxDecodesPerSecond: 50 });
    const seen: LiveEvent[] = [];
    const sub = await t.subscribe(['1'], (e) => seen.push(e));
    const burst = Array.from({ length: 3000 }, (_, i) => b(`burst-${i}`, String(600 + (i % 40)), { events: [screenView('Home', Date.now())] }));
    for (let i = 0; i < burst.length; i += 500) await producer.send(raw, burst.slice(i, i + 500));
    await producer.send(raw, [b('last', '700')]);
    // The last batch shows within seconds although 32 KiB/s would need ~2 minutes for the whole burst.
    await eventually('the batch after the burst', () => seen.find((e) => e.entry.batch_id === 'last'), { timeoutMs: 20_000, intervalMs: 50 });
    const stats = t.stats();
    expect(stats.skipped).toBeGreaterThan(0);
    expect(stats.decoded).toBeLessThan(3000);
    sub.unsubscribe();
  });

  it('reads without a consumer group, so nothing is left on the broker, and stops once the last subscriber has left for idleStopMs', async () => {
    const groups = async () => (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(`${deployment.app.applicationId}-`));
    const t = tail({ idleStopMs: 200 });
    const seen: LiveEvent[] = [];
    const sub = await t.subscribe(['1'], (e) => seen.push(e));
    await producer.send(raw, [b('no-group', '801')]);
    await eventually('the batch read', () => seen.find((e) => e.entry.batch_id === 'no-group'), { timeoutMs: 15_000, intervalMs: 50 });
    expect(await groups()).toEqual([]);
    sub.unsubscribe();
    await eventually('the tail stopped', () => t.stats().state === 'stopped', { timeoutMs: 5000, intervalMs: 50 });
    expect(await groups()).toEqual([]);
  });
});
