import { afterAll, describe, expect, it } from 'vitest';
import { createAvroSerde, createSchemaRegistry } from '../../../src/schema/avro-serde.ts';
import type { Batch } from '../../../src/schema/batch.ts';
import { SchemaRejectedError } from '../../../src/schema/errors.ts';
import { SCHEMAS } from '../../../src/schema/schema-catalog.ts';
import { compatibilityOf, deleteSubject, OTHER_SCHEMA, registerAsAnotherClient, registerOnlyAsAnotherClient, versionsOf } from '../../support/foreign-registry-client.ts';
import { schemaRegistryUrl, uniqueName } from '../../support/stack-env.ts';

const batch = {
  source_request_id: 'r1', mpid: '1', environment: 'production', timestamp_unixtime_ms: 1, ip: null, workspace_id: '1', source: 'web',
  events: [], user_identities: Object.create(null), user_attributes: Object.create(null), deleted_user_attributes: [], device_info: null,
  application_info: null, consent_state: null,
} as unknown as Batch;

describe('subjects another client registered first', () => {
  const created: string[] = [];
  const topic = (label: string) => {
    const t = uniqueName(`it-foreign-${label}`);
    created.push(`${t}-value`);
    return t;
  };
  const serde = () => createAvroSerde<Batch>({ registry: createSchemaRegistry(schemaRegistryUrl()), schema: SCHEMAS.batch });
  afterAll(async () => {
    for (const s of created) await deleteSubject(s);
  });

  it.each(['NONE', 'BACKWARD', 'FORWARD', 'FULL', 'FULL_TRANSITIVE'])('writes with the id the other client got, under compatibility %s, and leaves the level alone', async (level) => {
    const t = topic(level.toLowerCase());
    const id = await registerAsAnotherClient(`${t}-value`, SCHEMAS.batch, level);
    const bytes = await serde().serialize(t, batch);
    expect(bytes.readUInt32BE(1)).toBe(id);
    expect(await compatibilityOf(`${t}-value`)).toBe(level);
    expect(await versionsOf(`${t}-value`)).toEqual([1]);
  });

  it('adds its schema as a new version of a subject holding an older compatible one, without changing the level', async () => {
    const t = topic('older');
    // An older batch schema: without consent_state, which ours adds with a default (a BACKWARD-compatible change).
    const older = { ...SCHEMAS.batch, fields: (SCHEMAS.batch as { fields: Array<{ name: string }> }).fields.filter((f) => f.name !== 'consent_state') };
    const olderId = await registerAsAnotherClient(`${t}-value`, older, 'BACKWARD');
    const bytes = await serde().serialize(t, batch);
    expect(bytes.readUInt32BE(1)).not.toBe(olderId);
    expect(await versionsOf(`${t}-value`)).toEqual([1, 2]);
    expect(await compatibilityOf(`${t}-value`)).toBe('BACKWARD');
  });

  it('names the subject and its level when the registry refuses the schema as incompatible, and does not call it retriable', async () => {
    const t = topic('backward-other');
    await registerAsAnotherClient(`${t}-value`, OTHER_SCHEMA, 'BACKWARD');
    const error = await serde().serialize(t, batch).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaRejectedError);
    expect((error as SchemaRejectedError).code).toBe('PS_ERR_SCHEMA_REJECTED');
    expect((error as SchemaRejectedError).retriable).toBe(false);
    expect((error as SchemaRejectedError).compatibility).toBe('BACKWARD');
    expect((error as SchemaRejectedError).subject).toBe(`${t}-value`);
    expect(await versionsOf(`${t}-value`)).toEqual([1]);
  });

  it('registers a subject nobody has yet without setting a compatibility level of its own', async () => {
    const t = topic('fresh');
    const bytes = await serde().serialize(t, batch);
    expect(bytes.readUInt32BE(1)).toBeGreaterThan(0);
    expect(await versionsOf(`${t}-value`)).toEqual([1]);
    // The subject reports what a subject nobody configured reports (registries differ in what that is:
    // Apicurio says NONE, Confluent has no entry), not a level profile-stream chose for it.
    const control = topic('untouched');
    await registerOnlyAsAnotherClient(`${control}-value`, SCHEMAS.batch);
    expect(await compatibilityOf(`${t}-value`)).toBe(await compatibilityOf(`${control}-value`));
  });
});
