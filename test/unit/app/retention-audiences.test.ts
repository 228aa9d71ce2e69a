import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AGGREGATES_STORE, AUDIENCE_DUE_STORE } from '../../../src/app/topology/audience-step.ts';
import { PROFILES_STORE } from '../../../src/app/topology/profile-node-names.ts';
import { buildProfileTopology } from '../../../src/app/topology/profile-topology.ts';
import { parseAudiencesConfig } from '../../../src/config/audiences-config.ts';
import { parseCalculatedAttributesConfig } from '../../../src/config/calculated-attributes-config.ts';
import { parseAppConfig } from '../../../src/config/app-config.ts';
import type { DsrEvent } from '../../../src/profiles/erasure.ts';
import { parseIntegrationsConfig } from '../../../src/config/integrations-config.ts';
import { avroTypeFor } from '../../../src/schema/avro-type.ts';
import type { AudienceMembershipChange } from '../../../src/schema/audience-membership-change.ts';
import type { Batch } from '../../../src/schema/batch.ts';
import type { EnrichedBatch } from '../../../src/schema/enriched-batch.ts';
import type { HistoryRecord } from '../../../src/schema/history-record.ts';
import type { ProfileState } from '../../../src/schema/profile-state.ts';
import { SCHEMAS } from '../../../src/schema/schema-catalog.ts';
import { TopologyTestDriver, jsonSerde, stringSerde, type Serde, type TestInputTopic } from '../../../src/streams/index.ts';
import { attrs, batch, customEvent, identities } from '../profiles/support/batches.ts';

function plainAvro<T>(schema: object): Serde<T> {
  const type = avroTypeFor(schema);
  return { serialize: (_t, v) => type.toBuffer(v), deserialize: (_t, b) => type.fromBuffer(b) as T };
}

const DAY = 24 * 60 * 60 * 1000;
const NOW = Date.UTC(2025, 5, 15, 12);

describe('expiry and erasure take the user out of audiences and drop their aggregates', () => {
  const app = parseAppConfig('application_id: shop\nsources: [web]\nretention:\n  profile_lifetime_days: 30\n', 'app.yaml');
  const { integrations } = parseIntegrationsConfig('integrations:\n  - name: all\n    forward_profile_only_batches: true\n', { file: 'integrations.yaml', applicationId: 'shop' });
  const calculatedAttributes = parseCalculatedAttributesConfig(`
calculated_attributes:
  - { name: spend, workspace: ws1, calculation: sum, event: { name: purchase }, attribute: amount }
  - { name: purchases_90d, workspace: ws1, calculation: count, event: { name: purchase }, within_days: 90 }
`, 'c.yaml');
  const audiences = parseAudiencesConfig(`
audiences:
  - { id: rich, name: Rich, workspace: ws1, criteria: { calculated_attribute: spend, operator: greater_than, value: 100 } }
`, 'a.yaml');
  const serdes = {
    batch: plainAvro<Batch>(SCHEMAS.batch),
    enriched: plainAvro<EnrichedBatch>(SCHEMAS['enriched-batch']),
    history: plainAvro<HistoryRecord>(SCHEMAS['history-record']),
    audienceChange: plainAvro<AudienceMembershipChange>(SCHEMAS['audience-membership-change']),
  };
  let driver: TopologyTestDriver;
  let web: TestInputTopic<string, Batch>;

  beforeEach(() => {
    const topology = buildProfileTopology({ app, integrations, calculatedAttributes, audiences }, serdes, pino({ level: 'silent' }), { profileSweepIntervalMs: 60 * 60 * 1000 }, { sweepIntervalMs: 60 * 60 * 1000 });
    driver = new TopologyTestDriver(topology, { applicationId: 'shop', initialWallClockTimeMs: NOW });
    web = driver.createInputTopic('shop.raw.web', stringSerde, serdes.batch);
  });
  afterEach(async () => driver.close());

  const changes = async (): Promise<string[]> =>
    (await driver.createOutputTopic('shop.audience-memberships', stringSerde, serdes.audienceChange).readKeyValues()).map(({ key, value }) => `${key}:${value!.audiences.map((a) => `${a.action}:${a.audience_id}`).join(',')}`);
  const aggregatesOf = (mpid: string) => driver.getKeyValueStore<string, unknown>(AGGREGATES_STORE).get(mpid);
  async function dueEntries(): Promise<string[]> {
    const out: string[] = [];
    for await (const { value } of driver.getKeyValueStore<string, string>(AUDIENCE_DUE_STORE).range()) out.push(value);
    return out;
  }
  const purchase = (id: string, at: number, amount: number) =>
    batch({ id, timestamp_unixtime_ms: at, user_identities: identities({ email: 'rich@example.com' }), user_attributes: attrs({ tier: 'gold' }), events: [customEvent('purchase', at, attrs({ amount }))] });

  it('an expired profile leaves its audiences (one delete), and a returning user starts calculated attributes afresh', async () => {
    await web.pipeInput('42', purchase('b1', NOW, 150), NOW);
    expect(await changes()).toEqual(['42:add:rich']);
    expect(await aggregatesOf('42')).toBeDefined();
    expect(await dueEntries()).toEqual(['42']);

    await driver.advanceWallClockTime(31 * DAY);
    expect(await driver.getKeyValueStore<string, ProfileState>(PROFILES_STORE).get('42')).toBeUndefined();
    expect(await changes()).toEqual(['42:delete:rich']);
    expect(await aggregatesOf('42')).toBeUndefined();
    expect(await dueEntries()).toEqual([]);

    const back = NOW + 31 * DAY;
    await web.pipeInput('42', batch({ id: 'b2', timestamp_unixtime_ms: back, events: [customEvent('purchase', back, attrs({ amount: 20 }))] }), back);
    const profile = (await driver.getKeyValueStore<string, ProfileState>(PROFILES_STORE).get('42'))!;
    expect(profile.workspaces.ws1!.calculated_attributes.spend?.value).toBe('20');
    expect(profile.workspaces.ws1!.user_attributes.tier?.value).toBe('gold');
    expect(profile.user_identities.email?.value).toBe('rich@example.com');
    expect(profile.audience_memberships).toEqual({});
    expect(await changes()).toEqual([]);
  });

  it('an erased user leaves its audiences and keeps nothing in the aggregates or due stores', async () => {
    await web.pipeInput('42', purchase('b1', NOW, 150), NOW);
    await changes();
    const dsr = driver.createInputTopic('shop.dsr', stringSerde, jsonSerde<DsrEvent>());
    await dsr.pipeInput('r1', { kind: 'requested', request_id: 'r1', workspace_id: 'ws1', requested_ms: NOW + 1, target: { identity: { type: 'email', value: 'rich@example.com' } } });
    expect(await changes()).toEqual(['42:delete:rich']);
    expect(await aggregatesOf('42')).toBeUndefined();
    expect(await dueEntries()).toEqual([]);
    // Later sweeps find nothing of the user to act on.
    await driver.advanceWallClockTime(100 * DAY);
    expect(await changes()).toEqual([]);
  });
});
