import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AGGREGATES_STORE, type StoredAggregates } from '../../../src/app/topology/audience-step.ts';
import { PROFILES_STORE } from '../../../src/app/topology/profile-node-names.ts';
import { buildProfileTopology } from '../../../src/app/topology/profile-topology.ts';
import { parseAudiencesConfig } from '../../../src/config/audiences-config.ts';
import { parseCalculatedAttributesConfig } from '../../../src/config/calculated-attributes-config.ts';
import type { SeedMessage } from '../../../src/audiences/seed-message.ts';
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
const bytes: Serde<Buffer> = { serialize: (_t, v) => v, deserialize: (_t, b) => b };

const DAY = 24 * 60 * 60 * 1000;
const NOW = Date.UTC(2025, 5, 15, 12);

describe('seeding calculated attributes from the seeding topic', () => {
  const app = parseAppConfig('application_id: shop\nsources: [web]\n', 'app.yaml');
  const { integrations } = parseIntegrationsConfig('integrations:\n  - name: all\n    forward_profile_only_batches: true\n', { file: 'integrations.yaml', applicationId: 'shop' });
  const calculatedAttributes = parseCalculatedAttributesConfig(`
calculated_attributes:
  - { name: spend, workspace: ws1, calculation: sum, event: { name: purchase }, attribute: amount }
  - { name: purchases_7d, workspace: ws1, calculation: count, event: { name: purchase }, within_days: 7 }
`, 'c.yaml');
  const audiences = parseAudiencesConfig(`
audiences:
  - { id: rich, name: Rich, workspace: ws1, criteria: { calculated_attribute: spend, operator: greater_than, value: 100 } }
`, 'a.yaml', { calculatedAttributes });
  const serdes = {
    batch: plainAvro<Batch>(SCHEMAS.batch),
    enriched: plainAvro<EnrichedBatch>(SCHEMAS['enriched-batch']),
    history: plainAvro<HistoryRecord>(SCHEMAS['history-record']),
    audienceChange: plainAvro<AudienceMembershipChange>(SCHEMAS['audience-membership-change']),
  };
  let driver: TopologyTestDriver;
  let web: TestInputTopic<string, Batch>;
  let seeds: TestInputTopic<string, Buffer>;
  const seed = (m: SeedMessage | object, key = (m as SeedMessage).mpid) => seeds.pipeInput(key, Buffer.from(JSON.stringify(m)), NOW);
  const spendOf = async (mpid: string) => (await driver.getKeyValueStore<string, ProfileState>(PROFILES_STORE).get(mpid))?.workspaces['ws1']?.calculated_attributes['spend']?.value;
  const changes = async () => (await driver.createOutputTopic('shop.audience-memberships', stringSerde, serdes.audienceChange).readValues())
    .map((c) => c!.audiences.map((a) => `${a.action}:${a.audience_id}`).join(','));
  const deadLetters = async () => (await driver.createOutputTopic('shop.dlq', stringSerde, bytes).readRecords())
    .map((r) => [String(r.headers['x-error-code']), String(r.headers['x-error-message'])]);

  beforeEach(() => {
    const topology = buildProfileTopology({ app, integrations, calculatedAttributes, audiences }, serdes, pino({ level: 'silent' }));
    driver = new TopologyTestDriver(topology, { applicationId: 'shop', deadLetterTopic: 'shop.dlq', initialWallClockTimeMs: NOW });
    web = driver.createInputTopic('shop.raw.web', stringSerde, serdes.batch);
    seeds = driver.createInputTopic('shop.calculated-attribute-seeds', stringSerde, bytes);
  });
  afterEach(async () => {
    await driver.close();
  });

  it('a seed stands for the history before its cutoff: retained events before it no longer count, later ones add to it', async () => {
    const cutoff = NOW - 2 * DAY;
    await web.pipeInput('42', batch({ id: 'old', timestamp_unixtime_ms: NOW - 3 * DAY, user_identities: identities({ email: 'a@b.c' }), events: [customEvent('purchase', NOW - 3 * DAY, attrs({ amount: 40 }))] }), NOW - 3 * DAY);
    expect(await spendOf('42')).toBe('40');
    await seed({ mpid: '42', workspace_id: 'ws1', name: 'spend', cutoff_ms: cutoff, sum: 250, count: 4 });
    // The 40 happened before the cutoff: the seed's 250 already counts it.
    expect(await spendOf('42')).toBe('250');
    expect(await changes()).toEqual(['add:rich']);
    await web.pipeInput('42', batch({ id: 'new', timestamp_unixtime_ms: NOW, events: [customEvent('purchase', NOW, attrs({ amount: 5 }))] }), NOW);
    expect(await spendOf('42')).toBe('255');
    const enriched = await driver.createOutputTopic('shop.enriched.all', stringSerde, serdes.enriched).readValues();
    expect(enriched.at(-1)!.profile.calculated_attributes['spend']?.value).toBe('255');
    expect(enriched.at(-1)!.profile.user_attributes['spend']).toMatchObject({ value: '255', source: 'calculated_attribute' });
    expect(await deadLetters()).toEqual([]);
  });

  it('a seed for a user not seen yet waits in the aggregates and shows with the first batch', async () => {
    await seed({ mpid: '7', workspace_id: 'ws1', name: 'spend', cutoff_ms: NOW - DAY, sum: 1000 });
    expect(await driver.getKeyValueStore<string, ProfileState>(PROFILES_STORE).get('7')).toBeUndefined();
    expect(await driver.getKeyValueStore<string, StoredAggregates>(AGGREGATES_STORE).get('7')).toBeDefined();
    await web.pipeInput('7', batch({ id: 'first', mpid: '7', timestamp_unixtime_ms: NOW, events: [customEvent('purchase', NOW, attrs({ amount: 1 }))] }), NOW);
    expect(await spendOf('7')).toBe('1001');
    expect(await changes()).toEqual(['add:rich']);
  });

  it('a windowed seed leaves the window with the day before its cutoff', async () => {
    await web.pipeInput('42', batch({ id: 'b', timestamp_unixtime_ms: NOW, events: [customEvent('purchase', NOW)] }), NOW);
    await seed({ mpid: '42', workspace_id: 'ws1', name: 'purchases_7d', cutoff_ms: NOW - DAY, count: 9 });
    const plays = async () => (await driver.getKeyValueStore<string, ProfileState>(PROFILES_STORE).get('42'))?.workspaces['ws1']?.calculated_attributes['purchases_7d']?.value;
    expect(await plays()).toBe('10');
    await driver.advanceWallClockTime(6 * DAY);
    expect(await plays()).toBe('1');
  });

  it('dead-letters a seed it cannot apply, with the reason, and goes on', async () => {
    await seeds.pipeInput('42', Buffer.from('{not json'), NOW);
    await seed({ mpid: '42', workspace_id: 'ws1', name: 'spnd', cutoff_ms: NOW, sum: 1 });
    await seed({ mpid: '42', workspace_id: 'ws1', name: 'spend', cutoff_ms: NOW, count: 3 });
    await seed({ mpid: '42', workspace_id: 'ws1', name: 'spend', cutoff_ms: NOW, sum: 1 }, '43');
    await seed({ mpid: 'x42', workspace_id: 'ws1', name: 'spend', cutoff_ms: NOW, sum: 1 });
    await seed({ mpid: '42', workspace_id: 'ws1', name: 'spend', cutoff_ms: NOW, sum: 1, colour: 'red' });
    const dead = await deadLetters();
    expect(dead.map(([code]) => code)).toEqual(['PS_ERR_DESERIALIZATION', 'PS_ERR_SEED_INVALID', 'PS_ERR_SEED_INVALID', 'PS_ERR_SEED_INVALID', 'PS_ERR_SEED_INVALID', 'PS_ERR_SEED_INVALID']);
    expect(dead[1]![1]).toMatch(/no calculated attribute spnd in workspace ws1/);
    expect(dead[2]![1]).toMatch(/sum is required/);
    expect(dead[3]![1]).toMatch(/record key "43" is not the seed's mpid 42/);
    expect(dead[4]![1]).toMatch(/^mpid: /);
    expect(dead[5]![1]).toMatch(/colour/);
    await seed({ mpid: '42', workspace_id: 'ws1', name: 'spend', cutoff_ms: NOW, sum: 7 });
    expect(await deadLetters()).toEqual([]);
  });
});
