import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AUDIENCE_DUE_STORE } from '../../../src/app/topology/audience-step.ts';
import { PROFILES_STORE } from '../../../src/app/topology/profile-node-names.ts';
import { buildProfileTopology } from '../../../src/app/topology/profile-topology.ts';
import { parseAudiencesConfig } from '../../../src/config/audiences-config.ts';
import { parseCalculatedAttributesConfig } from '../../../src/config/calculated-attributes-config.ts';
import { parseAppConfig } from '../../../src/config/app-config.ts';
import { parseIntegrationsConfig } from '../../../src/config/integrations-config.ts';
import { avroTypeFor } from '../../../src/schema/avro-type.ts';
import type { AudienceMembershipChange } from '../../../src/schema/audience-membership-change.ts';
import type { Batch } from '../../../src/schema/batch.ts';
import type { EnrichedBatch } from '../../../src/schema/enriched-batch.ts';
import type { HistoryRecord } from '../../../src/schema/history-record.ts';
import type { ProfileState } from '../../../src/schema/profile-state.ts';
import { SCHEMAS } from '../../../src/schema/schema-catalog.ts';
import { TopologyTestDriver, stringSerde, type Serde, type TestInputTopic } from '../../../src/streams/index.ts';
import { attrs, batch, customEvent, identities } from '../profiles/support/batches.ts';

function plainAvro<T>(schema: object): Serde<T> {
  const type = avroTypeFor(schema);
  return { serialize: (_t, v) => type.toBuffer(v), deserialize: (_t, b) => type.fromBuffer(b) as T };
}

const DAY = 24 * 60 * 60 * 1000;
/** Noon UTC: windows are UTC days. */
const NOW = Date.UTC(2025, 5, 15, 12);

describe('calculated attributes and audiences in the profile topology', () => {
  const app = parseAppConfig('application_id: shop\nsources: [web]\n', 'app.yaml');
  const { integrations } = parseIntegrationsConfig('integrations:\n  - name: all\n    forward_profile_only_batches: true\n', { file: 'integrations.yaml', applicationId: 'shop' });
  const calculatedAttributes = parseCalculatedAttributesConfig(`
calculated_attributes:
  - { name: purchases_3d, workspace: ws1, calculation: count, event: { name: purchase }, within_days: 3 }
  - { name: spend, workspace: ws1, calculation: sum, event: { name: purchase }, attribute: amount }
`, 'c.yaml');
  const audiences = parseAudiencesConfig(`
audiences:
  - { id: buyers, name: Buyers, workspace: ws1, criteria: { event: { name: purchase }, at_least: 1, within_days: 3 } }
  - id: rich
    name: Rich
    workspace: ws1
    criteria: { all: [ { calculated_attribute: spend, operator: greater_than, value: 100 }, { identity_exists: email } ] }
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
    const topology = buildProfileTopology({ app, integrations, calculatedAttributes, audiences }, serdes, pino({ level: 'silent' }), {}, { sweepIntervalMs: 60_000 });
    driver = new TopologyTestDriver(topology, { applicationId: 'shop', deadLetterTopic: 'shop.dlq', initialWallClockTimeMs: NOW });
    web = driver.createInputTopic('shop.raw.web', stringSerde, serdes.batch);
  });
  afterEach(async () => {
    await driver.close();
  });

  const changes = async (): Promise<Array<[string, AudienceMembershipChange]>> =>
    (await driver.createOutputTopic('shop.audience-memberships', stringSerde, serdes.audienceChange).readKeyValues()).map(({ key, value }) => [key!, value!]);

  it('the enriched batch carrying an event carries the values it changed, and membership changes are emitted keyed by MPID', async () => {
    await web.pipeInput('42', batch({ id: 'b1', timestamp_unixtime_ms: NOW, user_identities: identities({ email: 'a@b.c' }), events: [customEvent('purchase', NOW, attrs({ amount: 60 }))] }), NOW);
    await web.pipeInput('42', batch({ id: 'b2', timestamp_unixtime_ms: NOW + 1, events: [customEvent('purchase', NOW + 1, attrs({ amount: 50 }))] }), NOW + 1);
    const enriched = await driver.createOutputTopic('shop.enriched.all', stringSerde, serdes.enriched).readValues();
    expect(enriched.map((e) => e!.profile.calculated_attributes['spend']?.value)).toEqual(['60', '110']);
    expect(enriched.map((e) => e!.profile.calculated_attributes['purchases_3d']?.value)).toEqual(['1', '2']);
    expect(enriched[1]!.profile.audience_memberships.map((m) => m.audience_id)).toEqual(['buyers', 'rich']);
    const out = await changes();
    expect(out.map(([k, v]) => [k, v.audiences.map((a) => `${a.action}:${a.audience_id}`)])).toEqual([['42', ['add:buyers']], ['42', ['add:rich']]]);
    expect(out[0]![1].user_identities).toEqual([{ type: 'email', value: 'a@b.c' }]);
    const profile = await driver.getKeyValueStore<string, ProfileState>(PROFILES_STORE).get('42');
    expect(profile?.audience_memberships['buyers']?.added_ms).toBe(NOW);
    expect(profile?.workspaces['ws1']?.calculated_attributes['spend']?.definition_version).toBe(calculatedAttributes[1]!.version);
  });

  it('a replayed batch changes no value and emits no change', async () => {
    const b = batch({ id: 'b1', timestamp_unixtime_ms: NOW, events: [customEvent('purchase', NOW, attrs({ amount: 60 }))] });
    await web.pipeInput('42', b, NOW);
    await web.pipeInput('42', b, NOW);
    expect(await changes()).toHaveLength(1);
    const profile = await driver.getKeyValueStore<string, ProfileState>(PROFILES_STORE).get('42');
    expect(profile?.workspaces['ws1']?.calculated_attributes['spend']?.value).toBe('60');
  });

  it('advancing the wall clock past the window removes the user from the audience with no new event', async () => {
    await web.pipeInput('42', batch({ id: 'b1', timestamp_unixtime_ms: NOW - DAY, events: [customEvent('purchase', NOW - DAY)] }), NOW - DAY);
    await web.pipeInput('7', batch({ id: 'b2', mpid: '7', timestamp_unixtime_ms: NOW, events: [customEvent('purchase', NOW)] }), NOW);
    expect((await changes()).map(([k]) => k)).toEqual(['42', '7']);
    expect(await driver.getKeyValueStore<string, string>(AUDIENCE_DUE_STORE).get(`${String((Math.floor((NOW - DAY) / DAY) + 3) * DAY).padStart(15, '0')}:42`)).toBe('42');

    // The window is the last 3 UTC days: 42's purchase (yesterday noon) leaves at midnight starting the
    // third day after it, 36 hours from now. Before that nothing changes; then 42 leaves, 7 stays.
    await driver.advanceWallClockTime(DAY + DAY / 4);
    expect(await changes()).toEqual([]);
    await driver.advanceWallClockTime(DAY / 4);
    const left = await changes();
    expect(left.map(([k, v]) => [k, v.audiences])).toEqual([['42', [{ audience_id: 'buyers', audience_name: 'Buyers', action: 'delete' }]]]);
    const profiles = driver.getKeyValueStore<string, ProfileState>(PROFILES_STORE);
    expect((await profiles.get('42'))?.workspaces['ws1']?.calculated_attributes['purchases_3d']?.value).toBe('0');
    expect((await profiles.get('42'))?.audience_memberships['buyers']).toBeUndefined();
    await driver.advanceWallClockTime(DAY);
    expect((await changes()).map(([k, v]) => [k, v.audiences.map((a) => a.action)])).toEqual([['7', ['delete']]]);
    // Sweeping again emits nothing more: each change is emitted once.
    await driver.advanceWallClockTime(3 * DAY);
    expect(await changes()).toEqual([]);
  });
});
