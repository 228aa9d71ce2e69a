import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyStore, hashSecret } from '../../../src/api/api-keys.ts';
import { buildApi } from '../../../src/api/build-app.ts';
import { FORWARDED_HEADER } from '../../../src/api/forwarder.ts';
import type { KeyOwner } from '../../../src/api/profile-lookup.ts';
import { independentProfile } from '../../support/independent-profile-reference.ts';
import type { Batch } from '../../../src/schema/batch.ts';
import type { ProfileState } from '../../../src/schema/profile-state.ts';
import { attrs, batch, identities } from '../profiles/support/batches.ts';
import { MemoryLookup, alwaysReady, basic } from './support/memory-lookup.ts';

const keys = new ApiKeyStore([{ key: 'key-ws1-0001', workspaces: ['ws1'], secretHash: hashSecret('secret-one') }]);
const auth = { authorization: basic('key-ws1-0001', 'secret-one') };
const bob: Batch = batch({ id: 'b1', mpid: '8000000000000000001', workspace_id: 'ws1', user_identities: identities({ customer_id: 'bob-1' }), user_attributes: attrs({ tier: 'gold' }) });
const IDENTITY = 'customer_id:bob-1';
const resolve = { method: 'POST' as const, url: '/userprofile/v1/resolve/1/2/ws1?fields=user_attributes', payload: { environment_type: 'production', identity: { type: 'customer_id', value: 'bob-1' } } };

/** Three instances on real sockets: `identity` owns bob's customer id, `profile` owns bob's MPID, `front` owns nothing. */
describe('requests for keys another instance owns', () => {
  const apps: FastifyInstance[] = [];
  const lookups: Record<string, MemoryLookup> = {};
  const address: Record<string, string> = {};
  const ownerFor = (self: string) => (key: string): KeyOwner => {
    const owner = key === IDENTITY ? 'identity' : 'profile';
    return owner === self ? { local: true } : { local: false, applicationServer: address[owner] };
  };

  async function instance(name: string, profiles: Map<string, ProfileState>): Promise<FastifyInstance> {
    lookups[name] = new MemoryLookup(profiles, ownerFor(name), `raw.web:0@${name}`);
    const app = await buildApi({ readiness: alwaysReady, lookup: lookups[name], keys });
    address[name] = (await app.listen({ host: '127.0.0.1', port: 0 })).replace('http://', '');
    apps.push(app);
    return app;
  }

  let front: FastifyInstance;
  beforeAll(async () => {
    const all = new Map([[bob.mpid!, independentProfile([bob])!]]);
    // The identity index lives apart from the profiles, as the repartitioned sub-topology does.
    await instance('identity', all);
    await instance('profile', all);
    front = await instance('front', new Map());
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
  });

  it('resolve takes two hops, identity owner then MPID owner, and relays the owner\'s freshness', async () => {
    lookups.identity!.reads.length = 0;
    lookups.profile!.reads.length = 0;
    const res = await front.inject({ ...resolve, headers: auth });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ mpid: bob.mpid, user_attributes: { tier: 'gold' } });
    expect(res.headers['x-profile-stream-answered-by']).toBe(address.profile);
    expect(res.headers['x-profile-stream-offsets']).toBe('raw.web:0@profile');
    expect(lookups.identity!.reads).toEqual([`identity:${IDENTITY}`]);
    expect(lookups.profile!.reads).toEqual([`profile:${bob.mpid}`]);
    expect(lookups.front!.reads).toEqual([]);
  });

  it('a forwarded request is never forwarded again: the receiver that no longer owns the key answers 503', async () => {
    const res = await front.inject({ url: `/userprofile/v1/1/2/ws1/${bob.mpid}?fields=user_attributes`, headers: { ...auth, [FORWARDED_HEADER]: '1' } });
    expect(res.statusCode).toBe(503);
    expect(res.json().error).toBe('PS_ERR_API_NOT_READY');
    expect(res.headers['retry-after']).toBe('1');
  });

  it('relays the owner\'s 503 and Retry-After while it restores, and its 404 for an unknown user', async () => {
    lookups.profile!.state = 'restoring';
    const restoring = await front.inject({ url: `/userprofile/v1/1/2/ws1/${bob.mpid}?fields=user_attributes`, headers: auth });
    lookups.profile!.state = 'ready';
    expect(restoring.statusCode).toBe(503);
    expect(restoring.headers['retry-after']).toBe('1');
    expect(restoring.json().error).toBe('PS_ERR_API_NOT_READY');
    const unknown = await front.inject({ url: '/userprofile/v1/1/2/ws1/42?fields=user_attributes', headers: auth });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error).toBe('PS_ERR_API_PROFILE_NOT_FOUND');
  });

  it('resolve answers 503 while the identity index restores or moves, never 404', async () => {
    for (const state of ['restoring', 'moved'] as const) {
      lookups.identity!.state = state;
      const res = await front.inject({ ...resolve, headers: auth });
      lookups.identity!.state = 'ready';
      expect(res.statusCode, state).toBe(503);
      expect(res.json().error).toBe('PS_ERR_API_NOT_READY');
    }
  });

  it('answers 503 when no instance owns the partition yet (mid-rebalance)', async () => {
    const orphan = await buildApi({ readiness: alwaysReady, lookup: new MemoryLookup(new Map(), () => ({ local: false, applicationServer: undefined })), keys });
    const res = await orphan.inject({ url: `/userprofile/v1/1/2/ws1/${bob.mpid}?fields=user_attributes`, headers: auth });
    await orphan.close();
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
  });
});
