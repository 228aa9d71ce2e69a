import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchProducer } from '../../../src/app/adapters/batch-producer.ts';
import { createService } from '../../../src/app/create-service.ts';
import type { Service } from '../../../src/app/service.ts';
import { ensureTopics } from '../../../src/app/kafka/topic-admin.ts';
import { planTopics } from '../../../src/app/topology/topic-plan.ts';
import { readRuntimeEnv } from '../../../src/config/runtime-env.ts';
import { sampleBatches } from '../../../src/generator/sample-batches.ts';
import { createAvroSerde, createSchemaRegistry } from '../../../src/schema/avro-serde.ts';
import type { Batch } from '../../../src/schema/batch.ts';
import { SCHEMAS } from '../../../src/schema/schema-catalog.ts';
import { kafkaBrokers, recentStartTimeMs, schemaRegistryUrl, kafkaClientEnv } from '../../support/stack-env.ts';
import { testDeployment } from '../../support/test-deployment.ts';
import { readTopic } from '../../support/topic-reader.ts';

describe('corrupt raw messages among good ones', () => {
  const { deployment } = testDeployment({ sources: ['web'] });
  const rawTopic = deployment.app.rawTopics[0]!;
  const allTopic = deployment.integrations.find((i) => i.name === 'all')!.outputTopic;
  let service: Service;
  let stateDir: string;
  const good: Batch[] = [...sampleBatches({ seed: 42, users: 5, batches: 6, sources: ['web'], startTimeMs: recentStartTimeMs(6), workspaceId: '1' })];

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'ps-dlq-'));
    await ensureTopics(kafkaBrokers(), planTopics(deployment));
    const env = readRuntimeEnv({ STATE_DIR: stateDir, PROCESSING_GUARANTEE: 'at_least_once', ...kafkaClientEnv() });
    service = createService({ deployment, env, brokers: kafkaBrokers(), schemaRegistryUrl: schemaRegistryUrl(), logger: pino({ level: 'warn' }) });
    await service.start();

    // A real framed record, to cut short and to re-frame with an id the registry never issued.
    const serde = createAvroSerde<Batch>({ registry: createSchemaRegistry(schemaRegistryUrl()), schema: SCHEMAS.batch });
    const framed = await serde.serialize(rawTopic, good[0]!);
    const badMagic = Buffer.concat([Buffer.from([0x01]), framed.subarray(1)]);
    const unknownId = Buffer.concat([Buffer.from([0x00, 0x7f, 0xff, 0xff, 0xf0]), framed.subarray(5)]);
    const truncated = framed.subarray(0, Math.floor(framed.length / 2));

    const producer = new BatchProducer(kafkaBrokers(), schemaRegistryUrl());
    await producer.connect();
    const raw = new Kafka({ brokers: kafkaBrokers(), logLevel: logLevel.NOTHING }).producer();
    await raw.connect();
    // Interleaved, each to partition 0, so the bad ones sit between good ones in one partition.
    const corrupt = [badMagic, unknownId, truncated];
    for (let i = 0; i < good.length; i++) {
      await producer.send(rawTopic, [good[i]!]);
      if (i < corrupt.length) await raw.send({ topic: rawTopic, messages: [{ key: good[i]!.mpid, value: corrupt[i]!, partition: 0 }] });
    }
    await raw.disconnect();
    await producer.disconnect();
  });

  afterAll(async () => {
    await service?.close();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('forwards every good batch and dead-letters each corrupt one with its reason', async () => {
    const enriched = await readTopic(kafkaBrokers(), allTopic, good.length);
    expect(enriched).toHaveLength(good.length);
    const registry = createSchemaRegistry(schemaRegistryUrl());
    const ids = await Promise.all(enriched.map(async (r) => ((await registry.decode(r.message.value!)) as { batch: Batch }).batch.source_request_id));
    expect(ids.sort()).toEqual(good.map((b) => b.source_request_id).sort());

    const dead = await readTopic(kafkaBrokers(), deployment.app.deadLetterTopic, 3);
    expect(dead).toHaveLength(3);
    const codes = dead.map((d) => d.message.headers?.['x-error-code']?.toString()).sort();
    expect(codes).toEqual(['PS_ERR_SERDE_BAD_MAGIC_BYTE', 'PS_ERR_SERDE_INVALID_PAYLOAD', 'PS_ERR_SERDE_UNKNOWN_SCHEMA_ID']);
    for (const d of dead) {
      expect(d.message.headers?.['x-source-topic']?.toString()).toBe(rawTopic);
      expect(d.message.headers?.['x-error-message']?.toString().length).toBeGreaterThan(10);
    }
  });
});
