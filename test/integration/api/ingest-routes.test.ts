import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyStore, hashSecret } from '../../../src/api/api-keys.ts';
import { buildApi } from '../../../src/api/build-app.ts';
import { BatchProducer } from '../../../src/app/adapters/batch-producer.ts';
import { ensureTopics } from '../../../src/app/kafka/topic-admin.ts';
import { createAvroSerde, createSchemaRegistry } from '../../../src/schema/avro-serde.ts';
import type { Batch } from '../../../src/schema/batch.ts';
import { SCHEMAS } from '../../../src/schema/schema-catalog.ts';
import { partitionForKey } from '../../../src/streams/index.ts';
import { kafkaBrokers, schemaRegistryUrl, uniqueName } from '../../support/stack-env.ts';
import { readTopic } from '../../support/topic-reader.ts';

const PARTITIONS = 3;
const auth = { authorization: `Basic ${Buffer.from('key-ws7-0001:secret-seven').toString('base64')}` };
const keys = new ApiKeyStore([{ key: 'key-ws7-0001', workspaces: ['ws7'], secretHash: hashSecret('secret-seven') }]);
const ready = { readiness: () => ({ ready: true, detail: {} }) };

describe('batch ingestion over HTTP into a real broker', () => {
  const prefix = uniqueName('it-ingest');
  const topics: Record<string, string> = { web: `${prefix}.raw.web`, ios: `${prefix}.raw.ios` };
  const rawTopicOf = (source: string) => topics[source];
  let producer: BatchProducer;
  let api: FastifyInstance;

  beforeAll(async () => {
    await ensureTopics(kafkaBrokers(), Object.values(topics).map((topic) => ({ topic, partitions: PARTITIONS, purpose: 'test raw batches', config: {} })));
    producer = new BatchProducer(kafkaBrokers(), schemaRegistryUrl(), `${prefix}-http`);
    await producer.connect();
    api = await buildApi({ readiness: ready, keys, ingest: { sink: producer, rawTopicOf, defaultSource: 'web' } });
  }, 60_000);

  afterAll(async () => {
    await api?.close();
    await producer?.disconnect();
  });

  it('answers 202 only once the batches are on the raw topics, keyed and partitioned by MPID, workspace stamped; rejected requests add nothing', async () => {
    const payload = [
      { mpid: '8000000000000000001', source_request_id: `${prefix}-1`, user_attributes: { tier: 'gold' }, events: [{ event_type: 'custom_event', data: { event_name: 'signup', custom_event_type: 'other' } }] },
      { mpid: '8000000000000000002', source_request_id: `${prefix}-2`, source: 'ios', user_identities: { customer_id: 'c-2' } },
      { mpid: '8000000000000000003', source_request_id: `${prefix}-3` },
    ];
    const res = await api.inject({ method: 'POST', url: '/v2/bulkevents', headers: auth, payload });
    expect(res.statusCode, res.body).toBe(202);
    const answer = res.json() as { accepted: string[]; offsets: { topic: string; partition: number; offset: string }[] };
    expect(answer.accepted).toEqual([`${prefix}-1`, `${prefix}-2`, `${prefix}-3`]);
    expect(answer.offsets.map((o) => o.topic)).toEqual([topics.web, topics.ios, topics.web]);

    const invalid = await api.inject({ method: 'POST', url: '/v2/events', headers: auth, payload: { mpid: '8000000000000000004', events: [{ event_type: 'custom_event', data: { event_name: 4 } }] } });
    const malformed = await api.inject({ method: 'POST', url: '/v2/events', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"mpid": "8000000000000000005",' });
    const oversized = await api.inject({ method: 'POST', url: '/v2/events', headers: auth, payload: { mpid: '8000000000000000006', user_attributes: { big: 'x'.repeat(2 * 1024 * 1024) } } });
    expect([invalid.statusCode, malformed.statusCode, oversized.statusCode]).toEqual([400, 400, 413]);

    const serde = createAvroSerde<Batch>({ registry: createSchemaRegistry(schemaRegistryUrl()), schema: SCHEMAS.batch });
    // Ask for one more record than expected: a short wait proves the rejected requests produced nothing.
    const [web, ios] = await Promise.all([readTopic(kafkaBrokers(), topics.web!, 3, 8_000), readTopic(kafkaBrokers(), topics.ios!, 2, 8_000)]);
    expect(web).toHaveLength(2);
    expect(ios).toHaveLength(1);
    for (const { partition, message } of [...web, ...ios]) {
      const key = message.key!.toString();
      const batch = await serde.deserialize(topics.web!, message.value!);
      expect(batch.mpid).toBe(key);
      expect(partition).toBe(partitionForKey(Buffer.from(key), PARTITIONS));
      expect(batch.workspace_id).toBe('ws7');
    }
    // The 202's offsets are where each batch really is: the record found at that topic, partition and offset is that batch.
    for (const [i, position] of answer.offsets.entries()) {
      const found = [...(position.topic === topics.web ? web : ios)].find((r) => r.partition === position.partition && r.message.offset === position.offset);
      expect(found, `${position.topic}:${position.partition}@${position.offset}`).toBeDefined();
      expect((await serde.deserialize(position.topic, found!.message.value!)).source_request_id).toBe(answer.accepted[i]);
    }
    const ids = await Promise.all(web.map(async (r) => (await serde.deserialize(topics.web!, r.message.value!)).source_request_id));
    expect(ids.sort()).toEqual([`${prefix}-1`, `${prefix}-3`]);
    const gold = await serde.deserialize(topics.web!, web.find((r) => r.message.key!.toString() === '8000000000000000001')!.message.value!);
    expect(gold.user_attributes.tier).toBe('gold');
    expect(gold.source).toBe('web');
    expect((await serde.deserialize(topics.ios!, ios[0]!.message.value!)).source).toBe('ios');
  }, 60_000);

  it('answers 503 and accepts nothing when Kafka is unreachable', async () => {
    const dead = new BatchProducer(['127.0.0.1:1'], schemaRegistryUrl(), `${prefix}-dead`);
    await expect(dead.connect()).rejects.toThrow();
    const deadApi = await buildApi({ readiness: ready, keys, ingest: { sink: dead, rawTopicOf, defaultSource: 'web' } });
    const res = await deadApi.inject({ method: 'POST', url: '/v2/events', headers: auth, payload: { mpid: '8000000000000000007', source_request_id: `${prefix}-dead` } });
    await deadApi.close();
    expect(res.statusCode).toBe(503);
    expect(res.json().error).toBe('PS_ERR_API_KAFKA_UNAVAILABLE');
    expect(res.headers['retry-after']).toBeDefined();
    expect(await readTopic(kafkaBrokers(), topics.web!, 3, 4_000)).toHaveLength(2);
  }, 60_000);
});
