import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IDENTITY_INDEX_STORE, type IdentityOwner } from '../../../src/app/topology/identity-index-processor.ts';
import { PROFILES_STORE } from '../../../src/app/topology/profile-node-names.ts';
import { buildProfileTopology } from '../../../src/app/topology/profile-topology.ts';
import { parseAppConfig } from '../../../src/config/app-config.ts';
import { parseIdentityStrategy } from '../../../src/config/identity-strategy-config.ts';
import type { IdentityStrategy } from '../../../src/identity/identity-strategy.ts';
import { RESOLUTION_INTENT_HEADER } from '../../../src/identity/resolution-state.ts';
import { parseIntegrationsConfig } from '../../../src/config/integrations-config.ts';
import { avroTypeFor } from '../../../src/schema/avro-type.ts';
import type { Batch } from '../../../src/schema/batch.ts';
import type { EnrichedBatch } from '../../../src/schema/enriched-batch.ts';
import type { HistoryRecord } from '../../../src/schema/history-record.ts';
import type { ProfileState } from '../../../src/schema/profile-state.ts';
import { SCHEMAS } from '../../../src/schema/schema-catalog.ts';
import { TopologyTestDriver, bufferSerde, stringSerde, type Serde, type TestInputTopic } from '../../../src/streams/index.ts';
import { batch, deviceInfo, identities } from '../profiles/support/batches.ts';

function plainAvro<T>(schema: object): Serde<T> {
  const type = avroTypeFor(schema);
  return { serialize: (_t, v) => type.toBuffer(v), deserialize: (_t, b) => type.fromBuffer(b) as T };
}

const T0 = 1_780_000_000_000;
const app = parseAppConfig('application_id: shop\nsources: [web]\n', 'app.yaml');
const { integrations } = parseIntegrationsConfig('integrations:\n  - name: all\n    forward_profile_only_batches: true\n', { file: 'integrations.yaml', applicationId: 'shop' });
const serdes = {
  batch: plainAvro<Batch>(SCHEMAS.batch),
  enriched: plainAvro<EnrichedBatch>(SCHEMAS['enriched-batch']),
  history: plainAvro<HistoryRecord>(SCHEMAS['history-record']),
};

describe('identity resolution in the test driver', () => {
  let driver: TopologyTestDriver;
  let web: TestInputTopic<string, Batch>;
  let n = 0;

  function start(identity?: IdentityStrategy): void {
    driver = new TopologyTestDriver(buildProfileTopology({ app, integrations, ...(identity ? { identity } : {}) }, serdes, pino({ level: 'silent' })), { applicationId: 'shop', deadLetterTopic: 'shop.dlq' });
    web = driver.createInputTopic('shop.raw.web', stringSerde, serdes.batch);
  }
  beforeEach(() => start());
  afterEach(async () => driver.close());

  /** Sends a batch without MPID (unkeyed unless `key`), returns the MPID of the enriched batch it became. */
  async function send(fields: Partial<Batch>, options: { key?: string; intent?: string } = {}): Promise<string | undefined> {
    n++;
    const b = batch({ id: `b${n}`, mpid: null, timestamp_unixtime_ms: T0 + n * 1000, ...fields });
    await web.pipeInput(options.key ?? null, b, b.timestamp_unixtime_ms!, options.intent ? { [RESOLUTION_INTENT_HEADER]: options.intent } : {});
    const out = await driver.createOutputTopic('shop.enriched.all', stringSerde, serdes.enriched).readRecords();
    expect(out.length).toBeLessThanOrEqual(1);
    // A resolved batch carries its MPID; one keyed by MPID without it keeps the key as its MPID.
    if (out.length === 1 && options.key === undefined) expect(out[0]!.value!.batch.mpid).toBe(out[0]!.key);
    return out[0]?.key ?? undefined;
  }
  const claim = (key: string) => driver.getKeyValueStore<string, IdentityOwner>(IDENTITY_INDEX_STORE).get(key);
  async function deadLetters(): Promise<Array<{ code: string; message: string }>> {
    const records = await driver.createOutputTopic('shop.dlq', stringSerde, bufferSerde).readRecords();
    return records.map((r) => ({ code: String(r.headers['x-error-code']), message: String(r.headers['x-error-message']) }));
  }

  it('mints a signed 64-bit MPID for a new user, stores the profile under it and claims every identity', async () => {
    const mpid = await send({ user_identities: identities({ email: 'john@example.com', customer_id: 'JohnSmith911' }) });
    expect(mpid).toMatch(/^-?[0-9]{1,19}$/);
    expect(BigInt(mpid!)).not.toBe(0n);
    const profile = await driver.getKeyValueStore<string, ProfileState>(PROFILES_STORE).get(mpid!);
    expect(profile?.user_identities.customer_id?.value).toBe('JohnSmith911');
    expect(await claim('customer_id:JohnSmith911')).toMatchObject({ mpid, known: true });
    expect(await claim('email:john@example.com')).toMatchObject({ mpid, known: true });
  });

  it('finds a returning user by any one of its identities, user or device', async () => {
    const mpid = await send({
      user_identities: identities({ customer_id: 'c1', email: 'e1@x', other_id_2: 'o2', mobile_number: '+15550001' }),
      device_info: deviceInfo({ ios_idfv: 'idfv-1', device_application_stamp: 'das-1' }),
    });
    for (const only of [{ customer_id: 'c1' }, { email: 'e1@x' }, { other_id_2: 'o2' }, { mobile_number: '+15550001' }]) {
      expect(await send({ user_identities: identities(only) }), JSON.stringify(only)).toBe(mpid);
    }
    expect(await send({ device_info: deviceInfo({ ios_idfv: 'idfv-1' }) })).toBe(mpid);
    expect(await send({ device_info: deviceInfo({ device_application_stamp: 'das-1' }) })).toBe(mpid);
  });

  it('resolves a batch keyed by an identity like an unkeyed one, and leaves batches keyed by MPID to the merge', async () => {
    const mpid = await send({ user_identities: identities({ email: 'k@x' }) }, { key: 'email:k@x' });
    expect(await send({ user_identities: identities({ email: 'k@x' }) })).toBe(mpid);
    expect(await send({ user_identities: identities({ email: 'other@x' }) }, { key: '77' })).toBe('77');
  });

  it('converts an anonymous user who logs in with a new customer id: same MPID, the profile keeps its history', async () => {
    const anonymous = await send({ device_info: deviceInfo({ ios_idfv: 'idfv-anon' }) });
    expect(await claim('ios_idfv:idfv-anon')).toMatchObject({ mpid: anonymous, known: false });
    const known = await send({ user_identities: identities({ customer_id: 'new-login' }), device_info: deviceInfo({ ios_idfv: 'idfv-anon' }) });
    expect(known).toBe(anonymous);
    expect(await claim('ios_idfv:idfv-anon')).toMatchObject({ mpid: anonymous, known: true });
    // Now known: another new login id on that device is someone else, not a second conversion.
    const someoneElse = await send({ user_identities: identities({ customer_id: 'second-login' }), device_info: deviceInfo({ ios_idfv: 'idfv-anon' }) });
    expect(someoneElse).not.toBe(anonymous);
  });

  it('resolves an anonymous device to the known user who logs in on it; the anonymous profile stays as it was', async () => {
    const knownUser = await send({ user_identities: identities({ customer_id: 'alice' }) });
    const anonymous = await send({ device_info: deviceInfo({ android_uuid: 'shared-tablet' }), user_attributes: Object.assign(Object.create(null), { seen: 'yes' }) });
    expect(anonymous).not.toBe(knownUser);
    expect(await send({ user_identities: identities({ customer_id: 'alice' }), device_info: deviceInfo({ android_uuid: 'shared-tablet' }) })).toBe(knownUser);
    // The device now finds Alice; the anonymous profile is neither merged nor deleted.
    expect(await send({ device_info: deviceInfo({ android_uuid: 'shared-tablet' }) })).toBe(knownUser);
    const left = await driver.getKeyValueStore<string, ProfileState>(PROFILES_STORE).get(anonymous!);
    expect(left?.workspaces.ws1?.user_attributes.seen?.value).toBe('yes');
  });

  it('dead-letters a batch whose unique identities belong to two users, naming both MPIDs, and merges nothing', async () => {
    start(parseIdentityStrategy('unique_identities: [customer_id, email]\n', 'identity.yaml'));
    const a = await send({ user_identities: identities({ customer_id: 'ann' }) });
    const b = await send({ user_identities: identities({ email: 'bob@x' }) });
    expect(await send({ user_identities: identities({ customer_id: 'ann', email: 'bob@x' }) })).toBeUndefined();
    const [dead] = await deadLetters();
    expect(dead?.code).toBe('PS_ERR_IDENTITY_CONFLICT');
    expect(dead?.message).toContain(a);
    expect(dead?.message).toContain(b);
    expect(await claim('email:bob@x')).toMatchObject({ mpid: b });
  });

  it('with drop_identity, merges into the higher-priority user without the other user\'s unique identity', async () => {
    start(parseIdentityStrategy('unique_identities: [customer_id, email]\non_conflict: drop_identity\n', 'identity.yaml'));
    const a = await send({ user_identities: identities({ customer_id: 'ann' }) });
    const b = await send({ user_identities: identities({ email: 'bob@x' }) });
    expect(await send({ user_identities: identities({ customer_id: 'ann', email: 'bob@x' }) })).toBe(a);
    const annProfile = await driver.getKeyValueStore<string, ProfileState>(PROFILES_STORE).get(a!);
    expect(annProfile?.user_identities.email).toBeUndefined();
    expect(await claim('email:bob@x')).toMatchObject({ mpid: b });
  });

  it('moves a non-unique identity to the user a customer id decides, keeping both profiles', async () => {
    const a = await send({ user_identities: identities({ customer_id: 'ann' }) });
    const b = await send({ user_identities: identities({ email: 'shared@x' }) });
    expect(await send({ user_identities: identities({ customer_id: 'ann', email: 'shared@x' }) })).toBe(a);
    expect(await claim('email:shared@x')).toMatchObject({ mpid: a });
    expect(await driver.getKeyValueStore<string, ProfileState>(PROFILES_STORE).get(b!)).toBeDefined();
  });

  it('gives a logout a new anonymous user for the device', async () => {
    const alice = await send({ user_identities: identities({ customer_id: 'alice' }), device_info: deviceInfo({ ios_idfv: 'd1' }) });
    const afterLogout = await send({ device_info: deviceInfo({ ios_idfv: 'd1' }) }, { intent: 'logout' });
    expect(afterLogout).not.toBe(alice);
    expect(await claim('ios_idfv:d1')).toMatchObject({ mpid: afterLogout, known: false });
    expect(await claim('customer_id:alice')).toMatchObject({ mpid: alice });
  });

  it('dead-letters a batch without MPID that has no identity, or an empty one', async () => {
    expect(await send({})).toBeUndefined();
    expect(await send({ user_identities: identities({ email: '  ' }) })).toBeUndefined();
    expect((await deadLetters()).map((d) => d.code)).toEqual(['PS_ERR_IDENTITY_INVALID', 'PS_ERR_IDENTITY_INVALID']);
  });

  it('never hands out one MPID twice, even with the same random bits', async () => {
    driver = new TopologyTestDriver(buildProfileTopology({ app, integrations }, serdes, pino({ level: 'silent' }), {}, {}, { random16: () => 7 }), { applicationId: 'shop', deadLetterTopic: 'shop.dlq' });
    web = driver.createInputTopic('shop.raw.web', stringSerde, serdes.batch);
    const mpids = new Set<string | undefined>();
    for (let i = 0; i < 50; i++) mpids.add(await send({ user_identities: identities({ customer_id: `user-${i}` }) }));
    expect(mpids.size).toBe(50);
    expect(mpids.has(undefined)).toBe(false);
  });
});
