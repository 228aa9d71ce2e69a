import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IDENTITY_INDEX_STORE, type IdentityOwner } from '../../../src/app/topology/identity-index-processor.ts';
import { HISTORY_STORE } from '../../../src/app/topology/history-store.ts';
import { PROFILES_STORE } from '../../../src/app/topology/profile-node-names.ts';
import { buildProfileTopology } from '../../../src/app/topology/profile-topology.ts';
import { parseAppConfig } from '../../../src/config/app-config.ts';
import { parseIntegrationsConfig } from '../../../src/config/integrations-config.ts';
import { avroTypeFor } from '../../../src/schema/avro-type.ts';
import type { Batch } from '../../../src/schema/batch.ts';
import type { EnrichedBatch } from '../../../src/schema/enriched-batch.ts';
import type { HistoryRecord } from '../../../src/schema/history-record.ts';
import type { ProfileState } from '../../../src/schema/profile-state.ts';
import { SCHEMAS } from '../../../src/schema/schema-catalog.ts';
import { TopologyTestDriver, stringSerde, type Serde, type TestInputTopic } from '../../../src/streams/index.ts';
import { attrs, attributeChange, batch, customEvent, identities } from '../profiles/support/batches.ts';

/** The registry serde's bytes minus the 5-byte header: the same Avro, no registry needed in memory. */
function plainAvro<T>(schema: object): Serde<T> {
  const type = avroTypeFor(schema);
  return { serialize: (_t, v) => type.toBuffer(v), deserialize: (_t, b) => type.fromBuffer(b) as T };
}

const DAY = 24 * 60 * 60 * 1000;
const T0 = 1_780_000_000_000;

describe('the profile topology in the test driver', () => {
  const app = parseAppConfig('application_id: shop\nsources: [web, ios]\n', 'app.yaml');
  const { integrations } = parseIntegrationsConfig(
    'integrations:\n  - name: all\n    forward_profile_only_batches: true\n  - name: drinks\n    filters:\n      user_attributes:\n        mode: allow\n        list: [favourite_drink]\n',
    { file: 'integrations.yaml', applicationId: 'shop' },
  );
  const serdes = {
    batch: plainAvro<Batch>(SCHEMAS.batch),
    enriched: plainAvro<EnrichedBatch>(SCHEMAS['enriched-batch']),
    history: plainAvro<HistoryRecord>(SCHEMAS['history-record']),
  };
  let driver: TopologyTestDriver;
  let web: TestInputTopic<string, Batch>;
  let ios: TestInputTopic<string, Batch>;

  beforeEach(() => {
    driver = new TopologyTestDriver(buildProfileTopology({ app, integrations }, serdes, pino({ level: 'silent' })), { applicationId: 'shop', deadLetterTopic: 'shop.dlq' });
    web = driver.createInputTopic('shop.raw.web', stringSerde, serdes.batch);
    ios = driver.createInputTopic('shop.raw.ios', stringSerde, serdes.batch);
  });
  afterEach(async () => {
    await driver.close();
  });

  const beer = batch({ id: 'web-1', source: 'web', timestamp_unixtime_ms: T0, user_attributes: attrs({ favourite_drink: 'Beer', tier: 'gold' }) });
  const coke = batch({ id: 'ios-1', source: 'ios', timestamp_unixtime_ms: T0 + DAY, user_attributes: attrs({ favourite_drink: 'Coke' }) });

  for (const [order, first, second] of [
    ['web then iOS', 'web', 'ios'],
    ['iOS then web (late batch)', 'ios', 'web'],
  ] as const) {
    it(`Bob's favourite drink is Coke when batches arrive ${order}`, async () => {
      const topics = { web: [web, beer], ios: [ios, coke] } as const;
      for (const source of [first, second]) {
        const [topic, value] = topics[source];
        await topic.pipeInput('42', value, value.timestamp_unixtime_ms!);
      }
      const profile = await driver.getKeyValueStore<string, ProfileState>(PROFILES_STORE).get('42');
      expect(profile?.workspaces.ws1?.user_attributes.favourite_drink?.value).toBe('Coke');
      const out = await driver.createOutputTopic('shop.enriched.all', stringSerde, serdes.enriched).readValues();
      expect(out).toHaveLength(2);
      // Every enriched batch carries the whole profile: the second one has both drinks' winner and the tier.
      expect(out[1]!.profile.user_attributes.favourite_drink?.value).toBe('Coke');
      expect(out[1]!.profile.user_attributes.tier?.value).toBe('gold');
    });
  }

  it('filters profile attributes per integration and skips profile-only batches for integrations that do not take them', async () => {
    await web.pipeInput('42', beer, T0);
    const withEvent = batch({ id: 'web-2', timestamp_unixtime_ms: T0 + 1000, events: [customEvent('purchase', T0 + 1000)] });
    await web.pipeInput('42', withEvent, T0 + 1000);
    const drinks = await driver.createOutputTopic('shop.enriched.drinks', stringSerde, serdes.enriched).readValues();
    // The first batch has no events: "drinks" does not take profile-only batches.
    expect(drinks).toHaveLength(1);
    expect(Object.keys(drinks[0]!.profile.user_attributes)).toEqual(['favourite_drink']);
    expect(drinks[0]!.batch.source_request_id).toBe('web-2');
  });

  it('a replayed batch changes nothing and emits nothing', async () => {
    await web.pipeInput('42', beer, T0);
    await web.pipeInput('42', beer, T0);
    expect(await driver.createOutputTopic('shop.enriched.all', stringSerde, serdes.enriched).readValues()).toHaveLength(1);
    expect(await driver.createOutputTopic('shop.history', stringSerde, serdes.history).readValues()).toHaveLength(1);
  });

  it('writes each history record once: to the history topic, which is the history store\'s changelog', async () => {
    await web.pipeInput('42', beer, T0);
    await web.pipeInput('42', coke, T0 + DAY);
    const topic = await driver.createOutputTopic('shop.history', stringSerde, serdes.history).readKeyValues();
    expect(topic.map((r) => r.value!.batch.source_request_id)).toEqual(['web-1', 'ios-1']);
    const stored = driver.getKeyValueStore<string, HistoryRecord>(HISTORY_STORE);
    for (const { key, value } of topic) expect(await stored.get(key!)).toEqual(value);
    expect(driver.createOutputTopic('shop-history-changelog', stringSerde, serdes.history).isEmpty()).toBe(true);
  });

  it('a batch over a limit goes to the dead-letter topic naming the limit, and the next batch is processed', async () => {
    const many: Record<string, string> = {};
    for (let i = 0; i < 101; i++) many[`a${i}`] = 'x';
    await web.pipeInput('42', batch({ id: 'big', user_attributes: attrs(many) }), T0);
    await web.pipeInput('42', beer, T0);
    const dead = await driver.createOutputTopic('shop.dlq', stringSerde, { serialize: (_t, v: Buffer) => v, deserialize: (_t, b) => b }).readRecords();
    expect(dead).toHaveLength(1);
    expect(String(dead[0]!.headers['x-error-code'])).toBe('PS_ERR_PROFILE_LIMIT_EXCEEDED');
    expect(await driver.createOutputTopic('shop.enriched.all', stringSerde, serdes.enriched).readValues()).toHaveLength(1);
  });

  it('checks the batch size limit on the record as received (its Avro bytes), not on the larger JSON of the batch', async () => {
    const events = (n: number) => Array.from({ length: n }, (_, i) => customEvent('e', T0 + i));
    // 1,000 events: ~18 KB of Avro, ~258 KB as JSON. It is within the 128 KiB limit as sent, so it is merged.
    const fits = batch({ id: 'many', events: events(1000) });
    expect(Buffer.byteLength(JSON.stringify(fits))).toBeGreaterThan(128 * 1024);
    expect((await serdes.batch.serialize('shop.raw.web', fits)).length).toBeLessThan(128 * 1024);
    await web.pipeInput('42', fits, T0);
    // 8,000 events: ~144 KB of Avro, over the limit as sent.
    const over = batch({ id: 'too-many', events: events(8000) });
    expect((await serdes.batch.serialize('shop.raw.web', over)).length).toBeGreaterThan(128 * 1024);
    await web.pipeInput('42', over, T0);
    const dead = await driver.createOutputTopic('shop.dlq', stringSerde, { serialize: (_t, v: Buffer) => v, deserialize: (_t, b) => b }).readRecords();
    expect(dead).toHaveLength(1);
    expect(String(dead[0]!.headers['x-error-code'])).toBe('PS_ERR_PROFILE_LIMIT_EXCEEDED');
    expect(String(dead[0]!.headers['x-error-message'])).toMatch(/max_batch_bytes/);
    const out = await driver.createOutputTopic('shop.enriched.all', stringSerde, serdes.enriched).readValues();
    expect(out.map((b) => b!.batch.source_request_id)).toEqual(['many']);
  });

  it('indexes identities by type:value through the repartition topic, and follows a changed email', async () => {
    await web.pipeInput('42', batch({ id: 'b1', user_identities: identities({ email: 'bob@example.com', customer_id: 'c-42' }) }), T0);
    await web.pipeInput('42', batch({ id: 'b2', timestamp_unixtime_ms: T0 + 10, events: [attributeChange('x', 1, T0 + 10)], user_identities: identities({ email: 'robert@example.com' }) }), T0 + 10);
    const index = driver.getKeyValueStore<string, IdentityOwner>(IDENTITY_INDEX_STORE);
    expect((await index.get('customer_id:c-42'))?.mpid).toBe('42');
    expect((await index.get('email:robert@example.com'))?.mpid).toBe('42');
    expect(await index.get('email:bob@example.com')).toBeUndefined();
  });
});
