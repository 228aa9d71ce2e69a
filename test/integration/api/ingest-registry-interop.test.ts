import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyStore, hashSecret } from '../../../src/api/api-keys.ts';
import { buildApi } from '../../../src/api/build-app.ts';
import { BatchProducer } from '../../../src/app/adapters/batch-producer.ts';
import { ensureTopics } from '../../../src/app/kafka/topic-admin.ts';
import { SCHEMAS } from '../../../src/schema/schema-catalog.ts';
import { deleteSubject, OTHER_SCHEMA, registerAsAnotherClient } from '../../support/foreign-registry-client.ts';
import { kafkaBrokers, schemaRegistryUrl, uniqueName } from '../../support/stack-env.ts';
import { readTopic } from '../../support/topic-reader.ts';

const auth = { authorization: `Basic ${Buffer.from('key-ws8-0001:secret-eight').toString('base64')}` };
const keys = new ApiKeyStore([{ key: 'key-ws8-0001', workspaces: ['ws8'], secretHash: hashSecret('secret-eight') }]);
const ready = { readiness: () => ({ ready: true, detail: {} }) };

describe('POST /v2/events when another client registered the raw subject first', () => {
  const prefix = uniqueName('it-interop');
  const topics: Record<string, string> = { web: `${prefix}.raw.web`, ios: `${prefix}.raw.ios` };
  let producer: BatchProducer;
  let api: FastifyInstance;

  beforeAll(async () => {
    await ensureTopics(kafkaBrokers(), Object.values(topics).map((topic) => ({ topic, partitions: 1, purpose: 'test raw batches', config: {} })));
    // web: the same schema, under a level profile-stream's old client refused (NONE != BACKWARD).
    await registerAsAnotherClient(`${topics.web}-value`, SCHEMAS.batch, 'NONE');
    // ios: a schema ours cannot follow under BACKWARD: a refusal the client must see as the registry's.
    await registerAsAnotherClient(`${topics.ios}-value`, OTHER_SCHEMA, 'BACKWARD');
    producer = new BatchProducer(kafkaBrokers(), schemaRegistryUrl(), `${prefix}-http`);
    await producer.connect();
    api = await buildApi({ readiness: ready, keys, ingest: { sink: producer, rawTopicOf: (s) => topics[s], defaultSource: 'web' } });
  }, 60_000);

  afterAll(async () => {
    await api?.close();
    await producer?.disconnect();
    for (const t of Object.values(topics)) await deleteSubject(`${t}-value`);
  });

  it('accepts the batch and it is on the raw topic', async () => {
    const res = await api.inject({ method: 'POST', url: '/v2/events', headers: auth, payload: { mpid: '8000000000000000011', source_request_id: `${prefix}-web` } });
    expect(res.statusCode, res.body).toBe(202);
    const records = await readTopic(kafkaBrokers(), topics.web!, 1, 15_000);
    expect(records.map((r) => r.message.key!.toString())).toEqual(['8000000000000000011']);
  }, 30_000);

  it('answers 502 PS_ERR_API_SCHEMA_REJECTED, naming the subject, when the registry refuses the schema; Kafka is not blamed', async () => {
    const res = await api.inject({ method: 'POST', url: '/v2/events', headers: auth, payload: { mpid: '8000000000000000012', source: 'ios' } });
    expect(res.statusCode).toBe(502);
    expect(res.json().error).toBe('PS_ERR_API_SCHEMA_REJECTED');
    expect(res.json().subject).toBe(`${topics.ios}-value`);
    expect(res.json().message).toMatch(/BACKWARD/);
    expect(res.headers['retry-after']).toBeUndefined();
  }, 30_000);

  it('answers 503 PS_ERR_API_SCHEMA_REGISTRY_UNAVAILABLE when the registry cannot be reached', async () => {
    const noRegistry = new BatchProducer(kafkaBrokers(), 'http://127.0.0.1:1/apis/ccompat/v7', `${prefix}-noreg`);
    await noRegistry.connect();
    const app = await buildApi({ readiness: ready, keys, ingest: { sink: noRegistry, rawTopicOf: (s) => topics[s], defaultSource: 'web' } });
    const res = await app.inject({ method: 'POST', url: '/v2/events', headers: auth, payload: { mpid: '8000000000000000013' } });
    await app.close();
    await noRegistry.disconnect();
    expect(res.statusCode).toBe(503);
    expect(res.json().error).toBe('PS_ERR_API_SCHEMA_REGISTRY_UNAVAILABLE');
    expect(res.headers['retry-after']).toBe('5');
  }, 30_000);
});
