import { describe, expect, it } from 'vitest';
import { ApiKeyStore, hashSecret } from '../../../src/api/api-keys.ts';
import { buildApi } from '../../../src/api/build-app.ts';
import { inspectJsonText, nestingDepthExceeds } from '../../../src/api/json-body-parser.ts';
import type { ProfileState } from '../../../src/schema/profile-state.ts';
import { MemoryLookup } from './support/memory-lookup.ts';

const keys = new ApiKeyStore([{ key: 'key-ws1-0001', workspaces: ['ws1'], secretHash: hashSecret('s3cret') }]);
const headers = { authorization: `Basic ${Buffer.from('key-ws1-0001:s3cret').toString('base64')}`, 'content-type': 'application/json' };

async function api() {
  return buildApi({
    readiness: { readiness: () => ({ ready: true, detail: {} }) },
    keys,
    lookup: new MemoryLookup(new Map<string, ProfileState>()),
    ingest: { sink: { send: async () => {} }, rawTopicOf: (s) => (s === 'web' ? 'app.raw.web' : undefined), defaultSource: 'web' },
    dsr: { submit: async () => {}, ownerOfRequest: async () => ({ local: true }), getStatus: async () => ({ status: undefined }) },
  });
}

const deepObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe('JSON bodies', () => {
  it('counts nesting outside strings only, and stops at the limit', () => {
    expect(nestingDepthExceeds(Buffer.from(deepArray(64)), 64)).toBe(false);
    expect(nestingDepthExceeds(Buffer.from(deepArray(65)), 64)).toBe(true);
    expect(nestingDepthExceeds(Buffer.from(JSON.stringify({ s: '[[[[[[[[{{{{{{\\"[[[[' })), 2)).toBe(false);
    expect(nestingDepthExceeds(Buffer.from(JSON.stringify({ s: 'é"[[[' })), 1)).toBe(false);
  });

  it.each([
    ['POST /v2/events', '/v2/events', `{"mpid":"1","user_attributes":${deepObject(5000)}}`],
    ['POST /v2/events, arrays', '/v2/events', deepArray(5000)],
    ['POST /v2/bulkevents', '/v2/bulkevents', `[${deepObject(5000)}]`],
    ['POST resolve', '/userprofile/v1/resolve/1/1/ws1?fields=user_attributes', `{"identity":${deepObject(5000)}}`],
    ['POST /v1/dsr', '/v1/dsr', `{"workspace_id":"ws1","identity":${deepObject(5000)}}`],
  ])('answers a body nested 5,000 deep with 400 PS_ERR_API_BODY_TOO_DEEP (%s)', async (_name, url, payload) => {
    const app = await api();
    const res = await app.inject({ method: 'POST', url, headers, payload });
    await app.close();
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'PS_ERR_API_BODY_TOO_DEEP', message: 'the JSON body nests arrays and objects more than 64 levels deep' });
  });

  it('refuses invalid UTF-8, empty and malformed bodies with PS_ERR_API_INVALID_JSON', async () => {
    const app = await api();
    const invalidUtf8 = Buffer.concat([Buffer.from('{"mpid":"1","user_attributes":{"a":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}}')]);
    const answers = await Promise.all([invalidUtf8, '', '{"mpid": "1",'].map((payload) => app.inject({ method: 'POST', url: '/v2/events', headers, payload })));
    await app.close();
    expect(answers.map((a) => [a.statusCode, a.json().error])).toEqual([
      [400, 'PS_ERR_API_INVALID_JSON'],
      [400, 'PS_ERR_API_INVALID_JSON'],
      [400, 'PS_ERR_API_INVALID_JSON'],
    ]);
    expect(answers[0]!.json().message).toMatch(/UTF-8/);
    expect(answers[2]!.json().message).toMatch(/at byte 13/);
  });

  it('keeps __proto__ and constructor as plain attribute names without touching Object.prototype', async () => {
    const app = await api();
    const res = await app.inject({ method: 'POST', url: '/v2/events', headers, payload: '{"mpid":"1","user_attributes":{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}}' });
    await app.close();
    // Attribute values must be strings, numbers, booleans or lists: the objects are refused by path.
    expect(res.statusCode).toBe(400);
    expect(res.json().problems.map((p: { path: string }) => p.path).sort()).toEqual(['$.user_attributes.__proto__', '$.user_attributes.constructor']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('numbers JSON.parse would round', () => {
  it('finds them outside strings only, with their byte position', () => {
    expect(inspectJsonText(Buffer.from('{"mpid":9007199254740993}'), 64)).toEqual({ kind: 'unsafe_number', at: 8, literal: '9007199254740993' });
    expect(inspectJsonText(Buffer.from('[1e400]'), 64)).toEqual({ kind: 'unsafe_number', at: 1, literal: '1e400' });
    expect(inspectJsonText(Buffer.from('[9007199254740991, -9007199254740991, 3.141592653589793, 0.1000000000000000055]'), 64)).toBeUndefined();
    expect(inspectJsonText(Buffer.from('{"mpid":"9223372036854775807"}'), 64)).toBeUndefined();
  });

  it('refuses an erasure for an MPID sent as a number too large to be exact, instead of erasing the user it rounds to', async () => {
    const app = await api();
    const res = await app.inject({ method: 'POST', url: '/v1/dsr', headers, payload: '{"workspace_id":"ws1","mpid":9007199254740993}' });
    await app.close();
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('PS_ERR_API_UNSAFE_NUMBER');
    expect(res.json().message).toMatch(/9007199254740993 at byte 29/);
  });
});

describe('MPIDs outside signed 64-bit', () => {
  it.each([
    ['18446744073709551616', 400],
    ['9223372036854775808', 400],
    ['-9223372036854775809', 400],
    ['9223372036854775807', 404],
    ['-9223372036854775808', 404],
  ])('GET by MPID %s answers %i', async (mpid, status) => {
    const app = await api();
    const res = await app.inject({ method: 'GET', url: `/userprofile/v1/1/1/ws1/${mpid}?fields=user_attributes`, headers });
    await app.close();
    expect(res.statusCode).toBe(status);
    expect(res.json().error).toBe(status === 400 ? 'PS_ERR_API_BAD_REQUEST' : 'PS_ERR_API_PROFILE_NOT_FOUND');
    if (status === 400) expect(res.json().message).toMatch(/mpid/);
  });

  it('an erasure request for an MPID beyond 64 bits is a 400 naming the field', async () => {
    const app = await api();
    const res = await app.inject({ method: 'POST', url: '/v1/dsr', headers, payload: { workspace_id: 'ws1', mpid: '18446744073709551616' } });
    await app.close();
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/mpid/);
  });
});
