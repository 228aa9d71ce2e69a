import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
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
import { parseIdentityStrategy } from '../../../src/config/identity-strategy-config.ts';
import { readRuntimeEnv } from '../../../src/config/runtime-env.ts';
import { createAvroSerde, createSchemaRegistry } from '../../../src/schema/avro-serde.ts';
import type { Batch } from '../../../src/schema/batch.ts';
import { fromJsonBatch } from '../../../src/schema/json-batch.ts';
import { SCHEMAS } from '../../../src/schema/schema-catalog.ts';
import { partitionForKey } from '../../../src/streams/index.ts';
import { kafkaBrokers, kafkaClientEnv, schemaRegistryUrl, uniqueName } from '../../support/stack-env.ts';
import { eventually } from '../../support/eventually.ts';
import { testDeployment } from '../../support/test-deployment.ts';

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
const PARTITIONS = 4;

interface Instance {
  service: StreamsService;
  api: FastifyInstance;
  stateDir: string;
}

/** One run's identities, so reruns on the shared stack never meet earlier users. */
const run = uniqueName('u');
const id = (name: string) => `${name}-${run}`;

describe('identity resolution (IDSync) on two instances over the real stack', () => {
  const { deployment: base } = testDeployment({ partitions: PARTITIONS, sources: ['web'] });
  // customer_id and other are both login ids here, so one batch can bring two users' unique identities.
  const deployment = { ...base, identity: parseIdentityStrategy('unique_identities: [customer_id, other]\n', 'test/identity.yaml') };
  const rawTopic = deployment.app.rawTopics[0]!;
  const keys = new ApiKeyStore([{ key: 'key-ws1-0001', workspaces: ['1'], secretHash: hashSecret('secret-one') }]);
  const instances: Instance[] = [];
  let producer: BatchProducer;
  let sends = 0;
  const countingSink = {
    send: (topic: string, batches: readonly Batch[], headers?: Readonly<Record<string, string>>) => {
      sends++;
      return producer.send(topic, batches, headers);
    },
  };
  let kafka: Producer;

  async function startInstance(): Promise<Instance> {
    const port = await freePort();
    const stateDir = await mkdtemp(join(tmpdir(), 'ps-idsync-'));
    const service = new StreamsService({
      deployment,
      env: readRuntimeEnv({ STATE_DIR: stateDir, PROCESSING_GUARANTEE: 'at_least_once', ...kafkaClientEnv() }),
      brokers: kafkaBrokers(),
      schemaRegistryUrl: schemaRegistryUrl(),
      logger: pino({ level: 'error' }),
      applicationServer: `127.0.0.1:${port}`,
      commitIntervalMs: 100,
    });
    const api = await buildApi({
      readiness: service,
      lookup: new StreamsProfileLookup(service.app, deployment.app.rawTopics),
      keys,
      ingest: { sink: countingSink, rawTopicOf: (s) => (s === 'web' ? rawTopicFor(deployment.app.applicationId, s) : undefined), defaultSource: 'web' },
      idsync: { sink: countingSink, strategy: deployment.identity, rawTopic, source: 'web', waitMs: 30_000 },
    });
    await api.listen({ host: '127.0.0.1', port });
    const instance = { service, api, stateDir };
    instances.push(instance);
    return instance;
  }

  let a: Instance;
  let b: Instance;

  beforeAll(async () => {
    await ensureTopics(kafkaBrokers(), planTopics(deployment));
    producer = new BatchProducer(kafkaBrokers(), schemaRegistryUrl());
    await producer.connect();
    kafka = new Kafka({ clientId: 'idsync-test', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING }).producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await kafka.connect();
    [a, b] = await Promise.all([startInstance(), startInstance()]);
    await Promise.all([a.service.start(), b.service.start()]);
    // Both instances own partitions before the tests race them.
    await eventually('both instances own partitions', async () => (await ownedBy(a)).length > 0 && (await ownedBy(b)).length > 0, { timeoutMs: 120_000, intervalMs: 200 });
  }, 240_000);

  afterAll(async () => {
    for (const i of instances) {
      await i.api.close();
      await i.service.close();
      await rm(i.stateDir, { recursive: true, force: true });
    }
    await producer?.disconnect();
    await kafka?.disconnect();
  });

  /** The raw partitions an instance's profile tasks own. */
  async function ownedBy(instance: Instance): Promise<number[]> {
    const owned: number[] = [];
    for (let p = 0; p < PARTITIONS; p++) {
      let key = 0;
      while (partitionForKey(Buffer.from(String(key)), PARTITIONS) !== p) key++;
      try {
        if ((await instance.service.app.metadataForKey(PROFILES_STORE, String(key))).local) owned.push(p);
      } catch {
        return [];
      }
    }
    return owned;
  }

  const post = (instance: Instance, url: string, payload: unknown) => instance.api.inject({ method: 'POST', url, headers: auth, payload: payload as object });

  /** Retries while the answer is "not yet" (404, or 503 while a partition moves); fails with the last answer after `timeoutMs`. */
  async function answered(request: () => Promise<{ statusCode: number; body: string }>, accept: (code: number) => boolean = (code) => code === 200, timeoutMs = 60_000) {
    let last: { statusCode: number; body: string } | undefined;
    return eventually(() => `an accepted answer (last: ${last?.statusCode} ${last?.body})`, async () => {
      last = await request();
      return accept(last.statusCode) ? last : undefined;
    }, { timeoutMs });
  }
  const profileByCustomerId = (instance: Instance, customerId: string) =>
    answered(() => post(instance, '/userprofile/v1/resolve/o/a/1?fields=user_identities,user_attributes', { environment_type: 'production', identity: { type: 'customer_id', value: customerId } }));
  const search = (instance: Instance, known: Record<string, string>) => answered(() => post(instance, '/v1/search', { known_identities: known }));
  const mpidOf = (res: { body: string }) => (JSON.parse(res.body) as { mpid: string }).mpid;

  it('accepts the documentation\'s batch without MPID verbatim, gives it an MPID, and finds it by customer id and by email; a batch with only the email lands on the same profile', async () => {
    const email = `${id('john')}@example.com`;
    const customerid = id('JohnSmith911');
    const docBatch = {
      events: [{ data: { event_name: 'Test Event', custom_event_type: 'other', custom_attributes: { color: 'red' } }, event_type: 'custom_event' }],
      environment: 'production',
      user_attributes: { $firstname: 'John', $lastname: 'Smith' },
      user_identities: { email, customerid },
    };
    const accepted = await post(a, '/v2/events', docBatch);
    expect(accepted.statusCode, accepted.body).toBe(202);
    const byCustomer = await profileByCustomerId(b, customerid);
    expect(byCustomer.statusCode, byCustomer.body).toBe(200);
    const mpid = mpidOf(byCustomer);
    expect(mpid).toMatch(/^-?[0-9]{1,19}$/);
    expect(byCustomer.body).toContain('"$firstname"');
    const identified = await post(a, '/v1/identify', { environment: 'production', known_identities: { email } });
    expect(identified.statusCode, identified.body).toBe(200);
    expect(JSON.parse(identified.body)).toEqual({ context: null, mpid, matched_identities: { email }, is_ephemeral: false, is_logged_in: true });
    expect((await post(b, '/v2/events', { user_identities: { email }, user_attributes: { tier: 'gold' } })).statusCode).toBe(202);
    const reread = await answered(async () => {
      const res = await profileByCustomerId(a, customerid);
      return res.body.includes('"tier"') ? res : { ...res, statusCode: 0 };
    });
    expect(reread.statusCode, reread.body).toBe(200);
    expect(mpidOf(reread)).toBe(mpid);
  }, 120_000);

  it('resolves an Avro batch without MPID that any Kafka client produced, unkeyed, to a raw topic', async () => {
    const serde = createAvroSerde<Batch>({ registry: createSchemaRegistry(schemaRegistryUrl()), schema: SCHEMAS.batch });
    const customerId = id('kafka-client');
    const batch = fromJsonBatch({ source_request_id: id('raw-1'), user_identities: { customerid: customerId, email: `${customerId}@x` }, user_attributes: { via: 'kafka' } }, { workspaceId: '1', source: 'web' });
    expect(batch.mpid).toBeNull();
    await kafka.send({ topic: rawTopic, messages: [{ key: null, value: await serde.serialize(rawTopic, batch) }] });
    const found = await profileByCustomerId(a, customerId);
    expect(found.statusCode, found.body).toBe(200);
    expect(mpidOf(await search(b, { email: `${customerId}@x` }))).toBe(mpidOf(found));
  }, 120_000);

  it('finds a returning user by each identity type it has, user and device', async () => {
    const identities = { customerid: id('ret'), email: `${id('ret')}@x`, other2: id('o2'), mobile_number: `+1${Date.now()}`, phone_number_2: id('p2'), google: id('g') };
    const device = { ios_idfv: id('idfv'), android_aaid: id('aaid'), device_application_stamp: id('das') };
    const created = await post(a, '/v1/identify', { known_identities: { ...identities, ...device } });
    expect(created.statusCode, created.body).toBe(200);
    const mpid = mpidOf(created);
    for (const [type, value] of Object.entries({ ...identities, ...device })) {
      const instance = type.length % 2 === 0 ? a : b;
      expect((await post(instance, '/v2/events', type in device ? { device_info: { [type === 'android_aaid' ? 'android_advertising_id' : type]: value } } : { user_identities: { [type]: value } })).statusCode, type).toBe(202);
      const res = await search(instance, { [type]: value });
      expect(res.statusCode, `${type}: ${res.body}`).toBe(200);
      expect(mpidOf(res), type).toBe(mpid);
    }
  }, 180_000);

  it('converts an anonymous device user who logs in with a new customer id, and resolves a known one to its own profile', async () => {
    const device = id('anon-device');
    const anonymous = await post(a, '/v1/identify', { known_identities: { ios_idfv: device } });
    expect(anonymous.statusCode, anonymous.body).toBe(200);
    expect(JSON.parse(anonymous.body).is_logged_in).toBe(false);
    const login = await post(b, '/v1/login', { known_identities: { customerid: id('new-login'), ios_idfv: device } });
    expect(login.statusCode, login.body).toBe(200);
    expect(mpidOf(login)).toBe(mpidOf(anonymous));
    expect(JSON.parse(login.body).is_logged_in).toBe(true);
    // A known user logging in on another anonymous device: the device now finds the known user.
    const known = mpidOf(await post(a, '/v1/identify', { known_identities: { customerid: id('known') } }));
    const other = mpidOf(await post(a, '/v1/identify', { known_identities: { android_uuid: id('other-device') } }));
    expect(other).not.toBe(known);
    expect(mpidOf(await post(b, '/v1/login', { known_identities: { customerid: id('known'), android_uuid: id('other-device') } }))).toBe(known);
    expect(mpidOf(await search(a, { android_uuid: id('other-device') }))).toBe(known);
    // Logout: a new anonymous user for the device.
    const out = await post(a, '/v1/logout', { known_identities: { android_uuid: id('other-device') } });
    expect(out.statusCode, out.body).toBe(200);
    expect(mpidOf(out)).not.toBe(known);
  }, 180_000);

  it('refuses identities of two users: 409 over HTTP, a dead letter naming both MPIDs from a raw batch', async () => {
    const ann = mpidOf(await post(a, '/v1/identify', { known_identities: { customerid: id('ann') } }));
    const bob = mpidOf(await post(b, '/v1/identify', { known_identities: { other: id('bob') } }));
    const before = sends;
    const refused = await post(a, '/v1/identify', { known_identities: { customerid: id('ann'), other: id('bob') } });
    expect(refused.statusCode, refused.body).toBe(409);
    expect(JSON.parse(refused.body).errors[0].code).toBe('PS_ERR_API_IDENTITY_CONFLICT');
    expect(refused.body).toContain(ann);
    expect(refused.body).toContain(bob);
    expect(sends).toBe(before);
    // The same through Kafka: the resolver dead-letters it.
    const accepted = await post(b, '/v2/events', { source_request_id: id('conflict'), user_identities: { customerid: id('ann'), other: id('bob') } });
    expect(accepted.statusCode).toBe(202);
    const { readTopic } = await import('../../support/topic-reader.ts');
    const dead = (await readTopic(kafkaBrokers(), deployment.app.deadLetterTopic, 1, 60_000)).map((r) => ({ code: r.message.headers?.['x-error-code']?.toString(), message: r.message.headers?.['x-error-message']?.toString() ?? '' }));
    expect(dead.map((d) => d.code)).toEqual(['PS_ERR_IDENTITY_CONFLICT']);
    expect(dead[0]!.message).toContain(ann);
    expect(dead[0]!.message).toContain(bob);
    expect(mpidOf(await search(a, { other: id('bob') }))).toBe(bob);
  }, 120_000);

  it('agrees on one MPID when two instances get the first batches of a new user at the same moment', async () => {
    const [pa, pb] = [(await ownedBy(a))[0]!, (await ownedBy(b))[0]!];
    expect(pa).not.toBe(pb);
    const serde = createAvroSerde<Batch>({ registry: createSchemaRegistry(schemaRegistryUrl()), schema: SCHEMAS.batch });
    const users = Array.from({ length: 10 }, (_, i) => id(`race-${i}`));
    const messages = async (partition: number, withEmail: boolean) =>
      Promise.all(users.map(async (u, i) => ({
        partition,
        key: null,
        value: await serde.serialize(rawTopic, fromJsonBatch({ source_request_id: `${u}-${partition}-${i}`, user_identities: withEmail ? { customerid: u, email: `${u}@x` } : { customerid: u } }, { workspaceId: '1', source: 'web' })),
      })));
    const [first, second] = await Promise.all([messages(pa, true), messages(pb, false)]);
    // One batch of each user to a partition instance A routes, one to a partition B routes, sent together.
    await Promise.all([kafka.send({ topic: rawTopic, messages: first }), kafka.send({ topic: rawTopic, messages: second })]);
    // And the IDSync API: the same new user identified on both instances at once.
    const racer = id('identify-race');
    const [ia, ib] = await Promise.all([post(a, '/v1/identify', { known_identities: { customerid: racer } }), post(b, '/v1/identify', { known_identities: { customerid: racer } })]);
    expect([ia.statusCode, ib.statusCode], `${ia.body} ${ib.body}`).toEqual([200, 200]);
    expect(mpidOf(ia)).toBe(mpidOf(ib));
    for (const u of users) {
      const profile = await answered(async () => {
        const res = await profileByCustomerId(a, u);
        return res.body.includes('"email"') ? res : { ...res, statusCode: 0 };
      });
      expect(profile.statusCode, `${u}: ${profile.body}`).toBe(200);
      const mpid = mpidOf(profile);
      expect(mpidOf(await search(b, { email: `${u}@x` })), u).toBe(mpid);
    }
  }, 180_000);

  it('modifies a user\'s identities: the new value finds the user, the old one no longer does', async () => {
    const mpid = mpidOf(await post(a, '/v1/identify', { known_identities: { customerid: id('mod'), email: `${id('old')}@x` } }));
    const modified = await post(b, `/v1/${mpid}/modify`, { identity_changes: [{ identity_type: 'email', old_value: `${id('old')}@x`, new_value: `${id('new')}@x` }] });
    expect(modified.statusCode, modified.body).toBe(200);
    expect(JSON.parse(modified.body)).toMatchObject({ mpid, matched_identities: { email: `${id('new')}@x` }, is_ephemeral: false });
    expect(mpidOf(await search(a, { email: `${id('new')}@x` }))).toBe(mpid);
    // modify answered once the old claim was gone: no waiting here.
    expect((await post(a, '/v1/search', { known_identities: { email: `${id('old')}@x` } })).statusCode).toBe(404);
    const taken = mpidOf(await post(a, '/v1/identify', { known_identities: { customerid: id('taken') } }));
    const conflict = await post(a, `/v1/${mpid}/modify`, { identity_changes: [{ identity_type: 'customerid', old_value: id('mod'), new_value: id('taken') }] });
    expect(conflict.statusCode, conflict.body).toBe(409);
    expect(conflict.body).toContain(taken);
  }, 120_000);

  it('refuses unknown identity types, empty and over-long values with 400 and their paths, producing nothing', async () => {
    const before = sends;
    const cases: Array<[string, unknown, string[]]> = [
      ['/v2/events', { user_identities: { customerid: 'x', facebookid: 'y' } }, ['$.user_identities.facebookid']],
      ['/v2/events', { user_identities: { email: '' } }, ['$.user_identities.email']],
      ['/v2/events', { user_identities: { other2: 'x'.repeat(1025) } }, ['$.user_identities.other2']],
      ['/v2/events', { device_info: { ios_idfv: ' ' } }, ['$.device_info.ios_idfv']],
      ['/v2/bulkevents', [{ user_identities: { email: 'ok@x' } }, { user_identities: { nope: 'x' } }], ['$[1].user_identities.nope']],
      ['/v1/identify', { known_identities: { customerid: 'ok', unknown_type: 'x' } }, ['$.known_identities.unknown_type']],
      ['/v1/identify', { known_identities: { email: '' } }, ['$.known_identities.email']],
      ['/v1/login', { known_identities: { customerid: 'c'.repeat(2000) } }, ['$.known_identities.customerid']],
      ['/v1/search', { known_identities: {} }, ['$.known_identities']],
      ['/v1/1/modify', { identity_changes: [{ identity_type: 'ios_idfv', new_value: 'x' }, { identity_type: 'email', new_value: '' }] }, ['$.identity_changes[0].identity_type', '$.identity_changes[1].new_value']],
    ];
    for (const [url, payload, paths] of cases) {
      const res = await post(a, url, payload);
      expect(res.statusCode, `${url} ${JSON.stringify(payload).slice(0, 80)}: ${res.body}`).toBe(400);
      const body = JSON.parse(res.body) as { problems: Array<{ path: string }> };
      expect(body.problems.map((p) => p.path), url).toEqual(paths);
    }
    expect(sends).toBe(before);
  }, 60_000);
});
