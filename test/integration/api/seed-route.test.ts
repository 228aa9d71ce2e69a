import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyStore, hashSecret } from '../../../src/api/api-keys.ts';
import { buildApi } from '../../../src/api/build-app.ts';
import { BatchProducer } from '../../../src/app/adapters/batch-producer.ts';
import { SeedProducer } from '../../../src/app/adapters/seed-producer.ts';
import { StreamsProfileLookup } from '../../../src/app/adapters/streams-profile-lookup.ts';
import { StreamsService } from '../../../src/app/streams-service.ts';
import { ensureTopics } from '../../../src/app/kafka/topic-admin.ts';
import { planTopics } from '../../../src/app/topology/topic-plan.ts';
import { parseAudiencesConfig } from '../../../src/config/audiences-config.ts';
import { parseCalculatedAttributesConfig } from '../../../src/config/calculated-attributes-config.ts';
import type { Deployment } from '../../../src/config/deployment.ts';
import { readRuntimeEnv } from '../../../src/config/runtime-env.ts';
import { kafkaBrokers, schemaRegistryUrl, kafkaClientEnv } from '../../support/stack-env.ts';
import { eventually } from '../../support/eventually.ts';
import { testDeployment } from '../../support/test-deployment.ts';
import { readTopic } from '../../support/topic-reader.ts';
import { attrs, batch, customEvent } from '../../unit/profiles/support/batches.ts';

const DAY = 24 * 60 * 60 * 1000;
const auth = { authorization: `Basic ${Buffer.from('key-ws1-seed:secret-seed').toString('base64')}` };
const keys = new ApiKeyStore([{ key: 'key-ws1-seed', workspaces: ['1'], secretHash: hashSecret('secret-seed') }]);

describe('seeding calculated attributes over HTTP, through the seeding topic, into the running pipeline', () => {
  const base = testDeployment({ partitions: 3, sources: ['web'] }).deployment;
  const calculatedAttributes = parseCalculatedAttributesConfig('calculated_attributes:\n  - { name: spend, workspace: "1", calculation: sum, event: { name: purchase }, attribute: amount }\n', 'c.yaml');
  const deployment: Deployment = {
    ...base,
    calculatedAttributes,
    audiences: parseAudiencesConfig('audiences:\n  - { id: rich, name: Rich, workspace: "1", criteria: { calculated_attribute: spend, operator: greater_than, value: 1000 } }\n', 'a.yaml', { calculatedAttributes }),
  };
  const { app } = deployment;
  // Whole hours back, so every event is after the cutoff of yesterday's midnight and within broker retention.
  const now = Date.now();
  const cutoff = Math.floor(now / DAY) * DAY - DAY;
  let stateDir: string;
  let service: StreamsService;
  let api: FastifyInstance;
  let producer: BatchProducer;
  let seeds: SeedProducer;

  const get = async (mpid: string) => {
    const res = await api.inject({ url: `/userprofile/v1/1/1/1/${mpid}?fields=user_attributes,audience_memberships`, headers: auth });
    return res.statusCode === 200 ? (res.json() as { user_attributes: Record<string, string>; audience_memberships: Array<{ audience_id: string }> }) : undefined;
  };

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'ps-seeds-'));
    await ensureTopics(kafkaBrokers(), planTopics(deployment));
    service = new StreamsService({
      deployment,
      env: readRuntimeEnv({ STATE_DIR: stateDir, PROCESSING_GUARANTEE: 'exactly_once', ...kafkaClientEnv() }),
      brokers: kafkaBrokers(),
      schemaRegistryUrl: schemaRegistryUrl(),
      logger: pino({ level: 'warn' }),
      commitIntervalMs: 100,
    });
    seeds = new SeedProducer(kafkaBrokers(), app.seedsTopic);
    const lookup = new StreamsProfileLookup(service.app, app.rawTopics);
    api = await buildApi({ readiness: service, lookup, keys, seeds: { sink: seeds, calculatedAttributes } });
    producer = new BatchProducer(kafkaBrokers(), schemaRegistryUrl());
    await Promise.all([producer.connect(), seeds.connect(), service.start()]);
    await producer.send(app.rawTopics[0]!, [
      batch({ id: 'a-1', mpid: '601', workspace_id: '1', timestamp_unixtime_ms: now - 3 * DAY, events: [customEvent('purchase', now - 3 * DAY, attrs({ amount: 300 }))] }),
      batch({ id: 'a-2', mpid: '601', workspace_id: '1', timestamp_unixtime_ms: now - 60_000, events: [customEvent('purchase', now - 60_000, attrs({ amount: 20 }))] }),
      batch({ id: 'b-1', mpid: '602', workspace_id: '1', timestamp_unixtime_ms: now - 60_000, events: [customEvent('purchase', now - 60_000, attrs({ amount: 7 }))] }),
    ]);
    await eventually('both users merged', async () => ((await get('601'))?.user_attributes['spend'] === '320' && (await get('602'))?.user_attributes['spend'] === '7' ? true : undefined));
  }, 120_000);

  afterAll(async () => {
    await api?.close();
    await service?.close();
    await producer?.disconnect();
    await seeds?.disconnect();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('a 202 seed replaces the history before its cutoff, keeps later events, and moves the user into an audience', async () => {
    const res = await api.inject({
      method: 'POST', url: '/v1/calculated-attributes/seeds', headers: auth,
      payload: { workspace_id: '1', cutoff_ms: cutoff, seeds: [{ mpid: '601', name: 'spend', sum: 5000, count: 12 }, { mpid: '603', name: 'spend', sum: 2 }] },
    });
    expect(res.statusCode, res.body).toBe(202);
    // The 300 three days ago is before the cutoff (the seed stands for it); the 20 a minute ago counts on top.
    const seeded = await eventually('seed applied', async () => {
      const p = await get('601');
      return p?.user_attributes['spend'] === '5020' ? p : undefined;
    });
    expect(seeded.audience_memberships.map((m) => m.audience_id)).toEqual(['rich']);
    expect((await get('602'))?.user_attributes['spend']).toBe('7');
    // 603 has no profile yet: the seed waits for the first batch.
    await producer.send(app.rawTopics[0]!, [batch({ id: 'c-1', mpid: '603', workspace_id: '1', timestamp_unixtime_ms: now - 60_000, events: [customEvent('purchase', now - 60_000, attrs({ amount: 1 }))] })]);
    await eventually('603 seeded on first batch', async () => ((await get('603'))?.user_attributes['spend'] === '3' ? true : undefined));
  }, 60_000);

  it('a bad seed is refused by the route (nothing written), and one produced to the topic directly is dead-lettered with the reason', async () => {
    const refused = await api.inject({ method: 'POST', url: '/v1/calculated-attributes/seeds', headers: auth, payload: { workspace_id: '1', cutoff_ms: cutoff, seeds: [{ mpid: '602', name: 'spend', count: 3 }] } });
    expect([refused.statusCode, refused.json().error]).toEqual([400, 'PS_ERR_API_INVALID_SEED']);

    const kafka = new Kafka({ clientId: 'seed-test', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
    const raw = kafka.producer();
    await raw.connect();
    await raw.send({ topic: app.seedsTopic, acks: -1, messages: [{ key: '602', value: JSON.stringify({ mpid: '602', workspace_id: '1', name: 'spnd', cutoff_ms: cutoff, sum: 1 }) }] });
    await raw.disconnect();
    const [dead] = await readTopic(kafkaBrokers(), app.deadLetterTopic, 1, 30_000);
    expect(dead?.message.headers?.['x-error-code']?.toString()).toBe('PS_ERR_SEED_INVALID');
    expect(dead?.message.headers?.['x-error-message']?.toString()).toMatch(/no calculated attribute spnd in workspace 1/);
    expect(dead?.message.headers?.['x-source-topic']?.toString()).toBe(app.seedsTopic);
    // Neither touched 602.
    expect((await get('602'))?.user_attributes['spend']).toBe('7');
  }, 60_000);
});
