import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ApiKeyStore, hashSecret } from '../../../src/api/api-keys.ts';
import { buildApi } from '../../../src/api/build-app.ts';
import type { BatchSink } from '../../../src/api/batch-sink.ts';
import type { Batch } from '../../../src/schema/batch.ts';
import type { ProfileState } from '../../../src/schema/profile-state.ts';
import { MemoryLookup } from './support/memory-lookup.ts';

const SECRET = 'signing-secret-ws1';
const keys = new ApiKeyStore([
  { key: 'key-sign-0001', workspaces: ['ws1'], secretHash: hashSecret(SECRET), signingSecret: SECRET },
  { key: 'key-basic-0002', workspaces: ['ws1'], secretHash: hashSecret('basic-only') },
]);

/** The documented rule, written out here: hex HMAC-SHA256(secret, METHOD \n Date \n path + body). */
function sign(secret: string, method: string, date: string, path: string, body = ''): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${method}\n${date}\n${path}${body}`, 'utf8').digest('hex');
}

/** `20170712T224127Z`, the ISO 8601 basic form mParticle's docs use, `offsetMs` from now. */
function isoBasic(offsetMs = 0): string {
  return new Date(Date.now() + offsetMs).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

class RecordingSink implements BatchSink {
  readonly sent: Batch[] = [];
  async send(_topic: string, batches: readonly Batch[]): Promise<void> {
    this.sent.push(...batches);
  }
}

describe('mParticle HMAC request signing (x-mp-key, Date, x-mp-signature) instead of Basic', () => {
  let app: FastifyInstance;
  let sink: RecordingSink;
  let audit: Array<Record<string, unknown>>;
  afterEach(async () => app.close());

  async function api(maxFailuresPerKey = 100): Promise<FastifyInstance> {
    sink = new RecordingSink();
    audit = [];
    const stream = new Writable({ write(chunk, _e, cb) { for (const l of String(chunk).split('\n').filter(Boolean)) audit.push(JSON.parse(l)); cb(); } });
    app = await buildApi({
      readiness: { readiness: () => ({ ready: true, detail: {} }) },
      keys,
      lookup: new MemoryLookup(new Map<string, ProfileState>()),
      ingest: { sink, rawTopicOf: () => 'app.raw.web', defaultSource: 'web' },
      auth: { failureDelayMs: 0, maxFailuresPerKey, maxFailuresPerAddress: 1000 },
      auditLogger: pino({ level: 'info' }, stream),
    });
    return app;
  }

  const body = JSON.stringify({ mpid: '42', source_request_id: 'signed-1', user_attributes: { tier: 'gold' } });
  const post = (headers: Record<string, string>, payload = body) => app.inject({ method: 'POST', url: '/v2/events', headers: { 'content-type': 'application/json', ...headers }, payload });

  it('accepts a batch signed over the exact body; the audit log says the key signed', async () => {
    await api();
    const date = isoBasic();
    const res = await post({ 'x-mp-key': 'key-sign-0001', date, 'x-mp-signature': sign(SECRET, 'POST', date, '/v2/events', body) });
    expect(res.statusCode, res.body).toBe(202);
    expect(sink.sent.map((b) => [b.source_request_id, b.workspace_id])).toEqual([['signed-1', 'ws1']]);
    expect(audit.filter((l) => l.event === 'api_key_used').map((l) => [l.key, l.scheme])).toEqual([['key-sign-0001', 'signature']]);
    expect(JSON.stringify(audit)).not.toContain(SECRET);
  });

  it('signs GETs over the path with its query, with an ISO 8601 extended or HTTP date too', async () => {
    await api();
    const path = '/userprofile/v1/1/1/ws1/42?fields=user_attributes';
    for (const date of [new Date().toISOString().replace(/\.\d{3}/, ''), new Date().toUTCString()]) {
      const res = await app.inject({ method: 'GET', url: path, headers: { 'x-mp-key': 'key-sign-0001', date, 'x-mp-signature': sign(SECRET, 'GET', date, path).toUpperCase() } });
      expect(res.statusCode, `${date}: ${res.body}`).toBe(404); // authenticated; no such profile
    }
  });

  it.each([
    ['a body changed after signing', (d: string) => ({ headers: { 'x-mp-key': 'key-sign-0001', date: d, 'x-mp-signature': sign(SECRET, 'POST', d, '/v2/events', body) }, payload: body.replace('gold', 'platinum') }), 'bad_signature'],
    ['the wrong secret', (d: string) => ({ headers: { 'x-mp-key': 'key-sign-0001', date: d, 'x-mp-signature': sign('guess', 'POST', d, '/v2/events', body) }, payload: body }), 'bad_signature'],
    ['another path', (d: string) => ({ headers: { 'x-mp-key': 'key-sign-0001', date: d, 'x-mp-signature': sign(SECRET, 'POST', d, '/v2/bulkevents', body) }, payload: body }), 'bad_signature'],
    ['a key without a signing secret', (d: string) => ({ headers: { 'x-mp-key': 'key-basic-0002', date: d, 'x-mp-signature': sign('basic-only', 'POST', d, '/v2/events', body) }, payload: body }), 'bad_signature'],
    ['an unknown key', (d: string) => ({ headers: { 'x-mp-key': 'key-none-0003', date: d, 'x-mp-signature': sign(SECRET, 'POST', d, '/v2/events', body) }, payload: body }), 'unknown_key'],
    ['a Date 6 minutes old (a replayed capture)', () => { const d = isoBasic(-6 * 60_000); return { headers: { 'x-mp-key': 'key-sign-0001', date: d, 'x-mp-signature': sign(SECRET, 'POST', d, '/v2/events', body) }, payload: body }; }, 'stale_date'],
    ['an unreadable Date', () => ({ headers: { 'x-mp-key': 'key-sign-0001', date: 'yesterday', 'x-mp-signature': sign(SECRET, 'POST', 'yesterday', '/v2/events', body) }, payload: body }), 'malformed'],
    ['no Date header', () => ({ headers: { 'x-mp-key': 'key-sign-0001', 'x-mp-signature': 'ab' }, payload: body }), 'malformed'],
  ])('refuses %s with 401 and produces nothing', async (_what, make, reason) => {
    await api();
    const { headers, payload } = make(isoBasic());
    const res = await post(headers as Record<string, string>, payload);
    expect(res.statusCode, res.body).toBe(401);
    expect(res.json().error).toBe('PS_ERR_API_UNAUTHORIZED');
    expect(sink.sent).toEqual([]);
    expect(audit.filter((l) => l.event === 'auth_failed').map((l) => l.reason)).toEqual([reason]);
  });

  it('counts wrong signatures like wrong secrets: 429 with Retry-After past the limit', async () => {
    await api(3);
    const date = isoBasic();
    const wrong = { 'x-mp-key': 'key-sign-0001', date, 'x-mp-signature': sign('guess', 'POST', date, '/v2/events', body) };
    for (let i = 0; i < 3; i++) expect((await post(wrong)).statusCode).toBe(401);
    const refused = await post({ ...wrong, 'x-mp-signature': sign(SECRET, 'POST', date, '/v2/events', body) });
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error).toBe('PS_ERR_API_AUTH_THROTTLED');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('signing_secret_file in api-keys.yaml', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ps-signing-'));
  const yaml = (file: string) => `api_keys:\n  - key: key-sign-0001\n    secret_hash: "${hashSecret(SECRET)}"\n    workspaces: ["ws1"]\n    signing_secret_file: ${file}\n`;

  it('reads the secret from a file beside api-keys.yaml, without its trailing newline', () => {
    writeFileSync(join(dir, 'key-sign-0001.secret'), `${SECRET}\n`);
    const store = ApiKeyStore.parse(yaml('key-sign-0001.secret'), join(dir, 'api-keys.yaml'));
    expect(store.get('key-sign-0001')?.signingSecret).toBe(SECRET);
  });

  it('refuses a file that does not hold the secret secret_hash was made from, or is missing, naming the entry', () => {
    writeFileSync(join(dir, 'other.secret'), 'another secret');
    expect(() => ApiKeyStore.parse(yaml('other.secret'), join(dir, 'api-keys.yaml'))).toThrow(/api_keys\.0\.signing_secret_file: other\.secret does not hold the secret secret_hash was made from/);
    expect(() => ApiKeyStore.parse(yaml('missing.secret'), join(dir, 'api-keys.yaml'))).toThrow(/api_keys\.0\.signing_secret_file: cannot read missing\.secret \(ENOENT\)/);
  });
});
