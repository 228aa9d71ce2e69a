import { describe, expect, it, vi } from 'vitest';
import { createAvroSerde, createSchemaRegistry } from '../../../src/schema/avro-serde.ts';
import type { Batch } from '../../../src/schema/batch.ts';
import type { SchemaLayerError } from '../../../src/schema/errors.ts';
import { fromJsonBatch } from '../../../src/schema/json-batch.ts';
import { SCHEMAS } from '../../../src/schema/schema-catalog.ts';
import { schemaRegistryUrl, uniqueName } from '../../support/stack-env.ts';

const batch = fromJsonBatch({
  mpid: '9223372036854775807',
  source_request_id: 'req-1',
  user_identities: { email: 'bob@example.com' },
  user_attributes: { ['__proto__']: 'kept', drink: 'Coke', tags: ['a', 'b'] },
  events: [{ event_type: 'custom_event', data: { event_name: 'Play', timestamp_unixtime_ms: 1_700_000_000_000 } }],
}, { workspaceId: 'ws1', source: 'ios' });

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as SchemaLayerError).code;
  }
  throw new Error('expected a rejection');
}

describe('avro serde against the real schema registry', () => {
  const registry = createSchemaRegistry(schemaRegistryUrl());
  const serde = createAvroSerde<Batch>({ registry, schema: SCHEMAS.batch });

  it('round-trips a batch in Confluent wire format and registers once per subject', async () => {
    const topic = uniqueName('serde-roundtrip');
    // Registration is a look-up then a register over plain HTTP (never the client's `register`, which
    // demands its own compatibility level); both happen for the first record only.
    const register = vi.spyOn(registry, 'register');
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    const subjectCalls = () => fetchSpy.mock.calls.filter(([url]) => String(url).includes(`/subjects/${topic}-value`)).map(([url, init]) => `${(init as RequestInit).method} ${String(url).replace(/^.*\/subjects\//, '/subjects/')}`);
    const first = await serde.serialize(topic, batch);
    const second = await serde.serialize(topic, batch);
    const calls = subjectCalls();
    fetchSpy.mockRestore();
    expect(calls).toEqual([`POST /subjects/${topic}-value`, `POST /subjects/${topic}-value/versions`]);
    expect(register).not.toHaveBeenCalled();
    expect(first[0]).toBe(0);
    expect(first.readUInt32BE(1)).toBe(second.readUInt32BE(1));

    const back = await serde.deserialize(topic, first);
    expect(back).toEqual(batch);
    expect(back.mpid).toBe('9223372036854775807');
    expect(back.user_attributes['__proto__']).toBe('kept');

    // Warm: decoding a known schema id needs no registry round trip.
    const getSchema = vi.spyOn(registry, 'getSchema');
    expect(serde.deserializeSync(topic, second)).toEqual(batch);
    expect(getSchema).not.toHaveBeenCalled();
  });

  it('prepare registers the subject ahead, so the first serialize makes no registry call', async () => {
    const topic = uniqueName('serde-prepare');
    await serde.prepare(topic);
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    const first = await serde.serialize(topic, batch);
    const calls = fetchSpy.mock.calls.length;
    fetchSpy.mockRestore();
    expect(calls).toBe(0);
    expect(await serde.deserialize(topic, first)).toEqual(batch);
  });

  it('decodes with a fresh serde (cold cache) by fetching the writer schema by id', async () => {
    const topic = uniqueName('serde-cold');
    const buf = await serde.serialize(topic, batch);
    const cold = createAvroSerde<Batch>({ registry: createSchemaRegistry(schemaRegistryUrl()), schema: SCHEMAS.batch });
    expect(cold.deserializeSync(topic, buf)).toBeUndefined();
    expect(await cold.deserialize(topic, buf)).toEqual(batch);
  });

  it('tells a bad magic byte, an unknown schema id, a truncated payload and another schema apart', async () => {
    const topic = uniqueName('serde-corrupt');
    const good = await serde.serialize(topic, batch);

    const badMagic = Buffer.from(good);
    badMagic[0] = 0x7b; // '{': somebody produced JSON
    expect(await codeOf(serde.deserialize(topic, badMagic))).toBe('PS_ERR_SERDE_BAD_MAGIC_BYTE');
    expect(await codeOf(serde.deserialize(topic, Buffer.alloc(0)))).toBe('PS_ERR_SERDE_BAD_MAGIC_BYTE');

    const unknownId = Buffer.from(good);
    unknownId.writeUInt32BE(2_000_000_000, 1);
    expect(await codeOf(serde.deserialize(topic, unknownId))).toBe('PS_ERR_SERDE_UNKNOWN_SCHEMA_ID');

    expect(await codeOf(serde.deserialize(topic, good.subarray(0, good.length - 10)))).toBe('PS_ERR_SERDE_INVALID_PAYLOAD');
    expect(await codeOf(serde.deserialize(topic, good.subarray(0, 3)))).toBe('PS_ERR_SERDE_INVALID_PAYLOAD');

    const otherTopic = uniqueName('serde-other');
    const audienceSerde = createAvroSerde({ registry, schema: SCHEMAS['audience-membership-change'] });
    const audienceRecord = await audienceSerde.serialize(otherTopic, {
      mpid: '1', workspace_id: null, user_identities: [], device_identities: [], timestamp_ms: 1,
      audiences: [{ audience_id: 'a', audience_name: null, action: 'add' }],
    });
    expect(await codeOf(serde.deserialize(topic, audienceRecord))).toBe('PS_ERR_SERDE_INCOMPATIBLE_SCHEMA');
  });

  it('rejects a value that does not match the schema, naming the field', async () => {
    const topic = uniqueName('serde-invalid');
    const bad = { ...batch, environment: 'staging' } as unknown as Batch;
    await expect(serde.serialize(topic, bad)).rejects.toMatchObject({ code: 'PS_ERR_SERDE_INVALID_VALUE', paths: ['$.environment'] });
  });

  it('reads records written before a field was added, once the evolved schema is registered (BACKWARD)', async () => {
    const topic = uniqueName('serde-evolve');
    const old = await serde.serialize(topic, batch);
    const evolvedSchema = { ...SCHEMAS.batch, fields: [...SCHEMAS.batch.fields, { name: 'country', type: ['null', 'string'], default: null, doc: 'added later' }] };
    const evolved = createAvroSerde<Batch & { country: string | null }>({ registry, schema: evolvedSchema });
    const fresh = await evolved.serialize(topic, { ...batch, country: 'DE' });
    expect(fresh.readUInt32BE(1)).not.toBe(old.readUInt32BE(1));
    expect(await evolved.deserialize(topic, old)).toEqual({ ...batch, country: null });
    expect((await evolved.deserialize(topic, fresh)).country).toBe('DE');
  });
});
