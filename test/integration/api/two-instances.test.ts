import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyStore, hashSecret } from '../../../src/api/api-keys.ts';
import { buildApi } from '../../../src/api/build-app.ts';
import { BatchProducer } from '../../../src/app/adapters/batch-producer.ts';
import { PROFILES_STORE } from '../../../src/app/topology/profile-node-names.ts';
import { StreamsProfileLookup } from '../../../src/app/adapters/streams-profile-lookup.ts';
import { StreamsService } from '../../../src/app/streams-service.ts';
import { ensureTopics } from '../../../src/app/kafka/topic-admin.ts';
import { planTopics } from '../../../src/app/topology/topic-plan.ts';
import { rawTopicFor } from '../../../src/config/app-config.ts';
import { readRuntimeEnv } from '../../../src/config/runtime-env.ts';
import { sampleBatches } from '../../../src/generator/sample-batches.ts';
import { eventually } from '../../support/eventually.ts';
import { independentProfile } from '../../support/independent-profile-reference.ts';
import type { Batch } from '../../../src/schema/batch.ts';
import type { ProfileState } from '../../../src/schema/profile-state.ts';
import { kafkaBrokers, recentStartTimeMs, schemaRegistryUrl, kafkaClientEnv } from '../../support/stack-env.ts';
import { testDeployment } from '../../support/test-deployment.ts';
import { readTopic } from '../../support/topic-reader.ts';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const auth = { authorization: `Basic ${Buffer.from('key-ws1-0001:secret-one').toString('base64')}` };
const FIELDS = 'user_identities,device_identities,user_attributes,audience_memberships,attribution';

/**
 * The answer `src/api/README.md` documents for a profile (workspace 1, every field of FIELDS), built from
 * the independent reference's profile: identities sorted by type, attribute values as strings or string
 * lists (null ones left out), device identities once each by type then value. `attribution` has no
 * documented order: compared sorted by device stamp.
 */
function documentedAnswer(profile: ProfileState) {
  const ws = profile.workspaces['1']!;
  // Attribute names are data (`__proto__` among them): no prototype to set by accident.
  const attributes = Object.create(null) as Record<string, string | string[]>;
  for (const [name, a] of Object.entries(ws.user_attributes)) {
    if (a.value !== null) attributes[name] = Array.isArray(a.value) ? a.value : String(a.value);
  }
  const deviceIds = new Map<string, { type: string; encoding: string; value: string }>();
  for (const d of Object.values(ws.devices)) for (const [type, value] of Object.entries(d.device_identities)) deviceIds.set(`${type}:${value}`, { type, encoding: 'none', value });
  return {
    mpid: profile.mpid,
    created_timestamp_ms: profile.created_timestamp_ms,
    last_stored_timestamp_ms: profile.last_seen_timestamp_ms,
    is_opted_out: profile.is_opted_out,
    limit_ad_tracking: profile.limit_ad_tracking,
    user_identities: Object.entries(profile.user_identities)
      .filter(([, v]) => v.value !== null)
      .map(([type, v]) => ({ type, encoding: 'none', value: v.value }))
      .sort((x, y) => (x.type < y.type ? -1 : 1)),
    device_identities: [...deviceIds.values()].sort((x, y) => (x.type !== y.type ? (x.type < y.type ? -1 : 1) : x.value < y.value ? -1 : 1)),
    user_attributes: attributes,
    audience_memberships: [],
    attribution: Object.entries(ws.devices)
      .filter(([, d]) => d.install_attribution !== null)
      .map(([stamp, d]) => ({
        device_application_stamp: stamp,
        install_referrer: d.install_attribution!.install_referrer,
        publisher: d.install_attribution!.publisher,
        campaign: d.install_attribution!.campaign,
        attributed_timestamp_ms: d.install_attribution!.attributed_ms,
      }))
      .sort(byStamp),
  };
}

function byStamp(x: { device_application_stamp: string }, y: { device_application_stamp: string }): number {
  return x.device_application_stamp < y.device_application_stamp ? -1 : 1;
}

/** The answer with its one unordered list in the order `documentedAnswer` uses. */
function comparable(body: { attribution?: Array<{ device_application_stamp: string }> }) {
  return { ...body, attribution: [...(body.attribution ?? [])].sort(byStamp) };
}

interface Instance {
  service: StreamsService;
  api: FastifyInstance;
  stateDir: string;
}

describe('Profile API on two instances over the real pipeline', () => {
  const { deployment } = testDeployment({ partitions: 4, sources: ['web', 'ios'] });
  const keys = new ApiKeyStore([{ key: 'key-ws1-0001', workspaces: ['1'], secretHash: hashSecret('secret-one') }]);
  const batches: Batch[] = [...sampleBatches({ seed: 5, users: 200, batches: 600, sources: ['web', 'ios'], startTimeMs: recentStartTimeMs(600), workspaceId: '1' })];
  const byUser = new Map<string, Batch[]>();
  for (const b of batches) byUser.set(b.mpid!, [...(byUser.get(b.mpid!) ?? []), b]);
  const expected = new Map([...byUser].map(([mpid, list]) => [mpid, independentProfile(list)!]));
  const instances: Instance[] = [];
  let producer: BatchProducer;

  async function startInstance(): Promise<Instance> {
    const port = await freePort();
    const stateDir = await mkdtemp(join(tmpdir(), 'ps-api-'));
    const service = new StreamsService({
      deployment,
      env: readRuntimeEnv({ STATE_DIR: stateDir, PROCESSING_GUARANTEE: 'at_least_once', ...kafkaClientEnv() }),
      brokers: kafkaBrokers(),
      schemaRegistryUrl: schemaRegistryUrl(),
      logger: pino({ level: 'warn' }),
      applicationServer: `127.0.0.1:${port}`,
      commitIntervalMs: 100,
    });
    const api = await buildApi({
      readiness: service,
      lookup: new StreamsProfileLookup(service.app, deployment.app.rawTopics),
      keys,
      ingest: { sink: producer, rawTopicOf: (s) => (deployment.app.sources.includes(s) ? rawTopicFor(deployment.app.applicationId, s) : undefined), defaultSource: 'web' },
    });
    await api.listen({ host: '127.0.0.1', port });
    const instance = { service, api, stateDir };
    instances.push(instance);
    return instance;
  }

  async function stop(instance: Instance): Promise<void> {
    await instance.api.close();
    await instance.service.close();
    await rm(instance.stateDir, { recursive: true, force: true });
    instances.splice(instances.indexOf(instance), 1);
  }

  beforeAll(async () => {
    await ensureTopics(kafkaBrokers(), planTopics(deployment));
    producer = new BatchProducer(kafkaBrokers(), schemaRegistryUrl());
    await producer.connect();
    const [a, b] = await Promise.all([startInstance(), startInstance()]);
    await Promise.all([a.service.start(), b.service.start()]);
    for (const [i, source] of ['web', 'ios'].entries()) await producer.send(deployment.app.rawTopics[i]!, batches.filter((x) => x.source === source));
    // Everything processed: the history topic holds one record per batch.
    expect(await readTopic(kafkaBrokers(), deployment.app.historyTopic, batches.length, 120_000)).toHaveLength(batches.length);
    // The identity index is a second sub-topology fed through a repartition topic, so it may trail the
    // profiles by a commit or two: wait until it has every customer id before comparing answers.
    const customerIds = [...expected.values()].flatMap((p) => (p.user_identities.customer_id?.value ? [p.user_identities.customer_id.value] : []));
    for (const value of customerIds) {
      await eventually(`the identity index has customer_id ${value}`, async () => {
        const res = await a.api.inject({ method: 'POST', url: '/userprofile/v1/resolve/o/a/1?fields=user_attributes', headers: auth, payload: { identity: { type: 'customer_id', value } } });
        return res.statusCode === 200;
      }, { timeoutMs: 60_000 });
    }
  }, 240_000);

  afterAll(async () => {
    for (const i of [...instances]) await stop(i);
    await producer.disconnect();
  });

  // Each user's answer as both instances gave it before one stops: the failover test wants exactly these back.
  const answers = new Map<string, unknown>();

  async function profileVia(instance: Instance, mpid: string) {
    return instance.api.inject({ url: `/userprofile/v1/o/a/1/${mpid}?fields=${FIELDS}`, headers: auth });
  }

  it('both instances own partitions and answer every user identically, whichever owns the user', async () => {
    const [a, b] = instances;
    expect(a!.service.app.restoreStatus().length).toBeGreaterThan(0);
    expect(b!.service.app.restoreStatus().length).toBeGreaterThan(0);
    let forwarded = 0;
    for (const [mpid, profile] of expected) {
      const [ra, rb] = await Promise.all([profileVia(a!, mpid), profileVia(b!, mpid)]);
      expect(ra.statusCode, mpid).toBe(200);
      expect(rb.statusCode, mpid).toBe(200);
      // The same body from both, and the one the documented rules and response shape give.
      expect(ra.json()).toEqual(rb.json());
      expect(comparable(ra.json()), mpid).toEqual(documentedAnswer(profile));
      answers.set(mpid, ra.json());
      if (ra.headers['x-profile-stream-answered-by'] || rb.headers['x-profile-stream-answered-by']) forwarded += 1;
      const customerId = profile.user_identities.customer_id?.value;
      if (customerId) {
        const payload = { environment_type: 'production', identity: { type: 'customer_id', value: customerId } };
        const [xa, xb] = await Promise.all(
          [a!, b!].map((i) => i.api.inject({ method: 'POST', url: `/userprofile/v1/resolve/o/a/1?fields=${FIELDS}`, headers: auth, payload })),
        );
        expect(xa!.statusCode).toBe(200);
        expect(xa!.json()).toEqual(ra.json());
        expect(xb!.json()).toEqual(ra.json());
      }
    }
    // Every user was asked of both instances, so every user owned by one was forwarded by the other.
    expect(forwarded).toBe(expected.size);
    // And the store holds the reference's profile for every user, read through the owner's interactive query.
    for (const mpid of expected.keys()) {
      const local = await Promise.all([a!, b!].map(async (i) => (await i.service.app.metadataForKey(PROFILES_STORE, mpid)).local));
      expect(local.filter(Boolean)).toHaveLength(1);
      const holder = local[0] ? a! : b!;
      expect(await holder.service.app.store<string, ProfileState>(PROFILES_STORE).get(mpid)).toEqual(expected.get(mpid));
    }
  }, 240_000);

  it('after one instance stops, the other answers 503 (never 404 or a wrong body) until restored, then every user with the same body', async () => {
    const [a, b] = instances;
    await stop(b!);
    const statuses = new Set<number>();
    // Every answer is 503 with Retry-After or the very body both instances gave before. Only headers may
    // differ: x-profile-stream-answered-by (no one forwards now), x-profile-stream-offsets (the restored
    // tasks have processed nothing since they moved) and the rate-limit counters.
    await eventually('every user answered by the survivor', async () => {
      for (const [mpid] of expected) {
        const res = await profileVia(a!, mpid);
        statuses.add(res.statusCode);
        if (res.statusCode === 503) {
          expect(res.headers['retry-after']).toBeDefined();
          return false;
        }
        expect(res.statusCode, `${mpid}: ${res.body}`).toBe(200);
        expect(res.json(), mpid).toEqual(answers.get(mpid));
        expect(res.headers['x-profile-stream-answered-by'], mpid).toBeUndefined();
      }
      return true;
    }, { timeoutMs: 120_000, intervalMs: 250 });
    expect([...statuses].every((s) => s === 200 || s === 503)).toBe(true);
  }, 180_000);

  it('accepts a valid batch with 202 and it comes out enriched; rejects invalid ones with nothing produced', async () => {
    const [a] = instances;
    const json = { mpid: '777000777', source_request_id: 'http-1', environment: 'production', user_attributes: { tier: 'gold' }, events: [{ event_type: 'custom_event', data: { event_name: 'signup', custom_event_type: 'other' } }] };
    const res = await a!.api.inject({ method: 'POST', url: '/v2/events', headers: auth, payload: json });
    expect(res.statusCode).toBe(202);
    expect(res.json().accepted).toEqual(['http-1']);
    expect(res.json().offsets).toEqual([{ topic: deployment.app.rawTopics[0], partition: expect.any(Number), offset: expect.stringMatching(/^\d+$/) }]);
    const all = deployment.integrations.find((i) => i.name === 'all')!;
    const out = await readTopic(kafkaBrokers(), all.outputTopic, batches.length + 1, 60_000);
    expect(out).toHaveLength(batches.length + 1);

    const bad = await a!.api.inject({ method: 'POST', url: '/v2/events', headers: auth, payload: { events: [{ event_type: 'custom_event', data: { event_name: 7 } }] } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toBe('PS_ERR_API_INVALID_BATCH');
    expect(bad.json().problems.length).toBeGreaterThan(0);
    const malformed = await a!.api.inject({ method: 'POST', url: '/v2/events', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"mpid": ' });
    expect(malformed.statusCode).toBe(400);
    const tooMany: Record<string, string> = {};
    for (let i = 0; i < 101; i++) tooMany[`a${i}`] = 'x';
    const over = await a!.api.inject({ method: 'POST', url: '/v2/events', headers: auth, payload: { mpid: '1', user_attributes: tooMany } });
    expect(over.statusCode).toBe(400);
    expect(JSON.stringify(over.json().problems)).toMatch(/100/);
    const huge = await a!.api.inject({ method: 'POST', url: '/v2/events', headers: auth, payload: { mpid: '1', user_attributes: { big: 'x'.repeat(2 * 1024 * 1024) } } });
    expect(huge.statusCode).toBe(413);
    // Nothing of the rejected requests reached Kafka: the output count did not move.
    expect(await readTopic(kafkaBrokers(), all.outputTopic, batches.length + 2, 5_000)).toHaveLength(batches.length + 1);
  }, 120_000);

  it('answers 503 and accepts nothing when Kafka is unreachable', async () => {
    const deadKafka = new BatchProducer(['127.0.0.1:1'], schemaRegistryUrl());
    const api = await buildApi({ readiness: { readiness: () => ({ ready: true, detail: {} }) }, keys, ingest: { sink: deadKafka, rawTopicOf: () => 'nowhere', defaultSource: 'web' } });
    const res = await api.inject({ method: 'POST', url: '/v2/events', headers: auth, payload: { mpid: '1', user_attributes: { a: 'b' } } });
    await api.close();
    expect(res.statusCode).toBe(503);
    expect(res.json().error).toBe('PS_ERR_API_KAFKA_UNAVAILABLE');
  }, 60_000);
});
