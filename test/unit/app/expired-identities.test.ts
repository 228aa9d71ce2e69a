import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DSR_STATUS_STORE } from '../../../src/app/topology/dsr-processors.ts';
import { HISTORY_STORE } from '../../../src/app/topology/history-store.ts';
import { EXPIRED_IDENTITIES_STORE, IDENTITY_INDEX_STORE, type ExpiredIdentity, type IdentityOwner } from '../../../src/app/topology/identity-index-processor.ts';
import { ERASURES_STORE, PROFILES_STORE } from '../../../src/app/topology/profile-node-names.ts';
import { buildProfileTopology } from '../../../src/app/topology/profile-topology.ts';
import { parseAppConfig } from '../../../src/config/app-config.ts';
import { identityHash, type DsrEvent, type DsrStatus, type ErasureRecord } from '../../../src/profiles/erasure.ts';
import { parseIntegrationsConfig } from '../../../src/config/integrations-config.ts';
import { avroTypeFor } from '../../../src/schema/avro-type.ts';
import type { Batch } from '../../../src/schema/batch.ts';
import type { EnrichedBatch } from '../../../src/schema/enriched-batch.ts';
import type { HistoryRecord } from '../../../src/schema/history-record.ts';
import type { ProfileState } from '../../../src/schema/profile-state.ts';
import { SCHEMAS } from '../../../src/schema/schema-catalog.ts';
import { TopologyTestDriver, bufferSerde, jsonSerde, stringSerde, type Serde, type TestInputTopic } from '../../../src/streams/index.ts';
import { attrs, batch, identities } from '../profiles/support/batches.ts';

function plainAvro<T>(schema: object): Serde<T> {
  const type = avroTypeFor(schema);
  return { serialize: (_t, v) => type.toBuffer(v), deserialize: (_t, b) => type.fromBuffer(b) as T };
}

const DAY = 24 * 60 * 60 * 1000;
const T0 = 1_780_000_000_000;

describe('an expired user can still be erased by identity while their history is kept', () => {
  const app = parseAppConfig('application_id: shop\nsources: [web]\nretention:\n  profile_lifetime_days: 30\n  history_days: 365\n', 'app.yaml');
  const { integrations } = parseIntegrationsConfig('integrations:\n  - name: all\n', { file: 'integrations.yaml', applicationId: 'shop' });
  const serdes = { batch: plainAvro<Batch>(SCHEMAS.batch), enriched: plainAvro<EnrichedBatch>(SCHEMAS['enriched-batch']), history: plainAvro<HistoryRecord>(SCHEMAS['history-record']) };
  let driver: TopologyTestDriver;
  let web: TestInputTopic<string, Batch>;
  let dsr: TestInputTopic<string, DsrEvent>;
  const store = <V>(name: string) => driver.getKeyValueStore<string, V>(name);
  const expired = (key: string) => store<ExpiredIdentity>(EXPIRED_IDENTITIES_STORE).get(key);
  async function keysOf(name: string): Promise<string[]> {
    const out: string[] = [];
    for await (const { key } of store<unknown>(name).range()) out.push(key);
    return out;
  }

  beforeEach(async () => {
    const topology = buildProfileTopology({ app, integrations }, serdes, pino({ level: 'silent' }), { profileSweepIntervalMs: 60 * 60 * 1000, historySweepIntervalMs: DAY });
    driver = new TopologyTestDriver(topology, { applicationId: 'shop', initialWallClockTimeMs: T0 });
    web = driver.createInputTopic('shop.raw.web', stringSerde, serdes.batch);
    dsr = driver.createInputTopic('shop.dsr', stringSerde, jsonSerde<DsrEvent>());
    await web.pipeInput('42', batch({ id: 'b1', timestamp_unixtime_ms: T0, user_identities: identities({ email: 'old@example.com' }), user_attributes: attrs({ tier: 'gold' }) }), T0);
    // The email changes: the history's first snapshot still holds the old one.
    await web.pipeInput('42', batch({ id: 'b2', timestamp_unixtime_ms: T0 + 1, user_identities: identities({ email: 'eve@example.com' }) }), T0 + 1);
    await driver.advanceWallClockTime(31 * DAY);
  });
  afterEach(async () => driver.close());

  it('expiry moves the identity index entry aside, keyed the same way', async () => {
    expect(await store<ProfileState>(PROFILES_STORE).get('42')).toBeUndefined();
    expect(await store<IdentityOwner>(IDENTITY_INDEX_STORE).get('email:eve@example.com')).toBeUndefined();
    expect(await expired('email:eve@example.com')).toMatchObject({ mpid: '42', expired_ms: T0 + 31 * DAY });
    expect(await keysOf(HISTORY_STORE)).toHaveLength(2);
  });

  it('an erasure by identity finds the expired user: history store and topic emptied, expired identities gone, erasure recorded', async () => {
    driver.createOutputTopic('shop.history', stringSerde, bufferSerde).readKeyValues();
    await dsr.pipeInput('r1', { kind: 'requested', request_id: 'r1', workspace_id: 'ws1', requested_ms: T0 + 31 * DAY, target: { identity: { type: 'email', value: 'eve@example.com' } } });
    expect(await store<DsrStatus>(DSR_STATUS_STORE).get('r1')).toMatchObject({ status: 'completed', result: 'erased' });
    expect(await keysOf(HISTORY_STORE)).toEqual([]);
    const topic = await driver.createOutputTopic('shop.history', stringSerde, bufferSerde).readKeyValues();
    expect(topic.map((r) => r.value)).toEqual([null, null]);
    expect(await keysOf(EXPIRED_IDENTITIES_STORE)).toEqual([]);
    const record = (await store<ErasureRecord>(ERASURES_STORE).get('42'))!;
    expect(record.identity_hashes).toEqual([identityHash('email', 'eve@example.com'), identityHash('email', 'old@example.com')].sort());

    // The user comes back: nothing is restored.
    await web.pipeInput('42', batch({ id: 'b3', timestamp_unixtime_ms: T0 + 32 * DAY, user_attributes: attrs({ note: 'new' }) }), T0 + 32 * DAY);
    const fresh = (await store<ProfileState>(PROFILES_STORE).get('42'))!;
    expect(Object.keys(fresh.workspaces.ws1!.user_attributes)).toEqual(['note']);
    expect(fresh.user_identities).toEqual({});
  });

  it('a returning user claims the identity again: it leaves the expired identities', async () => {
    await web.pipeInput('42', batch({ id: 'b3', timestamp_unixtime_ms: T0 + 32 * DAY }), T0 + 32 * DAY);
    expect((await store<IdentityOwner>(IDENTITY_INDEX_STORE).get('email:eve@example.com'))?.mpid).toBe('42');
    expect(await expired('email:eve@example.com')).toBeUndefined();
  });

  it('an expired identity is kept no longer than the history retention after the expiry (by then no history mentions it)', async () => {
    await driver.advanceWallClockTime(336 * DAY);
    expect(await keysOf(HISTORY_STORE)).toEqual([]);
    expect(await expired('email:eve@example.com')).toBeDefined();
    await driver.advanceWallClockTime(30 * DAY);
    expect(await keysOf(EXPIRED_IDENTITIES_STORE)).toEqual([]);
  });
});
