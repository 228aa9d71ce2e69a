import pino from 'pino';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ApiKeyStore, hashSecret } from '../../../src/api/api-keys.ts';
import { buildApi, type AuthLimits } from '../../../src/api/build-app.ts';
import type { ProfileState } from '../../../src/schema/profile-state.ts';
import { MemoryLookup } from './support/memory-lookup.ts';

const keys = new ApiKeyStore([
  { key: 'key-ws1-0001', workspaces: ['ws1'], secretHash: hashSecret('secret-one') },
  { key: 'key-ws2-0002', workspaces: ['ws2'], secretHash: hashSecret('secret-two') },
]);
const basic = (key: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}` });
const url = '/userprofile/v1/1/1/ws1/42?fields=user_attributes';

/** Audit lines as parsed JSON, from a pino logger writing to memory. */
function auditSink() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({ write(chunk, _enc, cb) { for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l)); cb(); } });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

describe('credential checks under hostile use', () => {
  let app: FastifyInstance;
  afterEach(async () => app.close());

  async function api(auth: Partial<AuthLimits>, logger?: pino.Logger) {
    // No delay unless a test is about it: the refusals here would each wait the default second.
    app = await buildApi({ readiness: { readiness: () => ({ ready: true, detail: {} }) }, keys, lookup: new MemoryLookup(new Map<string, ProfileState>()), auth: { failureDelayMs: 0, ...auth }, ...(logger ? { auditLogger: logger } : {}) });
    return app;
  }
  const get = (headers: Record<string, string>, remoteAddress: string) => app.inject({ method: 'GET', url, headers, remoteAddress });

  it('answers 429 with Retry-After after a few wrong secrets for a key, and still lets the right secret in from another address', async () => {
    await api({ maxFailuresPerKey: 3, maxFailuresPerAddress: 100, windowSeconds: 60 });
    for (let i = 0; i < 3; i++) expect((await get(basic('key-ws1-0001', `guess-${i}`), '10.0.0.66')).statusCode).toBe(401);
    const refused = await get(basic('key-ws1-0001', 'guess-4'), '10.0.0.66');
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error).toBe('PS_ERR_API_AUTH_THROTTLED');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(59);
    // Even the right secret waits from the guessing address until it was verified once...
    expect((await get(basic('key-ws1-0001', 'secret-one'), '10.0.0.66')).statusCode).toBe(429);
    // ...while the owner, elsewhere, is not locked out (404: authenticated, no such profile).
    expect((await get(basic('key-ws1-0001', 'secret-one'), '10.0.0.7')).statusCode).toBe(404);
    // Verified credentials pass without scrypt, also from the throttled address.
    expect((await get(basic('key-ws1-0001', 'secret-one'), '10.0.0.66')).statusCode).toBe(404);
  });

  it('refuses an address that sprays keys, whatever key it names next', async () => {
    await api({ maxFailuresPerKey: 100, maxFailuresPerAddress: 3, windowSeconds: 60 });
    for (const k of ['nokey-001', 'nokey-002', 'nokey-003']) expect((await get(basic(k, 'x'), '10.0.0.99')).statusCode).toBe(401);
    const refused = await get(basic('key-ws2-0002', 'secret-two'), '10.0.0.99');
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error).toBe('PS_ERR_API_AUTH_THROTTLED');
    expect((await get(basic('key-ws1-0001', 'secret-one'), '10.0.0.100')).statusCode).toBe(404);
  });

  it('refuses with 503 and Retry-After when the verifier\'s queue is full, instead of queueing without bound', async () => {
    await api({ verifyConcurrency: 1, verifyQueue: 1, maxFailuresPerAddress: 1000, maxFailuresPerKey: 1000 });
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => get(basic('key-ws1-0001', `guess-${i}`), `10.0.1.${i}`)));
    const codes = answers.map((a) => a.statusCode).sort();
    expect(codes).toEqual([401, 401, 503, 503, 503, 503]);
    const busy = answers.find((a) => a.statusCode === 503)!;
    expect(busy.json().error).toBe('PS_ERR_API_AUTH_BUSY');
    expect(busy.headers['retry-after']).toBe('1');
  });

  it('answers a refused secret only after the failure delay, whether 401 or 429', async () => {
    await api({ failureDelayMs: 400, maxFailuresPerKey: 1, maxFailuresPerAddress: 100 });
    const timed = async (headers: Record<string, string>) => {
      const started = performance.now();
      const res = await get(headers, '10.0.0.44');
      return { status: res.statusCode, ms: performance.now() - started };
    };
    const wrong = await timed(basic('key-ws1-0001', 'guess'));
    const throttled = await timed(basic('key-ws1-0001', 'guess-again'));
    expect([wrong.status, throttled.status]).toEqual([401, 429]);
    expect(wrong.ms).toBeGreaterThanOrEqual(400);
    expect(throttled.ms).toBeGreaterThanOrEqual(400);
  });

  it('looks verified credentials up once per request, though the rate limiter and the route both need them', async () => {
    const counted = new ApiKeyStore([{ key: 'key-ws1-0001', workspaces: ['ws1'], secretHash: hashSecret('secret-one') }]);
    let lookups = 0;
    const verifiedKey = counted.verifiedKey.bind(counted);
    counted.verifiedKey = (key, secret) => (lookups++, verifiedKey(key, secret));
    app = await buildApi({ readiness: { readiness: () => ({ ready: true, detail: {} }) }, keys: counted, lookup: new MemoryLookup(new Map<string, ProfileState>()), auth: { failureDelayMs: 0 } });
    expect((await get(basic('key-ws1-0001', 'secret-one'), '10.0.0.8')).statusCode).toBe(404); // first time: scrypt
    lookups = 0;
    const again = await get(basic('key-ws1-0001', 'secret-one'), '10.0.0.8');
    expect(again.statusCode).toBe(404);
    // The key's first request in its bucket (the first one, not yet verified, counted against the address),
    // so the rate limiter found it verified; and the route did not look again.
    expect(again.headers['x-ratelimit-remaining']).toBe('5999');
    expect(lookups).toBe(1);
  });

  it('writes failures and key use to the audit logger, never the secret', async () => {
    const audit = auditSink();
    await api({}, audit.logger);
    await get(basic('key-ws1-0001', 'wrong-secret-xyz'), '10.0.0.5');
    await get(basic('key-ws1-0001', 'secret-one'), '10.0.0.5');
    await get({}, '10.0.0.5');
    expect(audit.lines.map((l) => [l.name, l.event, l.reason ?? null, l.key ?? null, l.address])).toEqual([
      ['audit', 'auth_failed', 'wrong_secret', 'key-ws1-0001', '10.0.0.5'],
      ['audit', 'api_key_used', null, 'key-ws1-0001', '10.0.0.5'],
      ['audit', 'auth_failed', 'missing', null, '10.0.0.5'],
    ]);
    expect(JSON.stringify(audit.lines)).not.toMatch(/wrong-secret-xyz|secret-one/);
  });
});
