import { describe, expect, it } from 'vitest';
import { ApiKeyStore, hashSecret } from '../../../src/api/api-keys.ts';
import { buildApi } from '../../../src/api/build-app.ts';
import type { BatchSink, IngestedPosition } from '../../../src/api/batch-sink.ts';
import type { Batch } from '../../../src/schema/batch.ts';

const auth = { authorization: `Basic ${Buffer.from('key-ws9-0001:s3cret').toString('base64')}` };
const keys = new ApiKeyStore([{ key: 'key-ws9-0001', workspaces: ['ws9'], secretHash: hashSecret('s3cret') }]);

/** Hands out offsets per topic as a broker would (one partition here), so the 202 can be checked against them. */
class OffsetSink implements BatchSink {
  readonly next = new Map<string, number>();
  async send(topic: string, batches: readonly Batch[]): Promise<IngestedPosition[]> {
    return batches.map(() => {
      const offset = this.next.get(topic) ?? 100;
      this.next.set(topic, offset + 1);
      return { topic, partition: 0, offset: String(offset) };
    });
  }
}

async function api(sink: BatchSink) {
  return buildApi({
    readiness: { readiness: () => ({ ready: true, detail: {} }) },
    keys,
    ingest: { sink, rawTopicOf: (s) => (['web', 'ios'].includes(s) ? `app.raw.${s}` : undefined), defaultSource: 'web' },
  });
}

describe('the ingestion answer', () => {
  it('gives each batch its id and where Kafka stored it, in request order across topics', async () => {
    const app = await api(new OffsetSink());
    const res = await app.inject({
      method: 'POST',
      url: '/v2/bulkevents',
      headers: auth,
      payload: [
        { mpid: '1', source_request_id: 'a', source: 'ios' },
        { mpid: '2', source_request_id: 'b' },
        { mpid: '3', source_request_id: 'c', source: 'ios' },
      ],
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({
      accepted: ['a', 'b', 'c'],
      offsets: [
        { topic: 'app.raw.ios', partition: 0, offset: '100' },
        { topic: 'app.raw.web', partition: 0, offset: '100' },
        { topic: 'app.raw.ios', partition: 0, offset: '101' },
      ],
    });
    await app.close();
  });

  it('answers 415 PS_ERR_API_UNSUPPORTED_MEDIA_TYPE to a text/plain body and produces nothing', async () => {
    const sink = new OffsetSink();
    const app = await api(sink);
    const res = await app.inject({ method: 'POST', url: '/v2/events', headers: { ...auth, 'content-type': 'text/plain' }, payload: '{"mpid":"1"}' });
    expect(res.statusCode).toBe(415);
    expect(res.json().error).toBe('PS_ERR_API_UNSUPPORTED_MEDIA_TYPE');
    expect(sink.next.size).toBe(0);
    await app.close();
  });

  it('accepts a batch with identities but no MPID (identity resolution gives it one), and refuses one with neither at $', async () => {
    const app = await api(new OffsetSink());
    const res = await app.inject({ method: 'POST', url: '/v2/events', headers: auth, payload: { user_identities: { email: 'a@example.com', customerid: 'c1' } } });
    expect(res.statusCode, res.body).toBe(202);
    const bare = await app.inject({ method: 'POST', url: '/v2/events', headers: auth, payload: {} });
    expect(bare.statusCode).toBe(400);
    expect(bare.json().problems.map((p: { path: string }) => p.path)).toEqual(['$']);
    await app.close();
  });
});
