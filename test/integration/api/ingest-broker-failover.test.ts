import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiKeyStore, hashSecret } from '../../../src/api/api-keys.ts';
import { buildApi } from '../../../src/api/build-app.ts';
import { BatchProducer } from '../../../src/app/adapters/batch-producer.ts';
import { ensureTopics } from '../../../src/app/kafka/topic-admin.ts';
import { createTopicTail } from '../../../src/app/kafka/topic-tail.ts';
import { createAvroSerde, createSchemaRegistry } from '../../../src/schema/avro-serde.ts';
import type { Batch } from '../../../src/schema/batch.ts';
import { SCHEMAS } from '../../../src/schema/schema-catalog.ts';
import { partitionForKey } from '../../../src/streams/index.ts';
import { findJava } from '../../../stack/java-runtime.ts';
import { KafkaCluster } from '../../../stack/kafka-cluster.ts';
import { isAlive, readPid } from '../../../stack/process-control.ts';
import { stackConfig, stackPaths } from '../../../stack/stack-config.ts';
import { schemaRegistryUrl, uniqueName } from '../../support/stack-env.ts';
import { readTopic } from '../../support/topic-reader.ts';
import { tempDir } from '../streams/helpers.ts';

const { Kafka, logLevel } = kafkajs;

const PARTITIONS = 6;
/** At least this many batches are sent; sending goes on until both faults are over. */
const MIN_BATCHES = 1000;
const WORKERS = 4;
/** Each worker's pause between requests (half of them send 10 batches per request), so the faults fall amid the load. */
const PAUSE_MS = 100;
const auth = { authorization: `Basic ${Buffer.from('key-fo-0001:secret-fo').toString('base64')}` };
const keys = new ApiKeyStore([{ key: 'key-fo-0001', workspaces: ['wsfo'], secretHash: hashSecret('secret-fo') }]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Outcome {
  readonly mpid: string;
  readonly status: number;
  readonly error?: string;
  readonly position?: { topic: string; partition: number; offset: string };
  readonly startedMs: number;
  readonly ms: number;
}

/**
 * The HTTP ingestion's promise under a broker fault, on a cluster of this test's own (three KRaft nodes,
 * replication factor 3, min.insync.replicas 2, the shared stack's jars; the shared registry): a batch
 * answered 202 is on the raw topic exactly once, where the 202 said; any other answer is a 503 with
 * PS_ERR_API_KAFKA_UNAVAILABLE, and nothing is written twice. One broker is stopped (controlled shutdown)
 * and started again, then another is killed (SIGKILL) and started again, while batches keep coming, one per
 * POST /v2/events and ten per POST /v2/bulkevents (one produce request then spans several partitions).
 */
describe('POST /v2/events on a three-broker cluster', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  it('keeps every acknowledged batch exactly once, where its 202 said, while a broker is stopped and another killed, each started again', async () => {
    const root = await tempDir('ps-ingest-failover-');
    cleanups.push(root.remove);
    const cluster = new KafkaCluster({ host: '127.0.0.1', basePort: 26192, nodes: 3, dir: join(root.path, 'cluster'), kafkaLibs: stackPaths(stackConfig()).kafkaLibs });
    cleanups.push(() => cluster.stop());
    await cluster.start(await findJava());
    const brokers = cluster.brokers();
    const topic = `${uniqueName('failover')}.raw.web`;
    await ensureTopics(brokers, [{ topic, partitions: PARTITIONS, purpose: 'test raw batches', config: {} }]);

    const producer = new BatchProducer(brokers, schemaRegistryUrl(), 'ingest-failover-test');
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    const api = await buildApi({ readiness: { readiness: () => ({ ready: true, detail: {} }) }, keys, ingest: { sink: producer, rawTopicOf: () => topic, defaultSource: 'web' } });
    cleanups.push(() => api.close());

    // A topic tail (what `consume`, the Live Stream and the audience reader read with) follows the topic through
    // the faults: it must deliver every stored record once, in offset order per partition.
    const tailed = new Map<number, string[]>();
    const tail = createTopicTail({ brokers, clientId: 'ingest-failover-tail', topics: [topic], fromBeginning: true, maxWaitMs: 200 });
    cleanups.push(() => tail.stop());
    await tail.run({
      onBatch: async (b) => {
        tailed.set(b.partition, [...(tailed.get(b.partition) ?? []), ...b.records.map((r) => r.offset)]);
      },
    });

    const outcomes = new Map<string, Outcome>();
    let sent = 0;
    let faultsOver = false;
    /** `bulk` 0: one batch per POST /v2/events; else that many per POST /v2/bulkevents (several partitions per produce). */
    const worker = async (bulk: number): Promise<void> => {
      while (!faultsOver || sent < MIN_BATCHES) {
        const first = sent;
        sent += Math.max(1, bulk);
        const batches = Array.from({ length: Math.max(1, bulk) }, (_, k) => {
          const i = first + k;
          return { mpid: String(7_000_000 + ((i * 7919) % 5000)), source_request_id: `fo-${i}`, events: [{ event_type: 'custom_event', data: { event_name: 'tick', custom_event_type: 'other' } }] };
        });
        const started = Date.now();
        const res = bulk === 0
          ? await api.inject({ method: 'POST', url: '/v2/events', headers: auth, payload: batches[0] })
          : await api.inject({ method: 'POST', url: '/v2/bulkevents', headers: auth, payload: batches });
        const body = res.json() as { error?: string; offsets?: Array<{ topic: string; partition: number; offset: string }> };
        for (const [k, b] of batches.entries()) {
          const position = body.offsets?.[k];
          outcomes.set(b.source_request_id, { mpid: b.mpid, status: res.statusCode, ...(body.error ? { error: body.error } : {}), ...(position ? { position } : {}), startedMs: started, ms: Date.now() - started });
        }
        await sleep(PAUSE_MS);
      }
    };
    const workers = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w % 2 === 0 ? 0 : 10)));
    const windows: Array<{ what: string; from: number; to: number }> = [];
    try {
      while (sent < 150) await sleep(100);
      // Controlled shutdown of broker 2: its leaderships move before it goes.
      let from = Date.now();
      await cluster.stopNode(2);
      await sleep(5_000);
      await cluster.startNode(2);
      windows.push({ what: 'broker 2 stopped', from, to: Date.now() });
      await sleep(5_000);
      // Broker 1 killed: no handover; its partitions get new leaders once the controller notices.
      const pid = readPid(cluster.nodes[0]!.pidFile);
      expect(pid).toBeDefined();
      from = Date.now();
      process.kill(pid!, 'SIGKILL');
      while (isAlive(pid!)) await sleep(50);
      await sleep(15_000);
      await cluster.startNode(1);
      windows.push({ what: 'broker 1 killed', from, to: Date.now() });
      await sleep(5_000);
    } finally {
      faultsOver = true;
      await workers;
    }

    // Read back with another client: every record of the topic (no transactions here, so one offset per record).
    const admin = new Kafka({ clientId: 'failover-check', brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    const ends = await admin.fetchTopicOffsets(topic);
    const stored = ends.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
    const records = await readTopic(brokers, topic, stored, 90_000);
    expect(records).toHaveLength(stored);
    const serde = createAvroSerde<Batch>({ registry: createSchemaRegistry(schemaRegistryUrl()), schema: SCHEMAS.batch });
    const found = new Map<string, Array<{ partition: number; offset: string }>>();
    for (const r of records) {
      const batch = await serde.deserialize(topic, r.message.value!);
      found.set(batch.source_request_id!, [...(found.get(batch.source_request_id!) ?? []), { partition: r.partition, offset: r.message.offset }]);
    }

    const tailedCount = () => [...tailed.values()].reduce((n, offsets) => n + offsets.length, 0);
    const deadline = Date.now() + 60_000;
    while (tailedCount() < stored && Date.now() < deadline) await sleep(200);
    await sleep(1000); // anything beyond `stored` would be a record delivered twice
    for (const o of ends) {
      const expected = Array.from({ length: Number(o.high) - Number(o.low) }, (_, k) => String(Number(o.low) + k));
      expect(tailed.get(o.partition) ?? [], `tail of partition ${o.partition}`).toEqual(expected);
    }

    const all = [...outcomes];
    const acked = all.filter(([, o]) => o.status === 202);
    const refused = all.filter(([, o]) => o.status !== 202);
    const inWindow = (o: Outcome, w: { from: number; to: number }) => o.startedMs < w.to && o.startedMs + o.ms > w.from;
    const summary = {
      sent: all.length,
      acknowledged: acked.length,
      refused503: refused.length,
      stored,
      tailed: tailedCount(),
      ackedMissing: acked.filter(([id]) => !found.has(id)).length,
      ackedDuplicated: acked.filter(([id]) => (found.get(id)?.length ?? 0) > 1).length,
      refusedStored: refused.filter(([id]) => found.has(id)).length,
      slowest202Ms: Math.max(...acked.map(([, o]) => o.ms)),
      windows: windows.map((w) => ({ what: w.what, seconds: (w.to - w.from) / 1000, requests: all.filter(([, o]) => inWindow(o, w)).length, refused: refused.filter(([, o]) => inWindow(o, w)).length })),
    };
    console.log(`ingest across broker faults: ${JSON.stringify(summary)}`);

    expect(all.length).toBeGreaterThanOrEqual(MIN_BATCHES);
    // The faults fell amid the load: requests were in flight during each.
    for (const w of summary.windows) expect(w.requests, w.what).toBeGreaterThan(20);
    // Never a 500: a batch is accepted (202) or Kafka is reported unavailable (503), nothing else.
    expect(refused.filter(([, o]) => o.status !== 503 || o.error !== 'PS_ERR_API_KAFKA_UNAVAILABLE').map(([id, o]) => `${id}: ${o.status} ${o.error}`)).toEqual([]);
    // Every acknowledged batch exactly once, at the partition Java would pick for its MPID and the offset its 202 gave.
    expect(acked.filter(([id]) => found.get(id)?.length !== 1).map(([id]) => `${id} stored ${found.get(id)?.length ?? 0} times`)).toEqual([]);
    for (const [id, o] of acked) {
      const [at] = found.get(id)!;
      expect(at, id).toEqual({ partition: partitionForKey(Buffer.from(o.mpid), PARTITIONS), offset: o.position!.offset });
      expect(o.position!.partition, id).toBe(at!.partition);
    }
    // A refused batch may have been written (its acknowledgement lost), but never twice; nothing else is there.
    expect([...found].filter(([, at]) => at.length > 1).map(([id]) => id)).toEqual([]);
    expect([...found.keys()].filter((id) => !outcomes.has(id))).toEqual([]);
  }, 600_000);
});
