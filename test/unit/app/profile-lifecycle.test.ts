import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DSR_STATUS_STORE } from '../../../src/app/topology/dsr-processors.ts';
import { HISTORY_STORE } from '../../../src/app/topology/history-store.ts';
import { IDENTITY_INDEX_STORE, type IdentityOwner } from '../../../src/app/topology/identity-index-processor.ts';
import { ERASURES_STORE, PROFILES_STORE } from '../../../src/app/topology/profile-node-names.ts';
import { buildProfileTopology } from '../../../src/app/topology/profile-topology.ts';
import { parseAppConfig } from '../../../src/config/app-config.ts';
import type { DsrEvent, DsrStatus, ErasureRecord } from '../../../src/profiles/erasure.ts';
import { parseIntegrationsConfig } from '../../../src/config/integrations-config.ts';
import { avroTypeFor } from '../../../src/schema/avro-type.ts';
import type { Batch } from '../../../src/schema/batch.ts';
import type { EnrichedBatch } from '../../../src/schema/enriched-batch.ts';
import type { HistoryRecord } from '../../../src/schema/history-record.ts';
import type { ProfileState } from '../../../src/schema/profile-state.ts';
import { SCHEMAS } from '../../../src/schema/schema-catalog.ts';
import { TopologyTestDriver, bufferSerde, jsonSerde, stringSerde, type Serde, type TestInputTopic } from '../../../src/streams/index.ts';
import { attrs, batch, consent, decision, deviceInfo, identities } from '../profiles/support/batches.ts';

function plainAvro<T>(schema: object): Serde<T> {
  const type = avroTypeFor(schema);
  return { serialize: (_t, v) => type.toBuffer(v), deserialize: (_t, b) => type.fromBuffer(b) as T };
}

const DAY = 24 * 60 * 60 * 1000;
const T0 = 1_780_000_000_000;

describe('retention, reengagement and erasure in the test driver', () => {
  const app = parseAppConfig('application_id: shop\nsources: [web]\nretention:\n  profile_lifetime_days: 30\n  history_days: 730\n', 'app.yaml');
  const { integrations } = parseIntegrationsConfig('integrations:\n  - name: all\n    forward_profile_only_batches: true\n', { file: 'integrations.yaml', applicationId: 'shop' });
  const serdes = { batch: plainAvro<Batch>(SCHEMAS.batch), enriched: plainAvro<EnrichedBatch>(SCHEMAS['enriched-batch']), history: plainAvro<HistoryRecord>(SCHEMAS['history-record']) };
  let driver: TopologyTestDriver;
  let web: TestInputTopic<string, Batch>;
  let dsr: TestInputTopic<string, DsrEvent>;
  const store = <V>(name: string) => driver.getKeyValueStore<string, V>(name);

  beforeEach(() => {
    const topology = buildProfileTopology({ app, integrations }, serdes, pino({ level: 'silent' }), { profileSweepIntervalMs: 60 * 60 * 1000, historySweepIntervalMs: DAY });
    driver = new TopologyTestDriver(topology, { applicationId: 'shop', initialWallClockTimeMs: T0 });
    web = driver.createInputTopic('shop.raw.web', stringSerde, serdes.batch);
    dsr = driver.createInputTopic('shop.dsr', stringSerde, jsonSerde<DsrEvent>());
  });
  afterEach(async () => driver.close());

  const first = batch({
    id: 'b1',
    timestamp_unixtime_ms: T0,
    user_identities: identities({ email: 'bob@example.com', customer_id: 'c-42' }),
    user_attributes: attrs({ favourite_drink: 'Beer' }),
    consent_state: consent({ marketing: decision(true, T0) }),
    device_info: deviceInfo({ device_application_stamp: 'stamp-1', platform: 'iOS' }),
  });

  async function historyKeys(): Promise<string[]> {
    const keys: string[] = [];
    for await (const { key } of store<HistoryRecord>(HISTORY_STORE).range()) keys.push(key);
    return keys;
  }

  it('keeps every processed batch in the history store under mpid|time|seq, and on the history topic under the same key', async () => {
    await web.pipeInput('42', first, T0);
    await web.pipeInput('42', batch({ id: 'b2', timestamp_unixtime_ms: T0 + 1 }), T0 + 1);
    const keys = await historyKeys();
    expect(keys).toHaveLength(2);
    expect(keys.every((k) => k.startsWith('42|'))).toBe(true);
    const topic = await driver.createOutputTopic('shop.history', stringSerde, serdes.history).readKeyValues();
    expect(topic.map((r) => r.key)).toEqual(keys);
  });

  it('expires a profile inactive for longer than the lifetime: store tombstone, identity index entries removed, history kept', async () => {
    await web.pipeInput('42', first, T0);
    await driver.advanceWallClockTime(29 * DAY);
    expect(await store<ProfileState>(PROFILES_STORE).get('42')).toBeDefined();
    driver.createOutputTopic('shop-profiles-changelog', stringSerde, bufferSerde).readKeyValues();
    await driver.advanceWallClockTime(2 * DAY);
    expect(await store<ProfileState>(PROFILES_STORE).get('42')).toBeUndefined();
    const changelog = await driver.createOutputTopic('shop-profiles-changelog', stringSerde, bufferSerde).readKeyValues();
    expect(changelog).toContainEqual({ key: '42', value: null });
    expect(await store<IdentityOwner>(IDENTITY_INDEX_STORE).get('email:bob@example.com')).toBeUndefined();
    expect(await store<IdentityOwner>(IDENTITY_INDEX_STORE).get('customer_id:c-42')).toBeUndefined();
    expect(await historyKeys()).toHaveLength(1);
  });

  it('sweeps history older than the retention period', async () => {
    await web.pipeInput('42', first, T0);
    await driver.advanceWallClockTime(729 * DAY);
    expect(await historyKeys()).toHaveLength(1);
    await driver.advanceWallClockTime(2 * DAY);
    expect(await historyKeys()).toHaveLength(0);
  });

  it('a returning user gets consent, attributes and identities back, but not devices', async () => {
    await web.pipeInput('42', first, T0);
    await driver.advanceWallClockTime(31 * DAY);
    expect(await store<ProfileState>(PROFILES_STORE).get('42')).toBeUndefined();
    const back = T0 + 31 * DAY;
    await web.pipeInput('42', batch({ id: 'b3', timestamp_unixtime_ms: back, user_attributes: attrs({ tier: 'gold' }) }), back);
    const profile = (await store<ProfileState>(PROFILES_STORE).get('42'))!;
    expect(profile.workspaces.ws1!.user_attributes.favourite_drink?.value).toBe('Beer');
    expect(profile.workspaces.ws1!.user_attributes.tier?.value).toBe('gold');
    expect(profile.workspaces.ws1!.consent_state.gdpr.marketing?.consented).toBe(true);
    expect(profile.user_identities.email?.value).toBe('bob@example.com');
    expect(Object.keys(profile.workspaces.ws1!.devices)).toEqual([]);
    expect((await store<IdentityOwner>(IDENTITY_INDEX_STORE).get('email:bob@example.com'))?.mpid).toBe('42');
  });

  for (const [by, target, key] of [
    ['MPID', { mpid: '42' }, 'r-mpid'],
    ['identity', { identity: { type: 'email', value: 'bob@example.com' } }, 'r-email'],
  ] as const) {
    it(`erases a user by ${by}: every store, changelog tombstones, history topic tombstones, completion event, no reengagement`, async () => {
      await web.pipeInput('42', first, T0);
      await web.pipeInput('42', batch({ id: 'b2', timestamp_unixtime_ms: T0 + 5 }), T0 + 5);
      driver.createOutputTopic('shop.history', stringSerde, bufferSerde).readKeyValues();
      await dsr.pipeInput(key, { kind: 'requested', request_id: key, workspace_id: 'ws1', requested_ms: T0 + 10, target });

      expect(await store<ProfileState>(PROFILES_STORE).get('42')).toBeUndefined();
      expect(await historyKeys()).toEqual([]);
      expect(await store<IdentityOwner>(IDENTITY_INDEX_STORE).get('email:bob@example.com')).toBeUndefined();
      expect(await store<IdentityOwner>(IDENTITY_INDEX_STORE).get('customer_id:c-42')).toBeUndefined();
      const erasure = (await store<ErasureRecord>(ERASURES_STORE).get('42'))!;
      expect(erasure.request_ids).toEqual([key]);
      expect(JSON.stringify(erasure)).not.toContain('bob@example.com');
      const historyTopic = await driver.createOutputTopic('shop.history', stringSerde, bufferSerde).readKeyValues();
      expect(historyTopic).toHaveLength(2);
      expect(historyTopic.every((r) => r.value === null && r.key!.startsWith('42|'))).toBe(true);
      const status = await store<DsrStatus>(DSR_STATUS_STORE).get(key);
      expect(status).toMatchObject({ status: 'completed', result: 'erased' });

      // New data after the erasure starts an empty profile: nothing from before comes back.
      await driver.advanceWallClockTime(DAY);
      await web.pipeInput('42', batch({ id: 'b9', timestamp_unixtime_ms: T0 + DAY, user_attributes: attrs({ tier: 'new' }) }), T0 + DAY);
      const fresh = (await store<ProfileState>(PROFILES_STORE).get('42'))!;
      expect(Object.keys(fresh.workspaces.ws1!.user_attributes)).toEqual(['tier']);
      expect(fresh.user_identities.email).toBeUndefined();
    });
  }

  it('reports not_found for an identity nobody holds', async () => {
    await dsr.pipeInput('r-x', { kind: 'requested', request_id: 'r-x', workspace_id: 'ws1', requested_ms: T0, target: { identity: { type: 'email', value: 'nobody@example.com' } } });
    expect(await store<DsrStatus>(DSR_STATUS_STORE).get('r-x')).toMatchObject({ status: 'completed', result: 'not_found' });
  });
});
