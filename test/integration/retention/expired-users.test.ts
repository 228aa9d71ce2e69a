import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyStore, hashSecret } from '../../../src/api/api-keys.ts';
import { buildApi } from '../../../src/api/build-app.ts';
import { BatchProducer } from '../../../src/app/adapters/batch-producer.ts';
import { HISTORY_STORE } from '../../../src/app/topology/history-store.ts';
import { EXPIRED_IDENTITIES_STORE, IDENTITY_INDEX_STORE, type ExpiredIdentity, type IdentityOwner } from '../../../src/app/topology/identity-index-processor.ts';
import { PROFILES_STORE } from '../../../src/app/topology/profile-node-names.ts';
import { StreamsDsrGateway } from '../../../src/app/adapters/streams-dsr-gateway.ts';
import { StreamsProfileLookup } from '../../../src/app/adapters/streams-profile-lookup.ts';
import { StreamsService } from '../../../src/app/streams-service.ts';
import { ensureTopics } from '../../../src/app/kafka/topic-admin.ts';
import { planTopics } from '../../../src/app/topology/topic-plan.ts';
import { parseAudiencesConfig } from '../../../src/config/audiences-config.ts';
import { parseCalculatedAttributesConfig } from '../../../src/config/calculated-attributes-config.ts';
import type { Deployment } from '../../../src/config/deployment.ts';
import { readRuntimeEnv } from '../../../src/config/runtime-env.ts';
import { createSchemaRegistry } from '../../../src/schema/avro-serde.ts';
import type { AudienceMembershipChange } from '../../../src/schema/audience-membership-change.ts';
import type { ProfileState } from '../../../src/schema/profile-state.ts';
import { kafkaBrokers, schemaRegistryUrl, kafkaClientEnv } from '../../support/stack-env.ts';
import { eventually } from '../../support/eventually.ts';
import { testDeployment } from '../../support/test-deployment.ts';
import { attrs, batch, customEvent, identities } from '../../unit/profiles/support/batches.ts';
import { latestByKey, readToEnd } from './changelog-reader.ts';
import { acceptFutureTimestamps } from './future-timestamps.ts';
import { ShiftedClock } from './shifted-clock.ts';

const DAY = 24 * 60 * 60 * 1000;
const auth = { authorization: `Basic ${Buffer.from('key-ws1:secret-one').toString('base64')}` };

describe('expired users over the real pipeline: audience deletes on expiry, erasure by identity after expiry', () => {
  const base = testDeployment({ partitions: 2, sources: ['web'] }).deployment;
  const deployment: Deployment = {
    ...base,
    calculatedAttributes: parseCalculatedAttributesConfig('calculated_attributes:\n  - { name: spend, workspace: "1", calculation: sum, event: { name: purchase }, attribute: amount }\n', 'c.yaml'),
    audiences: parseAudiencesConfig('audiences:\n  - { id: rich, name: Rich, workspace: "1", criteria: { calculated_attribute: spend, operator: greater_than, value: 100 } }\n', 'a.yaml'),
  };
  const { app } = deployment;
  const clock = new ShiftedClock();
  const keys = new ApiKeyStore([{ key: 'key-ws1', workspaces: ['1'], secretHash: hashSecret('secret-one') }]);
  let stateDir: string;
  let service: StreamsService;
  let dsr: StreamsDsrGateway;
  let api: FastifyInstance;
  let producer: BatchProducer;
  const t = Date.now() - 60_000;

  const profile = (mpid: string) => service.app.store<string, ProfileState>(PROFILES_STORE).get(mpid);
  const owner = (identity: string) => service.app.store<string, IdentityOwner>(IDENTITY_INDEX_STORE).get(identity);
  const expired = (identity: string) => service.app.store<string, ExpiredIdentity>(EXPIRED_IDENTITIES_STORE).get(identity);
  const historyKeys = async (mpid: string) => {
    const out: string[] = [];
    for await (const { key } of service.app.store<string, unknown>(HISTORY_STORE).prefix(`${mpid}|`)) out.push(key);
    return out;
  };
  async function membershipChanges(): Promise<string[]> {
    const registry = createSchemaRegistry(schemaRegistryUrl());
    const out: string[] = [];
    for (const e of await readToEnd(kafkaBrokers(), app.audienceMembershipsTopic)) {
      const change = (await registry.decode(e.value!)) as AudienceMembershipChange;
      out.push(`${e.key}:${change.audiences.map((a) => `${a.action}:${a.audience_id}`).join(',')}`);
    }
    return out;
  }

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'ps-expired-'));
    await ensureTopics(kafkaBrokers(), planTopics(deployment));
    service = new StreamsService({
      deployment,
      env: readRuntimeEnv({ STATE_DIR: stateDir, PROCESSING_GUARANTEE: 'at_least_once', ...kafkaClientEnv() }),
      brokers: kafkaBrokers(),
      schemaRegistryUrl: schemaRegistryUrl(),
      logger: pino({ level: 'warn' }),
      commitIntervalMs: 100,
      clock,
      retention: { profileSweepIntervalMs: 10 * DAY },
    });
    dsr = new StreamsDsrGateway(service.app, kafkaBrokers(), app.dsrTopic);
    const lookup = new StreamsProfileLookup(service.app, app.rawTopics);
    api = await buildApi({ readiness: service, lookup, keys, dsr, activityView: { history: lookup, uiDir: 'ui' } });
    producer = new BatchProducer(kafkaBrokers(), schemaRegistryUrl());
    await Promise.all([producer.connect(), dsr.connect(), service.start()]);
    await acceptFutureTimestamps(kafkaBrokers(), app.applicationId);
    await producer.send(app.rawTopics[0]!, [
      batch({ id: 'dora-1', mpid: '501', workspace_id: '1', timestamp_unixtime_ms: t, user_identities: identities({ email: 'dora@example.com' }), user_attributes: attrs({ tier: 'gold' }), events: [customEvent('purchase', t, attrs({ amount: 150 }))] }),
      batch({ id: 'dora-2', mpid: '501', workspace_id: '1', timestamp_unixtime_ms: t + 1, events: [customEvent('purchase', t + 1, attrs({ amount: 5 }))] }),
    ]);
    await eventually('dora indexed', async () => ((await owner('email:dora@example.com')) ? true : undefined));
  }, 120_000);

  afterAll(async () => {
    await api?.close();
    await service?.close();
    await producer?.disconnect();
    await dsr?.disconnect();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('expiry takes the user out of the audience (delete on the audience-memberships topic) and moves the identity aside', async () => {
    expect(await eventually('dora joined', async () => ((await membershipChanges()).length === 1 ? membershipChanges() : undefined))).toEqual(['501:add:rich']);
    clock.advance(31 * DAY);
    await eventually('dora expired', async () => ((await profile('501')) === undefined ? true : undefined));
    expect(await eventually('dora left', async () => ((await membershipChanges()).length === 2 ? membershipChanges() : undefined))).toEqual(['501:add:rich', '501:delete:rich']);
    await eventually('dora unindexed', async () => ((await owner('email:dora@example.com')) === undefined ? true : undefined));
    expect((await expired('email:dora@example.com'))?.mpid).toBe('501');
    expect(await historyKeys('501')).toHaveLength(2);
    const aggregates = latestByKey(await readToEnd(kafkaBrokers(), `${app.applicationId}-aggregates-changelog`));
    expect(aggregates.get('501')).toBeNull();
  });

  it('an erasure by email after expiry finds the user and removes the kept history; the changelogs end in tombstones', async () => {
    const posted = await api.inject({ method: 'POST', url: '/v1/dsr', headers: auth, payload: { workspace_id: '1', identity: { type: 'email', value: 'dora@example.com' } } });
    expect(posted.statusCode).toBe(202);
    const id = posted.json().request_id as string;
    const done = await eventually(`DSR ${id} completed`, async (): Promise<{ result: string } | undefined> => {
      const res = await api.inject({ url: `/v1/dsr/${id}`, headers: auth });
      return res.statusCode === 200 && res.json().status === 'completed' ? res.json() : undefined;
    });
    expect(done?.result).toBe('erased');
    expect(await historyKeys('501')).toEqual([]);
    await eventually('dora forgotten', async () => ((await expired('email:dora@example.com')) === undefined ? true : undefined));
    expect((await api.inject({ url: '/v1/activity/timeline?mpid=501', headers: auth })).json().entries).toEqual([]);

    for (const [topic, isDoras] of [
      // The history topic is the history store's changelog (there is no `<app>-history-changelog`).
      [app.historyTopic, (k: string) => k.startsWith('501|')],
      [`${app.applicationId}-expired-identities-changelog`, (k: string) => k === 'email:dora@example.com'],
      [`${app.applicationId}-profiles-changelog`, (k: string) => k === '501'],
    ] as const) {
      // The stores forget at once (reads go through the write cache); the tombstones reach the changelogs with
      // the next commit, read committed: wait for that commit, then every one of Dora's keys ends in one.
      const doras = await eventually(`${topic} ends Dora's keys in tombstones`, async () => {
        const latest = [...latestByKey(await readToEnd(kafkaBrokers(), topic))].filter(([k]) => isDoras(k));
        return latest.length > 0 && latest.every(([, v]) => v === null) ? latest : undefined;
      });
      expect(doras!.length, topic).toBeGreaterThan(0);
      expect(doras!.every(([, v]) => v === null), topic).toBe(true);
    }
  });
});
