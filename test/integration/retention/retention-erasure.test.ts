import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyStore, hashSecret } from '../../../src/api/api-keys.ts';
import { buildApi } from '../../../src/api/build-app.ts';
import { BatchProducer } from '../../../src/app/adapters/batch-producer.ts';
import { IDENTITY_INDEX_STORE, type IdentityOwner } from '../../../src/app/topology/identity-index-processor.ts';
import { HISTORY_STORE } from '../../../src/app/topology/history-store.ts';
import { PROFILES_STORE } from '../../../src/app/topology/profile-node-names.ts';
import { StreamsDsrGateway } from '../../../src/app/adapters/streams-dsr-gateway.ts';
import { StreamsProfileLookup } from '../../../src/app/adapters/streams-profile-lookup.ts';
import { StreamsService } from '../../../src/app/streams-service.ts';
import { ensureTopics } from '../../../src/app/kafka/topic-admin.ts';
import { planTopics } from '../../../src/app/topology/topic-plan.ts';
import { readRuntimeEnv } from '../../../src/config/runtime-env.ts';
import type { Batch } from '../../../src/schema/batch.ts';
import type { ProfileState } from '../../../src/schema/profile-state.ts';
import { kafkaBrokers, schemaRegistryUrl, kafkaClientEnv } from '../../support/stack-env.ts';
import { eventually } from '../../support/eventually.ts';
import { testDeployment } from '../../support/test-deployment.ts';
import { attrs, batch, consent, decision, deviceInfo, identities } from '../../unit/profiles/support/batches.ts';
import { latestByKey, readToEnd } from './changelog-reader.ts';
import { acceptFutureTimestamps } from './future-timestamps.ts';
import { ShiftedClock } from './shifted-clock.ts';

const DAY = 24 * 60 * 60 * 1000;
const auth = { authorization: `Basic ${Buffer.from('key-ws1:secret-one').toString('base64')}` };
const FIELDS = 'user_identities,user_attributes';

describe('retention, reengagement and erasure over the real pipeline, with a clock the test moves', () => {
  const { deployment } = testDeployment({ partitions: 2, sources: ['web'] });
  const { app } = deployment;
  const clock = new ShiftedClock();
  const keys = new ApiKeyStore([{ key: 'key-ws1', workspaces: ['1'], secretHash: hashSecret('secret-one') }]);
  let stateDir: string;
  let service: StreamsService;
  let dsr: StreamsDsrGateway;
  let api: FastifyInstance;
  let producer: BatchProducer;
  const t = Date.now() - 60_000;
  // Alice goes quiet and comes back; Bob is erased by email; Carol by MPID.
  const alice = batch({
    id: 'alice-1', mpid: '101', workspace_id: '1', timestamp_unixtime_ms: t,
    user_identities: identities({ email: 'alice@example.com' }),
    user_attributes: attrs({ favourite_drink: 'Tea' }),
    consent_state: consent({ marketing: decision(true, t) }),
    device_info: deviceInfo({ device_application_stamp: 'alice-phone', platform: 'iOS' }),
  });
  const bob = [1, 2].map((n) => batch({ id: `bob-${n}`, mpid: '202', workspace_id: '1', timestamp_unixtime_ms: t + n, user_identities: identities({ email: 'bob@example.com', customer_id: 'bob-c' }), user_attributes: attrs({ tier: `gold-${n}` }) }));
  const carol = batch({ id: 'carol-1', mpid: '303', workspace_id: '1', timestamp_unixtime_ms: t, user_identities: identities({ email: 'carol@example.com' }), user_attributes: attrs({ tier: 'silver' }) });

  const profile = (mpid: string) => service.app.store<string, ProfileState>(PROFILES_STORE).get(mpid);
  const owner = (identity: string) => service.app.store<string, IdentityOwner>(IDENTITY_INDEX_STORE).get(identity);
  const historyKeys = async (mpid: string) => {
    const out: string[] = [];
    for await (const { key } of service.app.store<string, unknown>(HISTORY_STORE).prefix(`${mpid}|`)) out.push(key);
    return out;
  };
  const send = (batches: Batch[]) => producer.send(app.rawTopics[0]!, batches);

  async function erase(body: object): Promise<string> {
    const posted = await api.inject({ method: 'POST', url: '/v1/dsr', headers: auth, payload: { workspace_id: '1', ...body } });
    expect(posted.statusCode).toBe(202);
    expect(posted.json().status).toBe('pending');
    const id = posted.json().request_id as string;
    // Under at-least-once the completion can follow within milliseconds, so a poll may or may not see
    // "pending" (dsr-status.test.ts holds the commits to observe it); what it sees is in order, though.
    const seen: string[] = [];
    await eventually(`DSR ${id} completed`, async () => {
      const res = await api.inject({ url: `/v1/dsr/${id}`, headers: auth });
      if (res.statusCode === 404) return undefined; // not read by the processor yet
      expect(res.statusCode, res.body).toBe(200);
      seen.push(res.json().status);
      return res.json().status === 'completed' ? res.json() : undefined;
    });
    expect(seen.join(' ')).toMatch(/^(pending )*completed$/);
    return id;
  }

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'ps-retention-'));
    await ensureTopics(kafkaBrokers(), planTopics(deployment));
    service = new StreamsService({
      deployment,
      env: readRuntimeEnv({ STATE_DIR: stateDir, PROCESSING_GUARANTEE: 'at_least_once', ...kafkaClientEnv() }),
      brokers: kafkaBrokers(),
      schemaRegistryUrl: schemaRegistryUrl(),
      logger: pino({ level: 'warn' }),
      commitIntervalMs: 100,
      clock,
      // One profile sweep per simulated jump: the next is 10 days of clock time away.
      retention: { profileSweepIntervalMs: 10 * DAY },
    });
    dsr = new StreamsDsrGateway(service.app, kafkaBrokers(), app.dsrTopic);
    const lookup = new StreamsProfileLookup(service.app, app.rawTopics);
    api = await buildApi({ readiness: service, lookup, keys, dsr, activityView: { history: lookup, uiDir: 'ui' } });
    producer = new BatchProducer(kafkaBrokers(), schemaRegistryUrl());
    await Promise.all([producer.connect(), dsr.connect(), service.start()]);
    // Raw and output topics, history, DSR, and the changelog and repartition topics the runtime just created.
    await acceptFutureTimestamps(kafkaBrokers(), app.applicationId);
    await send([alice, ...bob, carol]);
    await eventually('every user indexed', async () => ((await owner('email:alice@example.com')) && (await owner('email:bob@example.com')) && (await owner('email:carol@example.com')) ? true : undefined));
  }, 120_000);

  afterAll(async () => {
    await api?.close();
    await service?.close();
    await producer?.disconnect();
    await dsr?.disconnect();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('erases a user by email: gone from every store, the API, the view and the changelogs; the request answered pending, then completed', async () => {
    expect(await historyKeys('202')).toHaveLength(2);
    const requestId = await erase({ identity: { type: 'email', value: 'bob@example.com' } });
    expect(await profile('202')).toBeUndefined();
    expect(await historyKeys('202')).toEqual([]);
    expect(await eventually('bob unindexed', async () => ((await owner('email:bob@example.com')) === undefined && (await owner('customer_id:bob-c')) === undefined ? true : undefined))).toBe(true);
    expect((await api.inject({ url: `/userprofile/v1/o/a/1/202?fields=${FIELDS}`, headers: auth })).statusCode).toBe(404);
    expect((await api.inject({ url: '/v1/activity/profile?identity_type=email&identity_value=bob%40example.com', headers: auth })).statusCode).toBe(404);
    expect((await api.inject({ url: '/v1/activity/timeline?mpid=202', headers: auth })).json().entries).toEqual([]);

    // Read each changelog to its end: every key of Bob's ends in a tombstone (what compaction keeps, until it drops those too).
    // The history store's changelog is the history topic itself, checked below.
    for (const [store, isBobs] of [
      ['profiles', (k: string) => k === '202'],
      ['batch-dedup', (k: string) => k === '202'],
      ['identity-index', (k: string) => k === 'email:bob@example.com' || k === 'customer_id:bob-c'],
    ] as const) {
      // The tombstones reach the changelog with the commit after the erasure (the write cache holds them until
      // then): the stores answered already, the changelog follows within a commit interval.
      const bobsTombstoned = async (): Promise<true | undefined> => {
        const latest = latestByKey(await readToEnd(kafkaBrokers(), `${app.applicationId}-${store}-changelog`));
        const bobs = [...latest].filter(([k]) => isBobs(k));
        return bobs.length > 0 && bobs.every(([, v]) => v === null) ? true : undefined;
      };
      expect(await eventually(`${store}: every key of Bob's tombstoned in the changelog`, bobsTombstoned), store).toBe(true);
    }
    const bobsHistory = await eventually('both of Bob\'s history records tombstoned', async () => {
      const history = [...latestByKey(await readToEnd(kafkaBrokers(), app.historyTopic))].filter(([k]) => k.startsWith('202|'));
      return history.length === 2 && history.every(([, v]) => v === null) ? history : undefined;
    });
    expect(bobsHistory).toHaveLength(2);
    const statusChangelog = await eventually('the completed status in its changelog', async () => {
      const log = await readToEnd(kafkaBrokers(), `${app.applicationId}-dsr-status-changelog`);
      return latestByKey(log).get(requestId)?.toString().includes('"completed"') ? log : undefined;
    });
    // The request's status survives in its changelog (a restarted instance still answers the GET). Whether
    // "pending" reaches the changelog too depends on timing: the write cache keeps only the latest value per
    // key between commits, and the completion can arrive within the same commit interval.
    expect(latestByKey(statusChangelog).get(requestId)?.toString()).toContain('"completed"');
    expect(statusChangelog.every((e) => !e.value?.toString().includes('bob'))).toBe(true);
  });

  it('erases a user by MPID', async () => {
    await erase({ mpid: '303' });
    expect(await profile('303')).toBeUndefined();
    expect(await historyKeys('303')).toEqual([]);
    await eventually('carol unindexed', async () => ((await owner('email:carol@example.com')) === undefined ? true : undefined));
  });

  it('expires a profile after the lifetime: store and changelog tombstone, identity index entry removed, history kept', async () => {
    clock.advance(29 * DAY);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await profile('101')).toBeDefined();
    clock.advance(2 * DAY);
    await eventually('alice expired', async () => ((await profile('101')) === undefined ? true : undefined));
    await eventually('alice unindexed', async () => ((await owner('email:alice@example.com')) === undefined ? true : undefined));
    expect(await historyKeys('101')).toHaveLength(1);
    expect((await api.inject({ url: `/userprofile/v1/o/a/1/101?fields=${FIELDS}`, headers: auth })).statusCode).toBe(404);
    const latest = latestByKey(await readToEnd(kafkaBrokers(), `${app.applicationId}-profiles-changelog`));
    expect(latest.get('101')).toBeNull();
  });

  it('a returning user gets consent, attributes and identities back, not devices or calculated attributes', async () => {
    await send([batch({ id: 'alice-2', mpid: '101', workspace_id: '1', timestamp_unixtime_ms: Date.now(), user_attributes: attrs({ tier: 'bronze' }) })]);
    const back = await eventually('alice back', () => profile('101'));
    const ws = back.workspaces['1']!;
    expect(ws.user_attributes.favourite_drink?.value).toBe('Tea');
    expect(ws.user_attributes.tier?.value).toBe('bronze');
    expect(ws.consent_state.gdpr.marketing?.consented).toBe(true);
    expect(back.user_identities.email?.value).toBe('alice@example.com');
    expect(Object.keys(ws.devices)).toEqual([]);
    expect(Object.keys(ws.calculated_attributes)).toEqual([]);
    await eventually('alice indexed again', async () => ((await owner('email:alice@example.com'))?.mpid === '101' ? true : undefined));
  });

  it('new data for an erased user starts a new, empty profile: nothing erased comes back', async () => {
    await send([batch({ id: 'bob-3', mpid: '202', workspace_id: '1', timestamp_unixtime_ms: Date.now(), user_attributes: attrs({ note: 'new' }) })]);
    const fresh = await eventually('bob anew', () => profile('202'));
    expect(Object.keys(fresh.workspaces['1']!.user_attributes)).toEqual(['note']);
    expect(Object.keys(fresh.user_identities)).toEqual([]);
    expect(await historyKeys('202')).toHaveLength(1);
  });
});
