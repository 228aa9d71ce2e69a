import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createService } from '../../../src/app/create-service.ts';
import type { Service } from '../../../src/app/service.ts';
import { ensureTopics } from '../../../src/app/kafka/topic-admin.ts';
import { planTopics } from '../../../src/app/topology/topic-plan.ts';
import { readRuntimeEnv } from '../../../src/config/runtime-env.ts';
import { sampleBatches } from '../../../src/generator/sample-batches.ts';
import { createAvroSerde, createSchemaRegistry } from '../../../src/schema/avro-serde.ts';
import type { Batch } from '../../../src/schema/batch.ts';
import { SCHEMAS } from '../../../src/schema/schema-catalog.ts';
import { deleteSubject, OTHER_SCHEMA, registerAsAnotherClient } from '../../support/foreign-registry-client.ts';
import { kafkaBrokers, recentStartTimeMs, schemaRegistryUrl, uniqueName } from '../../support/stack-env.ts';
import { testDeployment } from '../../support/test-deployment.ts';
import { readTopic } from '../../support/topic-reader.ts';

/** One hostile record: what to send, where, and the dead-letter code it must come back with. */
interface Case {
  readonly name: string;
  readonly topic: string;
  readonly key: string | null;
  readonly value: Buffer | null;
  readonly code: string;
}

/** Zig-zag varint, as Avro writes ints and longs (the oracle for a hand-made Avro record). */
function avroLong(n: number): Buffer {
  let z = BigInt(n) >= 0n ? BigInt(n) << 1n : (-BigInt(n) << 1n) - 1n;
  const out: number[] = [];
  do {
    let b = Number(z & 0x7fn);
    z >>= 7n;
    if (z > 0n) b |= 0x80;
    out.push(b);
  } while (z > 0n);
  return Buffer.from(out);
}

function framed(id: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(id, 1);
  return Buffer.concat([header, payload]);
}

const attributes = (entries: Array<[string, unknown]>) => Object.assign(Object.create(null) as Record<string, unknown>, Object.fromEntries(entries));

describe('a corpus of hostile raw and DSR records among good ones', () => {
  const { deployment } = testDeployment({ sources: ['web'], partitions: 1 });
  const rawTopic = deployment.app.rawTopics[0]!;
  const dsrTopic = deployment.app.dsrTopic;
  const allTopic = deployment.integrations.find((i) => i.name === 'all')!.outputTopic;
  const otherSubject = `${uniqueName('it-corpus-other')}-value`;
  const good: Batch[] = [...sampleBatches({ seed: 1515, users: 8, batches: 24, sources: ['web'], startTimeMs: recentStartTimeMs(24), workspaceId: '1' })];
  const cases: Case[] = [];
  /** source offset on its topic -> the case sent there */
  const sentAt = new Map<string, Case>();
  let service: Service;
  let stateDir: string;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'ps-corpus-'));
    await ensureTopics(kafkaBrokers(), planTopics(deployment));
    const serde = createAvroSerde<Batch>({ registry: createSchemaRegistry(schemaRegistryUrl()), schema: SCHEMAS.batch });
    const goodFramed = await Promise.all(good.map((b) => serde.serialize(rawTopic, b)));
    const sample = goodFramed[0]!;
    const id = sample.readUInt32BE(1);
    const raw = (name: string, value: Buffer | null, code: string, key: string | null = good[0]!.mpid) => cases.push({ name, topic: rawTopic, key, value, code });

    // Wire format: not starting with the magic byte 0x00.
    for (const first of [0x01, 0x02, 0x0f, 0x7b, 0x80, 0xfe, 0xff]) raw(`magic byte 0x${first.toString(16)}`, Buffer.concat([Buffer.from([first]), sample.subarray(1)]), 'PS_ERR_SERDE_BAD_MAGIC_BYTE');
    raw('JSON instead of Avro', Buffer.from(JSON.stringify({ mpid: good[0]!.mpid })), 'PS_ERR_SERDE_BAD_MAGIC_BYTE');
    raw('empty value', Buffer.alloc(0), 'PS_ERR_SERDE_BAD_MAGIC_BYTE');
    // Shorter than the 5-byte header.
    for (let n = 1; n <= 4; n++) raw(`${n}-byte header`, Buffer.alloc(n), 'PS_ERR_SERDE_INVALID_PAYLOAD');
    // Schema ids the registry never issued.
    for (const unknown of [0x7ffffff0, 0x7ffffff1, 0x7fffffff, 0xfffffffe]) raw(`unknown schema id ${unknown}`, framed(unknown, sample.subarray(5)), 'PS_ERR_SERDE_UNKNOWN_SCHEMA_ID');
    // Truncated Avro: every cut of the payload at a string/field boundary or inside one.
    const payloadLength = sample.length - 5;
    for (let i = 1; i <= 16; i++) {
      const cut = 5 + Math.floor((payloadLength * i) / 17);
      raw(`truncated to ${cut} of ${sample.length} bytes`, sample.subarray(0, cut), 'PS_ERR_SERDE_INVALID_PAYLOAD');
    }
    raw('header only', sample.subarray(0, 5), 'PS_ERR_SERDE_INVALID_PAYLOAD');
    // Trailing bytes after a complete record: avsc refuses what it did not consume.
    for (const extra of [[0x00], [0x02, 0x61], [0xff, 0xff, 0xff], Array.from({ length: 64 }, () => 0x41)]) raw(`${extra.length} trailing byte(s)`, Buffer.concat([sample, Buffer.from(extra)]), 'PS_ERR_SERDE_INVALID_PAYLOAD');
    // Corrupt lengths: the first field (source_request_id, a union) with an absurd branch or string length.
    raw('union branch 99', framed(id, Buffer.concat([avroLong(99), sample.subarray(6)])), 'PS_ERR_SERDE_INVALID_PAYLOAD');
    raw('negative string length', framed(id, Buffer.concat([avroLong(1), avroLong(-5), Buffer.from('abc')])), 'PS_ERR_SERDE_INVALID_PAYLOAD');
    raw('string length beyond the record', framed(id, Buffer.concat([avroLong(1), avroLong(1_000_000), Buffer.from('abc')])), 'PS_ERR_SERDE_INVALID_PAYLOAD');
    // Written with another schema the reader cannot resolve to a batch.
    const otherId = await registerAsAnotherClient(otherSubject, OTHER_SCHEMA, 'NONE');
    for (const x of [0, 1, -1, 2 ** 30]) raw(`a record of another schema (x=${x})`, framed(otherId, avroLong(x)), 'PS_ERR_SERDE_INCOMPATIBLE_SCHEMA');
    // Keyed by one MPID, carrying another: it would reach the wrong user's profile.
    for (const [i, wrongKey] of ['1', '-1', '9223372036854775807'].entries()) raw(`keyed ${wrongKey}, mpid ${good[i]!.mpid}`, goodFramed[i]!, 'PS_ERR_PROFILE_MPID_MISMATCH', wrongKey);
    // Valid Avro over mParticle's limits (only JSON ingestion checks them before Kafka; a Kafka producer need not).
    const over = (name: string, user_attributes: Record<string, unknown>) => ({ name, batch: { ...good[1]!, source_request_id: uniqueName('over'), user_attributes } as Batch });
    for (const { name, batch } of [
      over('101 attributes', attributes(Array.from({ length: 101 }, (_, i) => [`a${i}`, 'x']))),
      over('a 4,097-character value', attributes([['long', 'x'.repeat(4097)]])),
      over('a 1,001-entry list', attributes([['list', Array.from({ length: 1001 }, (_, i) => `v${i}`)]])),
      over('a list entry of 4,097 characters', attributes([['list', ['ok', 'y'.repeat(4097)]]])),
    ]) raw(name, await serde.serialize(rawTopic, batch), 'PS_ERR_PROFILE_LIMIT_EXCEEDED', batch.mpid);

    // DSR topic: anything that is not a request or completion event.
    const dsr = (name: string, value: unknown, code = 'PS_ERR_DSR_INVALID') => cases.push({ name: `DSR ${name}`, topic: dsrTopic, key: uniqueName('dsr'), value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)), code });
    const request = { kind: 'requested', request_id: 'r-1', workspace_id: '1', requested_ms: 1, target: { mpid: '1' } };
    dsr('not JSON', '{"kind": "requested",', 'PS_ERR_DESERIALIZATION');
    dsr('a JSON string', '"erase everyone"');
    dsr('an array', [request]);
    dsr('no kind', { ...request, kind: undefined });
    dsr('unknown kind', { ...request, kind: 'erase_all' });
    dsr('no request id', { ...request, request_id: undefined });
    dsr('no workspace', { ...request, workspace_id: '' });
    dsr('no target', { ...request, target: undefined });
    dsr('two targets', { ...request, target: { mpid: '1', identity: { type: 'email', value: 'a@b' } } });
    dsr('an MPID beyond 64 bits', { ...request, target: { mpid: '18446744073709551616' } });
    dsr('an identity without a value', { ...request, target: { identity: { type: 'email' } } });
    dsr('a __proto__ target', JSON.parse('{"kind":"requested","request_id":"r-2","workspace_id":"1","requested_ms":1,"target":{"__proto__":{"mpid":"1"}}}'));
    dsr('a completion without a result', { kind: 'completed', request_id: 'r-3', workspace_id: '1', completed_ms: 1 });

    const producer: Producer = new Kafka({ brokers: kafkaBrokers(), logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    // Interleaved on one partition: every bad record sits between good ones.
    const send = async (c: Case) => {
      const [meta] = await producer.send({ topic: c.topic, messages: [{ key: c.key, value: c.value, partition: 0 }] });
      sentAt.set(`${c.topic}@${meta!.baseOffset}`, c);
    };
    for (let i = 0; i < Math.max(good.length, cases.length); i++) {
      if (i < good.length) await producer.send({ topic: rawTopic, messages: [{ key: good[i]!.mpid, value: goodFramed[i]!, partition: 0 }] });
      if (i < cases.length) await send(cases[i]!);
    }
    await producer.disconnect();

    const env = readRuntimeEnv({ STATE_DIR: stateDir, PROCESSING_GUARANTEE: 'at_least_once' });
    service = createService({ deployment, env, brokers: kafkaBrokers(), schemaRegistryUrl: schemaRegistryUrl(), logger: pino({ level: 'error' }) });
    await service.start();
  }, 120_000);

  afterAll(async () => {
    await service?.close();
    await rm(stateDir, { recursive: true, force: true });
    await deleteSubject(otherSubject);
  });

  it('has a case for every kind of damage', () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
  });

  it('dead-letters every hostile record with its own code and reason, and processes every good batch around them', async () => {
    const dead = await readTopic(kafkaBrokers(), deployment.app.deadLetterTopic, cases.length + 1, 60_000);
    const seen = dead.map((d) => {
      const h = d.message.headers ?? {};
      const at = `${h['x-source-topic']?.toString()}@${h['x-source-offset']?.toString()}`;
      return { at, code: h['x-error-code']?.toString(), reason: h['x-error-message']?.toString() ?? '' };
    });
    const got = seen.map((s) => `${sentAt.get(s.at)?.name ?? `unexpected ${s.at}`}: ${s.code}`).sort();
    const expected = cases.map((c) => `${c.name}: ${c.code}`).sort();
    expect(got).toEqual(expected);
    for (const s of seen) expect(s.reason.length, s.at).toBeGreaterThan(10);

    const enriched = await readTopic(kafkaBrokers(), allTopic, good.length + 1, 15_000);
    const registry = createSchemaRegistry(schemaRegistryUrl());
    const ids = await Promise.all(enriched.map(async (r) => ((await registry.decode(r.message.value!)) as { batch: Batch }).batch.source_request_id));
    expect(ids.sort()).toEqual(good.map((b) => b.source_request_id).sort());
    expect(service.readiness().ready).toBe(true);
  }, 120_000);
});
