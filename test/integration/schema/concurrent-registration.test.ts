import { describe, expect, it } from 'vitest';
import { createAvroSerde, createSchemaRegistry } from '../../../src/schema/avro-serde.ts';
import { SCHEMAS } from '../../../src/schema/schema-catalog.ts';
import type { EnrichedBatch } from '../../../src/schema/enriched-batch.ts';
import { schemaRegistryUrl, uniqueName } from '../../support/stack-env.ts';

describe('instances starting together', () => {
  it('register the same new subject at once and all get the same schema id', async () => {
    for (let round = 0; round < 10; round++) {
      const topic = uniqueName('concurrent');
      // Separate clients, as separate instances would have: nothing shared but the registry.
      const serdes = Array.from({ length: 8 }, () => createAvroSerde<EnrichedBatch>({ registry: createSchemaRegistry(schemaRegistryUrl()), schema: SCHEMAS['enriched-batch'] }));
      // Any record triggers registration; the schema id is in bytes 1-4 of the framed result.
      const ids = await Promise.all(serdes.map(async (serde) => (await serde.serialize(topic, sampleEnriched())).readUInt32BE(1)));
      expect(new Set(ids).size).toBe(1);
    }
  });
});

function sampleEnriched(): EnrichedBatch {
  return {
    batch: {
      source_request_id: 'r', mpid: '1', environment: 'production', timestamp_unixtime_ms: 1, ip: null, workspace_id: '1', source: 'web',
      events: [], user_identities: Object.create(null), user_attributes: Object.create(null), deleted_user_attributes: [], device_info: null,
      application_info: null, consent_state: null,
    },
    integration: 'x',
    processed_timestamp_ms: 1,
    profile: {
      mpid: '1', created_timestamp_ms: 1, last_seen_timestamp_ms: 1, is_opted_out: false, limit_ad_tracking: false,
      user_attributes: Object.create(null), user_identities: Object.create(null), consent_state: { gdpr: Object.create(null), ccpa: { data_sale_opt_out: null } },
      device_info: null, audience_memberships: [], calculated_attributes: Object.create(null),
    },
  } as unknown as EnrichedBatch;
}
