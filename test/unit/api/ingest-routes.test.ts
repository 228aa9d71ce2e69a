import { describe, expect, it } from 'vitest';
import { ApiKeyStore, hashSecret } from '../../../src/api/api-keys.ts';
import { buildApi } from '../../../src/api/build-app.ts';
import type { BatchSink } from '../../../src/api/batch-sink.ts';
import type { Batch } from '../../../src/schema/batch.ts';

const auth = { authorization: `Basic ${Buffer.from('key-ws9-0001:s3cret').toString('base64')}` };
const keys = new ApiKeyStore([{ key: 'key-ws9-0001', workspaces: ['ws9'], secretHash: hashSecret('s3cret') }]);

/** Records what would have been produced; the real producer is exercised against Kafka in test/integration/api. */
class RecordingSink implements BatchSink {
  readonly sent: Array<{ topic: string; batches: readonly Batch[] }> = [];
  async send(topic: string, batches: readonly Batch[]): Promise<void> {
    this.sent.push({ topic, batches });
  }
}

async function api(sink: BatchSink, rateLimitPerMinute?: number) {
  return buildApi({
    readiness: { readiness: () => ({ ready: true, detail: {} }) },
    keys,
    ingest: { sink, rawTopicOf: (s) => (['web', 'ios'].includes(s) ? `app.raw.${s}` : undefined), defaultSource: 'web' },
    ...(rateLimitPerMinute ? { rateLimitPerMinute } : {}),
  });
}

describe('batch ingestion over HTTP', () => {
  it('stamps the key\'s workspace, routes by source and answers 202 with the batch ids', async () => {
    const sink = new RecordingSink();
    const app = await api(sink);
    const res = await app.inject({ method: 'POST', url: '/v2/bulkevents', headers: auth, payload: [{ mpid: '1', source_request_id: 'r1', source: 'ios' }, { mpid: '2', source_request_id: 'r2' }] });
    await app.close();
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ accepted: ['r1', 'r2'] });
    expect(sink.sent.map((s) => [s.topic, s.batches.map((b) => [b.source_request_id, b.workspace_id])])).toEqual([
      ['app.raw.ios', [['r1', 'ws9']]],
      ['app.raw.web', [['r2', 'ws9']]],
    ]);
  });

  it.each([
    ['wrong types', { mpid: '1', events: [{ event_type: 'custom_event', data: { event_name: 12 } }] }, '$.events[0].data.event_name'],
    ['missing mpid and identities', { events: [] }, '$'],
    ['an mpid that is not a number', { mpid: 'bob' }, '$.mpid'],
    ['too many attributes', { mpid: '1', user_attributes: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`a${i}`, 'x'])) }, '$.user_attributes'],
  ])('rejects %s with 400 naming the problem, producing nothing', async (_name, payload, path) => {
    const sink = new RecordingSink();
    const app = await api(sink);
    const res = await app.inject({ method: 'POST', url: '/v2/events', headers: auth, payload });
    await app.close();
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('PS_ERR_API_INVALID_BATCH');
    expect(res.json().problems.map((p: { path: string }) => p.path).join(' ')).toContain(path);
    expect(sink.sent).toEqual([]);
  });

  it('rejects malformed JSON, an oversized body and a too-large bulk request, producing nothing', async () => {
    const sink = new RecordingSink();
    const app = await api(sink);
    const malformed = await app.inject({ method: 'POST', url: '/v2/events', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"mpid": "1",' });
    const huge = await app.inject({ method: 'POST', url: '/v2/events', headers: auth, payload: { mpid: '1', user_attributes: { a: 'x'.repeat(1_100_000) } } });
    const bulk = await app.inject({ method: 'POST', url: '/v2/bulkevents', headers: auth, payload: Array.from({ length: 101 }, (_, i) => ({ mpid: String(i + 1) })) });
    await app.close();
    expect(malformed.statusCode).toBe(400);
    expect(huge.statusCode).toBe(413);
    expect(huge.json().error).toBe('PS_ERR_API_PAYLOAD_TOO_LARGE');
    expect(bulk.statusCode).toBe(400);
    expect(bulk.json().message).toMatch(/100/);
    expect(sink.sent).toEqual([]);
  });

  it('a bulk request is all or nothing: one bad batch and none is produced, with its index in the path', async () => {
    const sink = new RecordingSink();
    const app = await api(sink);
    const res = await app.inject({ method: 'POST', url: '/v2/bulkevents', headers: auth, payload: [{ mpid: '1' }, { mpid: '2', events: [{ event_type: 'nope' }] }] });
    await app.close();
    expect(res.statusCode).toBe(400);
    expect(res.json().problems[0].path).toMatch(/^\$\[1\]/);
    expect(sink.sent).toEqual([]);
  });

  it('answers 401 without credentials and 503 when Kafka does not acknowledge, never 202', async () => {
    const down: BatchSink = { send: async () => Promise.reject(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:1')) };
    const app = await api(down);
    const anonymous = await app.inject({ method: 'POST', url: '/v2/events', payload: { mpid: '1' } });
    const unavailable = await app.inject({ method: 'POST', url: '/v2/events', headers: auth, payload: { mpid: '1' } });
    await app.close();
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Basic/);
    expect(unavailable.statusCode).toBe(503);
    expect(unavailable.json().error).toBe('PS_ERR_API_KAFKA_UNAVAILABLE');
    expect(unavailable.headers['retry-after']).toBeDefined();
  });

  it('a batch may name one of the key\'s workspaces; another workspace is 403 and nothing is produced', async () => {
    const twoWorkspaces = new ApiKeyStore([{ key: 'key-ws9-0001', workspaces: ['ws9', 'ws10'], secretHash: hashSecret('s3cret') }]);
    const sink = new RecordingSink();
    const app = await buildApi({ readiness: { readiness: () => ({ ready: true, detail: {} }) }, keys: twoWorkspaces, ingest: { sink, rawTopicOf: () => 'app.raw.web', defaultSource: 'web' } });
    const named = await app.inject({ method: 'POST', url: '/v2/events', headers: auth, payload: { mpid: '1', workspace_id: 'ws10' } });
    const foreign = await app.inject({ method: 'POST', url: '/v2/bulkevents', headers: auth, payload: [{ mpid: '2' }, { mpid: '3', workspace_id: 'ws1' }] });
    await app.close();
    expect(named.statusCode).toBe(202);
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json().error).toBe('PS_ERR_API_FORBIDDEN_WORKSPACE');
    expect(sink.sent.flatMap((s) => s.batches.map((b) => b.workspace_id))).toEqual(['ws10']);
  });

  it('rejects a source that is not declared instead of rerouting it', async () => {
    const sink = new RecordingSink();
    const app = await api(sink);
    const res = await app.inject({ method: 'POST', url: '/v2/events', headers: auth, payload: { mpid: '1', source: 'android' } });
    await app.close();
    expect(res.statusCode).toBe(400);
    expect(res.json().problems).toEqual([expect.objectContaining({ path: '$.source' })]);
    expect(sink.sent).toEqual([]);
  });

  it('answers with the id the processor deduplicates by: a content digest when the batch has no source_request_id', async () => {
    const app = await api(new RecordingSink());
    const res = await app.inject({ method: 'POST', url: '/v2/events', headers: auth, payload: { mpid: '1', user_attributes: { tier: 'gold' } } });
    await app.close();
    expect(res.statusCode).toBe(202);
    expect(res.json().accepted).toEqual([expect.stringMatching(/^sha256:[0-9a-f]{64}$/)]);
  });

  it('wrong secrets count against the caller\'s address, not the key, so nobody can use up a key\'s limit', async () => {
    const app = await api(new RecordingSink(), 3);
    const wrong = { authorization: `Basic ${Buffer.from('key-ws9-0001:guess').toString('base64')}` };
    const guesses: number[] = [];
    for (let i = 0; i < 4; i++) guesses.push((await app.inject({ method: 'POST', url: '/v2/events', headers: wrong, remoteAddress: '10.0.0.66', payload: { mpid: '1' } })).statusCode);
    const owner = await app.inject({ method: 'POST', url: '/v2/events', headers: auth, remoteAddress: '10.0.0.7', payload: { mpid: '1' } });
    await app.close();
    expect(guesses).toEqual([401, 401, 401, 429]);
    expect(owner.statusCode).toBe(202);
  });

  it('limits requests per API key with 429 and Retry-After', async () => {
    const app = await api(new RecordingSink(), 3);
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await app.inject({ method: 'POST', url: '/v2/events', headers: auth, payload: { mpid: '1' } })).statusCode);
    const limited = await app.inject({ method: 'POST', url: '/v2/events', headers: auth, payload: { mpid: '1' } });
    await app.close();
    expect(codes.slice(0, 3)).toEqual([202, 202, 202]);
    expect(limited.statusCode).toBe(429);
    // The limiter's own remaining window, not a fixed guess.
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(limited.json().error).toBe('PS_ERR_API_RATE_LIMITED');
  });
});
