import { describe, expect, it } from 'vitest';
import { ApiKeyStore, hashSecret } from '../../../src/api/api-keys.ts';
import { buildApi } from '../../../src/api/build-app.ts';
import type { BatchSink } from '../../../src/api/ingest-routes.ts';
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

  it('limits requests per API key with 429 and Retry-After', async () => {
    const app = await api(new RecordingSink(), 3);
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await app.inject({ method: 'POST', url: '/v2/events', headers: auth, payload: { mpid: '1' } })).statusCode);
    const limited = await app.inject({ method: 'POST', url: '/v2/events', headers: auth, payload: { mpid: '1' } });
    await app.close();
    expect(codes.slice(0, 3)).toEqual([202, 202, 202]);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();
    expect(limited.json().error).toBe('PS_ERR_API_RATE_LIMITED');
  });
});
