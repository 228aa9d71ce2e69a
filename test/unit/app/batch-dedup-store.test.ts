import { createHash } from 'node:crypto';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BATCH_DEDUP_STORE } from '../../../src/app/topology/batch-dedup-store.ts';
import { HISTORY_STORE } from '../../../src/app/topology/history-store.ts';
import { PROFILES_STORE } from '../../../src/app/topology/profile-node-names.ts';
import { buildProfileTopology } from '../../../src/app/topology/profile-topology.ts';
import { parseAppConfig } from '../../../src/config/app-config.ts';
import type { RecentBatches } from '../../../src/profiles/batch-dedup.ts';
import type { DsrEvent } from '../../../src/profiles/erasure.ts';
import { parseIntegrationsConfig } from '../../../src/config/integrations-config.ts';
import { avroTypeFor } from '../../../src/schema/avro-type.ts';
import type { Batch } from '../../../src/schema/batch.ts';
import type { EnrichedBatch } from '../../../src/schema/enriched-batch.ts';
import type { HistoryRecord } from '../../../src/schema/history-record.ts';
import type { ProfileState } from '../../../src/schema/profile-state.ts';
import { SCHEMAS } from '../../../src/schema/schema-catalog.ts';
import { TopologyTestDriver, bufferSerde, jsonSerde, stringSerde, type Serde, type TestInputTopic } from '../../../src/streams/index.ts';
import { attrs, batch } from '../profiles/support/batches.ts';

function plainAvro<T>(schema: object): Serde<T> {
  const type = avroTypeFor(schema);
  return { serialize: (_t, v) => type.toBuffer(v), deserialize: (_t, b) => type.fromBuffer(b) as T };
}

/** The digest the README documents (first 16 hex digits of SHA-256 of the batch id), computed here. */
const digest = (batchId: string) => createHash('sha256').update(batchId, 'utf8').digest('hex').slice(0, 16);

/** The store's documented bytes, built by hand: format 1, then per entry 8 digest bytes and a float64 time. */
function packed(entries: ReadonlyArray<[string, number]>): Buffer {
  const out = Buffer.alloc(1 + 16 * entries.length);
  out[0] = 1;
  entries.forEach(([hex, ms], i) => {
    Buffer.from(hex, 'hex').copy(out, 1 + 16 * i);
    out.writeDoubleBE(ms, 1 + 16 * i + 8);
  });
  return out;
}

const DAY = 24 * 60 * 60 * 1000;
const T0 = 1_780_000_000_000;

describe('replay dedup in its own store, through the profile topology', () => {
  const app = parseAppConfig('application_id: shop\nsources: [web]\nretention:\n  profile_lifetime_days: 30\n  history_days: 60\n', 'app.yaml');
  const { integrations } = parseIntegrationsConfig('integrations:\n  - name: all\n    forward_profile_only_batches: true\n', { file: 'integrations.yaml', applicationId: 'shop' });
  const serdes = { batch: plainAvro<Batch>(SCHEMAS.batch), enriched: plainAvro<EnrichedBatch>(SCHEMAS['enriched-batch']), history: plainAvro<HistoryRecord>(SCHEMAS['history-record']) };
  let driver: TopologyTestDriver;
  let web: TestInputTopic<string, Batch>;
  let dsr: TestInputTopic<string, DsrEvent>;
  const store = <V>(name: string) => driver.getKeyValueStore<string, V>(name);
  const enrichedCount = async () => (await driver.createOutputTopic('shop.enriched.all', stringSerde, serdes.enriched).readValues()).length;
  const changelog = (name: string) => driver.createOutputTopic(`shop-${name}-changelog`, stringSerde, bufferSerde).readKeyValues();

  beforeEach(() => {
    const topology = buildProfileTopology({ app, integrations }, serdes, pino({ level: 'silent' }), { profileSweepIntervalMs: 60 * 60 * 1000, historySweepIntervalMs: DAY });
    driver = new TopologyTestDriver(topology, { applicationId: 'shop', initialWallClockTimeMs: T0 });
    web = driver.createInputTopic('shop.raw.web', stringSerde, serdes.batch);
    dsr = driver.createInputTopic('shop.dsr', stringSerde, jsonSerde<DsrEvent>());
  });
  afterEach(async () => driver.close());

  const b1 = batch({ id: 'b1', timestamp_unixtime_ms: T0, user_attributes: attrs({ favourite_drink: 'Beer' }) });
  const b2 = batch({ id: 'b2', timestamp_unixtime_ms: T0 + 1000, user_attributes: attrs({ tier: 'gold' }) });

  it('keeps a short digest and the batch time per merged batch in batch-dedup, and nothing of it in the profile or its changelog', async () => {
    await web.pipeInput('42', b1, T0);
    await web.pipeInput('42', b2, T0 + 1000);
    expect(await store<RecentBatches>(BATCH_DEDUP_STORE).get('42')).toEqual([
      { digest: digest('b1'), seen_ms: T0 },
      { digest: digest('b2'), seen_ms: T0 + 1000 },
    ]);
    const profile = (await store<ProfileState>(PROFILES_STORE).get('42'))!;
    expect(Object.keys(profile)).not.toContain('recent_batches');
    const logged = await changelog(BATCH_DEDUP_STORE);
    expect(logged.at(-1)).toEqual({ key: '42', value: packed([[digest('b1'), T0], [digest('b2'), T0 + 1000]]) });
    // The history snapshots have the profile's fields only.
    const history = await driver.createOutputTopic('shop.history', stringSerde, serdes.history).readValues();
    expect(history.map((h) => Object.keys(h!.profile!))).toEqual([Object.keys(profile), Object.keys(profile)]);
  });

  it('drops a replay that comes after other batches of the user: same state, no output, no write', async () => {
    await web.pipeInput('42', b1, T0);
    await web.pipeInput('42', b2, T0 + 1000);
    const before = { profile: await store<ProfileState>(PROFILES_STORE).get('42'), recent: await store<RecentBatches>(BATCH_DEDUP_STORE).get('42') };
    expect(await enrichedCount()).toBe(2);
    await changelog(PROFILES_STORE);
    await changelog(BATCH_DEDUP_STORE);
    await web.pipeInput('42', { ...b1, user_attributes: attrs({ favourite_drink: 'Water' }) }, T0 + 2000);
    expect(await enrichedCount()).toBe(0);
    expect(await store<ProfileState>(PROFILES_STORE).get('42')).toEqual(before.profile);
    expect(await store<RecentBatches>(BATCH_DEDUP_STORE).get('42')).toEqual(before.recent);
    expect(await changelog(PROFILES_STORE)).toEqual([]);
    expect(await changelog(BATCH_DEDUP_STORE)).toEqual([]);
  });

  it('forgets batches more than the dedup window (7 days of event time) older than the user\'s newest', async () => {
    await web.pipeInput('42', b1, T0);
    const later = batch({ id: 'later', timestamp_unixtime_ms: T0 + 8 * DAY, user_attributes: attrs({ tier: 'gold' }) });
    await web.pipeInput('42', later, T0 + 8 * DAY);
    expect(await store<RecentBatches>(BATCH_DEDUP_STORE).get('42')).toEqual([{ digest: digest('later'), seen_ms: T0 + 8 * DAY }]);
    const profile = await store<ProfileState>(PROFILES_STORE).get('42');
    await enrichedCount();
    // b1 is no longer recognised: it is merged again (and forwarded), and changes nothing a reader sees.
    await web.pipeInput('42', b1, T0);
    expect(await enrichedCount()).toBe(1);
    expect(await store<ProfileState>(PROFILES_STORE).get('42')).toEqual(profile);
  });

  it('still recognises a replay after the profile expired, and forgets the ids once the last history entry is gone', async () => {
    await web.pipeInput('42', b1, T0);
    await driver.advanceWallClockTime(31 * DAY);
    expect(await store<ProfileState>(PROFILES_STORE).get('42')).toBeUndefined();
    await enrichedCount();
    await web.pipeInput('42', b1, T0);
    expect(await enrichedCount()).toBe(0);
    expect(await store<ProfileState>(PROFILES_STORE).get('42')).toBeUndefined();

    // History is kept 60 days: after that nothing can reengage the user, and the ids go with it.
    await driver.advanceWallClockTime(30 * DAY);
    const left: string[] = [];
    for await (const { key } of store<HistoryRecord>(HISTORY_STORE).range()) left.push(key);
    expect(left).toEqual([]);
    expect(await store<RecentBatches>(BATCH_DEDUP_STORE).get('42')).toBeUndefined();
    expect(await changelog(BATCH_DEDUP_STORE)).toContainEqual({ key: '42', value: null });
  });

  it('an erasure removes the remembered ids: the same batch afterwards starts a new profile', async () => {
    await web.pipeInput('42', b1, T0);
    await dsr.pipeInput('r1', { kind: 'requested', request_id: 'r1', workspace_id: 'ws1', requested_ms: T0 + 10, target: { mpid: '42' } });
    expect(await store<RecentBatches>(BATCH_DEDUP_STORE).get('42')).toBeUndefined();
    expect(await changelog(BATCH_DEDUP_STORE)).toContainEqual({ key: '42', value: null });
    await enrichedCount();
    await web.pipeInput('42', b1, T0);
    expect(await enrichedCount()).toBe(1);
    expect((await store<ProfileState>(PROFILES_STORE).get('42'))!.workspaces.ws1!.user_attributes.favourite_drink?.value).toBe('Beer');
  });
});
