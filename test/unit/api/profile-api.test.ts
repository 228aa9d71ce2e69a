import Fastify, { type FastifyInstance } from 'fastify';
import { Gauge, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyStore, hashSecret } from '../../../src/api/api-keys.ts';
import { buildApi } from '../../../src/api/build-app.ts';
import { PROFILE_FIELDS, toProfileResponse } from '../../../src/api/profile-response.ts';
import { profileResponseSchema } from '../../../src/api/profile-routes.ts';
import { independentProfile } from '../../support/independent-profile-reference.ts';
import { mergeBatch } from '../../../src/profiles/merge-batch.ts';
import type { Batch } from '../../../src/schema/batch.ts';
import { attrs, batch, identities, T0 } from '../profiles/support/batches.ts';
import { MemoryLookup, basic } from './support/memory-lookup.ts';

const bob: Batch = batch({
  id: 'b1',
  mpid: '8000000000000000001',
  workspace_id: 'ws1',
  user_identities: identities({ customer_id: 'bob-1', email: 'bob@example.com' }),
  user_attributes: attrs({ favourite_drink: 'Coke', age: 42, tags: ['a', 'b'], ['__proto__']: 'plain' }),
});

describe('Profile API', () => {
  const keys = new ApiKeyStore([
    { key: 'key-ws1-0001', workspaces: ['ws1'], secretHash: hashSecret('secret-one') },
    { key: 'key-ws2-0002', workspaces: ['ws2'], secretHash: hashSecret('secret-two') },
  ]);
  const lookup = new MemoryLookup(new Map([[bob.mpid!, independentProfile([bob])!]]));
  let app: FastifyInstance;
  const url = `/userprofile/v1/1/2/ws1/${bob.mpid}?fields=user_identities,user_attributes,audience_memberships`;
  const auth = { authorization: basic('key-ws1-0001', 'secret-one') };

  beforeAll(async () => {
    app = await buildApi({ readiness: { readiness: () => ({ ready: true, detail: {} }) }, lookup, keys });
  });
  afterAll(async () => app.close());

  it('returns the profile in mParticle\'s shape, with a freshness header', async () => {
    const res = await app.inject({ url, headers: auth });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-profile-stream-offsets']).toBe('raw.web:0@41');
    const body = res.json();
    expect(body.mpid).toBe('8000000000000000001');
    expect(body.user_identities).toEqual([
      { type: 'customer_id', encoding: 'none', value: 'bob-1' },
      { type: 'email', encoding: 'none', value: 'bob@example.com' },
    ]);
    // JSON.parse keeps "__proto__" as an own key, so the attribute named __proto__ is visible here.
    expect(Object.keys(body.user_attributes).sort()).toEqual(['__proto__', 'age', 'favourite_drink', 'tags']);
    expect(body.user_attributes.favourite_drink).toBe('Coke');
    expect(body.user_attributes.age).toBe('42');
    expect(body.user_attributes.tags).toEqual(['a', 'b']);
    expect(Object.getOwnPropertyDescriptor(body.user_attributes, '__proto__')?.value).toBe('plain');
    expect(body.audience_memberships).toEqual([]);
    expect(body.device_identities).toBeUndefined();
  });

  it('requires fields and names the allowed values', async () => {
    const res = await app.inject({ url: `/userprofile/v1/1/2/ws1/${bob.mpid}`, headers: auth });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('PS_ERR_API_BAD_FIELDS');
    expect(res.json().message).toContain('user_identities, device_identities, user_attributes, audience_memberships, attribution, calculated_attributes');
    expect((await app.inject({ url: `/userprofile/v1/1/2/ws1/${bob.mpid}?fields=secrets`, headers: auth })).statusCode).toBe(400);
  });

  it('answers 404 for an unknown user and 503 with Retry-After while restoring, never an empty profile', async () => {
    const missing = await app.inject({ url: url.replace(bob.mpid!, '123'), headers: auth });
    expect(missing.statusCode).toBe(404);
    lookup.state = 'restoring';
    const restoring = await app.inject({ url, headers: auth });
    lookup.state = 'ready';
    expect(restoring.statusCode).toBe(503);
    expect(restoring.headers['retry-after']).toBe('1');
    expect(restoring.json().error).toBe('PS_ERR_API_NOT_READY');
  });

  it('answers a profile changed since the last read as it is now, and the same bytes when it is read again unchanged', async () => {
    const stored = lookup.profiles.get(bob.mpid!)!;
    try {
      const before = await app.inject({ url, headers: auth });
      expect((await app.inject({ url, headers: auth })).body).toBe(before.body);
      lookup.profiles.set(bob.mpid!, mergeBatch(stored, batch({ ...bob, id: 'b1-later', timestamp_unixtime_ms: T0 + 60_000, user_attributes: attrs({ favourite_drink: 'Tea' }) })).profile);
      const after = await app.inject({ url, headers: auth });
      expect(after.statusCode).toBe(200);
      expect(after.json().user_attributes.favourite_drink).toBe('Tea');
      expect(after.body).toBe(JSON.stringify(toProfileResponse(lookup.profiles.get(bob.mpid!)!, 'ws1', new Set(['user_identities', 'user_attributes', 'audience_memberships']))));
    } finally {
      lookup.profiles.set(bob.mpid!, stored);
    }
    expect((await app.inject({ url, headers: auth })).json().user_attributes.favourite_drink).toBe('Coke');
  });

  it('resolves the immutable ID to the profile', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/userprofile/v1/resolve/1/2/ws1?fields=user_attributes',
      headers: auth,
      payload: { environment_type: 'production', identity: { type: 'customer_id', value: 'bob-1' } },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().mpid).toBe(bob.mpid);
    const unknown = await app.inject({ method: 'POST', url: '/userprofile/v1/resolve/1/2/ws1?fields=user_attributes', headers: auth, payload: { identity: { type: 'customer_id', value: 'nobody' } } });
    expect(unknown.statusCode).toBe(404);
    const wrongType = await app.inject({ method: 'POST', url: '/userprofile/v1/resolve/1/2/ws1?fields=user_attributes', headers: auth, payload: { identity: { type: 'email', value: 'bob@example.com' } } });
    expect(wrongType.statusCode).toBe(400);
    expect(wrongType.json().message).toContain('customer_id');
  });

  describe('auth', () => {
    it('no credentials: 401 with WWW-Authenticate', async () => {
      const res = await app.inject({ url });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Basic realm="profile-stream"');
    });
    it('wrong secret: 401', async () => {
      expect((await app.inject({ url, headers: { authorization: basic('key-ws1-0001', 'nope') } })).statusCode).toBe(401);
      expect((await app.inject({ url, headers: { authorization: basic('no-such-key', 'secret-one') } })).statusCode).toBe(401);
    });
    it("another workspace's key reading this workspace's attributes: 403", async () => {
      const res = await app.inject({ url, headers: { authorization: basic('key-ws2-0002', 'secret-two') } });
      expect(res.statusCode).toBe(403);
      expect(res.json().error).toBe('PS_ERR_API_FORBIDDEN_WORKSPACE');
    });
    it('secrets are stored as salted scrypt hashes, never in plain text', () => {
      const a = hashSecret('secret-one');
      const b = hashSecret('secret-one');
      expect(a).toMatch(/^scrypt\$[0-9a-f]{32}\$[0-9a-f]{64}$/);
      expect(a).not.toContain('secret-one');
      expect(a).not.toBe(b);
      expect(ApiKeyStore.parse(`api_keys:\n  - key: key-ws1-0001\n    secret_hash: "${a}"\n    workspaces: [ws1]\n`, 'k.yaml').authenticate('key-ws1-0001', 'secret-one')?.key).toBe('key-ws1-0001');
      expect(() => ApiKeyStore.parse('api_keys:\n  - key: key-ws1-0001\n    secret_hash: secret-one\n    workspaces: [ws1]\n', 'k.yaml')).toThrow(/scrypt/);
    });
  });

  it('gives calculated attributes with their definition version, overriding same-named user attributes, and when each audience was joined', async () => {
    const folded = independentProfile([bob])!;
    const ws1 = folded.workspaces['ws1']!;
    const profile = {
      ...folded,
      audience_memberships: { rich: { audience_name: 'Rich', added_ms: 1_780_000_400_000, expiration_ms: null } },
      workspaces: {
        ...folded.workspaces,
        ws1: {
          ...ws1,
          calculated_attributes: {
            favourite_drink: { value: 'Beer', updated_ms: 1_780_000_300_000, definition_version: 7 },
            plays: { value: '12', updated_ms: 1_780_000_200_000, definition_version: 9 },
            genres: { value: null, updated_ms: 1_780_000_200_000, definition_version: 3 },
          },
        },
      },
    };
    const api = await buildApi({ readiness: { readiness: () => ({ ready: true, detail: {} }) }, lookup: new MemoryLookup(new Map([[bob.mpid!, profile]])), keys });
    const res = await api.inject({ url: `/userprofile/v1/1/2/ws1/${bob.mpid}?fields=user_attributes,calculated_attributes,audience_memberships`, headers: auth });
    await api.close();
    const body = res.json();
    expect(body.user_attributes.favourite_drink).toBe('Beer');
    expect(body.user_attributes.plays).toBe('12');
    expect(body.user_attributes.genres).toBeUndefined();
    expect(body.calculated_attributes).toEqual([
      { name: 'favourite_drink', value: 'Beer', updated_timestamp_ms: 1_780_000_300_000, definition_version: 7 },
      { name: 'genres', value: null, updated_timestamp_ms: 1_780_000_200_000, definition_version: 3 },
      { name: 'plays', value: '12', updated_timestamp_ms: 1_780_000_200_000, definition_version: 9 },
    ]);
    expect(body.audience_memberships).toEqual([{ audience_id: 'rich', audience_name: 'Rich', added_timestamp_ms: 1_780_000_400_000, expiration_timestamp_ms: null }]);
  });

  it('writes exactly the bytes the documented response schema\'s serializer wrote, for every field', async () => {
    const folded = independentProfile([
      batch({
        id: 'b9',
        mpid: '8000000000000000009',
        workspace_id: 'ws1',
        user_identities: identities({ customer_id: 'c-9', other_id_2: 'o2', other_id_10: 'o10', other: 'x', email: 'quote"back\\slash@example.com' }),
        user_attributes: attrs({ name: 'Zoë \u{1F600} \u2028', ['__proto__']: 'plain', constructor: 'c', '123': 'numeric name', '7': 7.25, flag: true, list: ['a', 'b"'], big: 12345678901234, empty: '' }),
      }),
    ])!;
    const device = { device_info: {} as never, first_seen_ms: 1, last_seen_ms: 2, att_status: null, att_updated_ms: null };
    const profile = {
      ...folded,
      audience_memberships: { b: { audience_name: null, added_ms: 5, expiration_ms: null }, a: { audience_name: 'A "quoted"', added_ms: 6, expiration_ms: 9 } },
      workspaces: {
        ws1: {
          ...folded.workspaces['ws1']!,
          devices: {
            'stamp-2': { ...device, device_identities: { ios_idfv: 'v-2', android_uuid: 'u' }, install_attribution: { install_referrer: null, publisher: 'p', campaign: null, attributed_ms: null } },
            'stamp-1': { ...device, device_identities: { ios_idfv: 'v-1' }, install_attribution: null },
          },
          calculated_attributes: { '7': { value: 'calc wins', updated_ms: 3, definition_version: 2 }, none: { value: null, updated_ms: 4, definition_version: 1 }, tags: { value: ['x', 'y'], updated_ms: 4, definition_version: 1 } },
        },
      },
    };
    const allFields = new Set(PROFILE_FIELDS);
    // The route as it was: the same object, written by fastify from the documented schema (fast-json-stringify).
    const documented = Fastify();
    documented.get('/', { schema: { response: { 200: profileResponseSchema } } }, async () => toProfileResponse(profile, 'ws1', allFields));
    const expected = await documented.inject({ url: '/' });
    await documented.close();
    const api = await buildApi({ readiness: { readiness: () => ({ ready: true, detail: {} }) }, lookup: new MemoryLookup(new Map([[folded.mpid, profile]])), keys });
    const res = await api.inject({ url: `/userprofile/v1/1/2/ws1/${folded.mpid}?fields=${PROFILE_FIELDS.join(',')}`, headers: auth });
    await api.close();
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe(expected.headers['content-type']);
    expect(res.body).toBe(expected.body);
    // And the answer is the whole profile, so the comparison covered every field.
    expect(Object.keys(res.json())).toEqual(['mpid', 'created_timestamp_ms', 'last_stored_timestamp_ms', 'is_opted_out', 'limit_ad_tracking', ...PROFILE_FIELDS.filter((f) => f !== 'attribution' && f !== 'calculated_attributes'), 'calculated_attributes', 'attribution']);
  });

  it('shows only the workspace in the path: another workspace\'s attributes stay out, even for a key holding both', async () => {
    const both = batch({ id: 'b2', mpid: '8000000000000000002', workspace_id: 'ws1', user_attributes: attrs({ shared: 'ws1-value', only_ws1: 'x' }) });
    const other = batch({ id: 'b3', mpid: '8000000000000000002', workspace_id: 'ws2', user_attributes: attrs({ shared: 'ws2-value', secret_ws2: 'y' }) });
    const twoKeys = new ApiKeyStore([
      { key: 'key-ws1-0001', workspaces: ['ws1'], secretHash: hashSecret('secret-one') },
      { key: 'key-both-003', workspaces: ['ws1', 'ws2'], secretHash: hashSecret('secret-both') },
    ]);
    const api = await buildApi({ readiness: { readiness: () => ({ ready: true, detail: {} }) }, lookup: new MemoryLookup(new Map([[both.mpid!, independentProfile([both, other])!]])), keys: twoKeys });
    const path = (ws: string) => `/userprofile/v1/1/2/${ws}/${both.mpid}?fields=user_attributes`;
    const ws1 = await api.inject({ url: path('ws1'), headers: auth });
    const ws2ByWs1Key = await api.inject({ url: path('ws2'), headers: auth });
    const ws2 = await api.inject({ url: path('ws2'), headers: { authorization: basic('key-both-003', 'secret-both') } });
    await api.close();
    expect(ws1.json().user_attributes).toEqual({ shared: 'ws1-value', only_ws1: 'x' });
    expect(ws2ByWs1Key.statusCode).toBe(403);
    expect(ws2.json().user_attributes).toEqual({ shared: 'ws2-value', secret_ws2: 'y' });
  });

  it('answers unknown routes and non-JSON bodies with a stable code', async () => {
    const missing = await app.inject({ url: '/userprofile/v2/nothing', headers: auth });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toBe('PS_ERR_API_ROUTE_NOT_FOUND');
    const text = await app.inject({ method: 'POST', url: '/userprofile/v1/resolve/1/2/ws1?fields=user_attributes', headers: { ...auth, 'content-type': 'application/xml' }, payload: '<identity type="customer_id">bob-1</identity>' });
    expect(text.statusCode).toBe(415);
    expect(text.json().error).toBe('PS_ERR_API_UNSUPPORTED_MEDIA_TYPE');
    const badMpid = await app.inject({ url: '/userprofile/v1/1/2/ws1/bob?fields=user_attributes', headers: auth });
    expect(badMpid.statusCode).toBe(400);
    expect(badMpid.json().message).toContain('mpid');
  });

  it('describes every route in /openapi.json', async () => {
    const spec = (await app.inject({ url: '/openapi.json' })).json();
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining(['/userprofile/v1/{orgId}/{accountId}/{workspaceId}/{mpid}', '/userprofile/v1/resolve/{orgId}/{accountId}/{workspaceId}', '/health', '/ready', '/metrics']),
    );
    const withIngest = await buildApi({ readiness: { readiness: () => ({ ready: true, detail: {} }) }, lookup, keys, ingest: { sink: { send: async () => {} }, rawTopicOf: () => 't', defaultSource: 'web' } });
    const full = (await withIngest.inject({ url: '/openapi.json' })).json();
    await withIngest.close();
    expect(Object.keys(full.paths)).toEqual(expect.arrayContaining(['/v2/events', '/v2/bulkevents']));
    expect(Object.keys(full.paths['/v2/events'].post.responses)).toEqual(expect.arrayContaining(['202', '400', '401', '403', '413', '429', '503']));
    expect(Object.keys(spec.paths['/userprofile/v1/{orgId}/{accountId}/{workspaceId}/{mpid}'].get.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '404', '503']));
  });

  it('serves Prometheus metrics: HTTP latency and the runtime\'s registry', async () => {
    const runtime = new Registry();
    new Gauge({ name: 'profile_stream_restore_remaining_records', help: 'test', registers: [runtime] }).set(7);
    const api = await buildApi({ readiness: { readiness: () => ({ ready: true, detail: {} }) }, lookup, keys, metricsRegistries: [runtime] });
    await api.inject({ url, headers: auth });
    const res = await api.inject({ url: '/metrics' });
    await api.close();
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('profile_stream_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/userprofile/v1/:orgId/:accountId/:workspaceId/:mpid",status="200"}');
    expect(res.body).toContain('profile_stream_restore_remaining_records 7');
  });
});

describe('two instances: a request for a user the other instance owns', () => {
  const keys = new ApiKeyStore([{ key: 'key-ws1-0001', workspaces: ['ws1'], secretHash: hashSecret('secret-one') }]);
  const auth = { authorization: basic('key-ws1-0001', 'secret-one') };
  let a: FastifyInstance;
  let b: FastifyInstance;
  let addressB = '';

  beforeAll(async () => {
    // b owns everything; a owns nothing and knows b's address, as the assignment's host map would say.
    b = await buildApi({ readiness: { readiness: () => ({ ready: true, detail: {} }) }, lookup: new MemoryLookup(new Map([[bob.mpid!, independentProfile([bob])!]])), keys });
    addressB = (await b.listen({ host: '127.0.0.1', port: 0 })).replace('http://', '');
    a = await buildApi({ readiness: { readiness: () => ({ ready: true, detail: {} }) }, lookup: new MemoryLookup(new Map(), () => ({ local: false, applicationServer: addressB })), keys });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it('is forwarded to the owner and answered identically', async () => {
    const url = `/userprofile/v1/1/2/ws1/${bob.mpid}?fields=user_attributes,user_identities`;
    const direct = await b.inject({ url, headers: auth });
    const viaA = await a.inject({ url, headers: auth });
    expect(viaA.statusCode).toBe(200);
    expect(viaA.json()).toEqual(direct.json());
    expect(viaA.headers['x-profile-stream-answered-by']).toBe(addressB);
    const resolved = await a.inject({ method: 'POST', url: '/userprofile/v1/resolve/1/2/ws1?fields=user_attributes', headers: auth, payload: { identity: { type: 'customer_id', value: 'bob-1' } } });
    expect(resolved.statusCode).toBe(200);
    expect(resolved.json().mpid).toBe(bob.mpid);
  });

  it('answers 503 when the owner cannot be reached', async () => {
    const down = await buildApi({ readiness: { readiness: () => ({ ready: true, detail: {} }) }, lookup: new MemoryLookup(new Map(), () => ({ local: false, applicationServer: '127.0.0.1:1' })), keys });
    const res = await down.inject({ url: `/userprofile/v1/1/2/ws1/${bob.mpid}?fields=user_attributes`, headers: auth });
    await down.close();
    expect(res.statusCode).toBe(503);
    expect(res.json().error).toBe('PS_ERR_API_OWNER_UNREACHABLE');
  });
});
