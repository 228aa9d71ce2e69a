import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HISTORY_DAYS_STORE, HISTORY_STORE, parseHistoryKey } from '../../../src/app/topology/history-store.ts';
import { buildProfileTopology } from '../../../src/app/topology/profile-topology.ts';
import { parseAppConfig } from '../../../src/config/app-config.ts';
import type { DsrEvent } from '../../../src/profiles/erasure.ts';
import { parseIntegrationsConfig } from '../../../src/config/integrations-config.ts';
import { avroTypeFor } from '../../../src/schema/avro-type.ts';
import type { Batch } from '../../../src/schema/batch.ts';
import type { EnrichedBatch } from '../../../src/schema/enriched-batch.ts';
import type { HistoryRecord } from '../../../src/schema/history-record.ts';
import { SCHEMAS } from '../../../src/schema/schema-catalog.ts';
import { TopologyTestDriver, jsonSerde, stringSerde, type Serde, type TestInputTopic } from '../../../src/streams/index.ts';
import { batch } from '../profiles/support/batches.ts';

function plainAvro<T>(schema: object): Serde<T> {
  const type = avroTypeFor(schema);
  return { serialize: (_t, v) => type.toBuffer(v), deserialize: (_t, b) => type.fromBuffer(b) as T };
}

const DAY = 24 * 60 * 60 * 1000;
/** Midnight UTC, so day buckets are easy to reason about. */
const T0 = Date.UTC(2026, 0, 1);

describe('the history sweep reads only the days past the cutoff', () => {
  const app = parseAppConfig('application_id: shop\nsources: [web]\nretention:\n  profile_lifetime_days: 90\n  history_days: 10\n', 'app.yaml');
  const { integrations } = parseIntegrationsConfig('integrations:\n  - name: all\n', { file: 'integrations.yaml', applicationId: 'shop' });
  const serdes = { batch: plainAvro<Batch>(SCHEMAS.batch), enriched: plainAvro<EnrichedBatch>(SCHEMAS['enriched-batch']), history: plainAvro<HistoryRecord>(SCHEMAS['history-record']) };
  let driver: TopologyTestDriver;
  let web: TestInputTopic<string, Batch>;
  async function keysOf(name: string): Promise<string[]> {
    const out: string[] = [];
    for await (const { key } of driver.getKeyValueStore<string, unknown>(name).range()) out.push(key);
    return out;
  }
  const historyTimes = async (mpid: string) => (await keysOf(HISTORY_STORE)).filter((k) => k.startsWith(`${mpid}|`)).map((k) => (parseHistoryKey(k).processedMs - T0) / DAY);
  const send = (mpid: string, id: string) => web.pipeInput(mpid, batch({ id, mpid, timestamp_unixtime_ms: T0 }), T0);

  beforeEach(async () => {
    // The sweep runs every 6 hours of clock time, so a day's bucket is seen while it straddles the cutoff.
    const topology = buildProfileTopology({ app, integrations }, serdes, pino({ level: 'silent' }), { historySweepIntervalMs: DAY / 4 });
    driver = new TopologyTestDriver(topology, { applicationId: 'shop', initialWallClockTimeMs: T0 });
    web = driver.createInputTopic('shop.raw.web', stringSerde, serdes.batch);
    await send('1', 'a'); // day 0, 00:00
    await driver.advanceWallClockTime(DAY / 2);
    await send('1', 'b'); // day 0, 12:00
    await send('2', 'c');
    await driver.advanceWallClockTime(3 * DAY);
    await send('1', 'd'); // day 3, 12:00
  });
  afterEach(async () => driver.close());

  it('indexes one entry per user and day', async () => {
    expect(await keysOf(HISTORY_DAYS_STORE)).toEqual([
      `${String(T0).padStart(15, '0')}|1`,
      `${String(T0).padStart(15, '0')}|2`,
      `${String(T0 + 3 * DAY).padStart(15, '0')}|1`,
    ]);
  });

  it('removes entries older than the retention, a straddled day in two sweeps, and the day index with the last of them', async () => {
    // Now day 10, 06:00: the cutoff is day 0, 06:00 — only the midnight batch is past it.
    await driver.advanceWallClockTime(6 * DAY + (3 * DAY) / 4);
    expect(await historyTimes('1')).toEqual([0.5, 3.5]);
    expect(await historyTimes('2')).toEqual([0.5]);
    expect(await keysOf(HISTORY_DAYS_STORE)).toHaveLength(3);
    // Day 11, 00:00: all of day 0 is past the cutoff.
    await driver.advanceWallClockTime(DAY * 0.75);
    expect(await historyTimes('1')).toEqual([3.5]);
    expect(await historyTimes('2')).toEqual([]);
    expect(await keysOf(HISTORY_DAYS_STORE)).toEqual([`${String(T0 + 3 * DAY).padStart(15, '0')}|1`]);
    await driver.advanceWallClockTime(4 * DAY);
    expect(await keysOf(HISTORY_STORE)).toEqual([]);
    expect(await keysOf(HISTORY_DAYS_STORE)).toEqual([]);
  });

  it('an erasure removes the user\'s day index entries with the history', async () => {
    const dsr = driver.createInputTopic('shop.dsr', stringSerde, jsonSerde<DsrEvent>());
    await dsr.pipeInput('r1', { kind: 'requested', request_id: 'r1', workspace_id: 'ws1', requested_ms: T0, target: { mpid: '1' } });
    expect(await historyTimes('1')).toEqual([]);
    expect(await keysOf(HISTORY_DAYS_STORE)).toEqual([`${String(T0).padStart(15, '0')}|2`]);
  });
});
