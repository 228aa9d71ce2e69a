import { describe, expect, it } from 'vitest';
import { ApiKeyStore, hashSecret } from '../../../src/api/api-keys.ts';
import { buildApi } from '../../../src/api/build-app.ts';
import type { SeedSink } from '../../../src/api/seed-sink.ts';
import { parseCalculatedAttributesConfig } from '../../../src/config/calculated-attributes-config.ts';
import type { SeedMessage } from '../../../src/audiences/seed-message.ts';

const auth = { authorization: `Basic ${Buffer.from('key-ws9-0001:s3cret').toString('base64')}` };
const keys = new ApiKeyStore([{ key: 'key-ws9-0001', workspaces: ['ws9'], secretHash: hashSecret('s3cret') }]);
const calculatedAttributes = parseCalculatedAttributesConfig(`
calculated_attributes:
  - { name: spend, workspace: ws9, calculation: sum, event: { name: purchase }, attribute: amount }
  - { name: favourite, workspace: ws9, calculation: most_frequent, event: { name: play }, attribute: genre }
  - { name: spend, workspace: other, calculation: count, event: { name: purchase } }
`, 'c.yaml');

/** Records what would have been produced; the real producer writes the seeding topic in test/integration. */
class RecordingSink implements SeedSink {
  readonly sent: SeedMessage[][] = [];
  failWith: Error | undefined;
  async sendSeeds(seeds: readonly SeedMessage[]): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.sent.push([...seeds]);
  }
}

async function post(sink: RecordingSink, payload: unknown, headers: Record<string, string> = auth) {
  const app = await buildApi({ readiness: { readiness: () => ({ ready: true, detail: {} }) }, keys, seeds: { sink, calculatedAttributes, maxSeeds: 3 } });
  const res = await app.inject({ method: 'POST', url: '/v1/calculated-attributes/seeds', headers, payload: payload as object });
  await app.close();
  return res;
}

const CUTOFF = Date.UTC(2026, 10, 1);

describe('POST /v1/calculated-attributes/seeds', () => {
  it('accepts seeds with a request-wide cutoff date or their own, and writes them keyed by MPID in the key\'s workspace', async () => {
    const sink = new RecordingSink();
    const res = await post(sink, {
      workspace_id: 'ws9',
      cutoff: '2026-11-01',
      seeds: [
        { mpid: '42', name: 'spend', sum: 120.5, count: 3 },
        { mpid: '43', name: 'favourite', values: { jazz: 4, rock: 4 }, cutoff_ms: CUTOFF - 1000 },
      ],
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ accepted: 2 });
    expect(sink.sent).toHaveLength(1);
    expect(sink.sent[0]!.map((s) => ({ ...s }))).toEqual([
      { mpid: '42', workspace_id: 'ws9', name: 'spend', cutoff_ms: CUTOFF, sum: 120.5, count: 3 },
      { mpid: '43', workspace_id: 'ws9', name: 'favourite', cutoff_ms: CUTOFF - 1000, values: { jazz: 4, rock: 4 } },
    ]);
  });

  it('refuses the whole request with 400 and every problem by path when any seed is bad; nothing is written', async () => {
    const sink = new RecordingSink();
    const res = await post(sink, {
      workspace_id: 'ws9',
      seeds: [
        { mpid: '1', name: 'spend', sum: 1, cutoff: '2026-11-01' },
        { mpid: '2', name: 'spnd', sum: 1, cutoff: '2026-11-01' },
        { mpid: '3', name: 'favourite', count: 2, cutoff_ms: CUTOFF },
      ],
    });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.error).toBe('PS_ERR_API_INVALID_SEED');
    expect(body.problems).toEqual([
      { path: '$.seeds[1]', message: 'no calculated attribute spnd in workspace ws9 (defined there: spend, favourite)' },
      { path: '$.seeds[2]', message: 'seed for a most_frequent calculation: values is required' },
    ]);
    expect(sink.sent).toEqual([]);
  });

  it.each([
    ['no cutoff anywhere', { workspace_id: 'ws9', seeds: [{ mpid: '1', name: 'spend', sum: 1 }] }, /has no cutoff/],
    ['a cutoff that is not a date', { workspace_id: 'ws9', cutoff: 'yesterday', seeds: [{ mpid: '1', name: 'spend', sum: 1 }] }, /\$\.cutoff is "yesterday"/],
    ['both cutoff forms', { workspace_id: 'ws9', seeds: [{ mpid: '1', name: 'spend', sum: 1, cutoff: '2026-11-01', cutoff_ms: CUTOFF }] }, /not both/],
    ['a first value after the cutoff', { workspace_id: 'ws9', cutoff_ms: CUTOFF, seeds: [{ mpid: '1', name: 'spend', sum: 1, first: { timestamp_ms: CUTOFF + 1 } }] }, /first\.timestamp_ms must be before cutoff_ms/],
  ])('400 for %s', async (_name, payload, message) => {
    const sink = new RecordingSink();
    const res = await post(sink, payload);
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(message);
    expect(sink.sent).toEqual([]);
  });

  it('answers 400 for a malformed body, 403 for another workspace, 401 without a key, 503 when Kafka does not ack', async () => {
    const sink = new RecordingSink();
    const shape = await post(sink, { workspace_id: 'ws9', seeds: [{ mpid: 'bob', name: 'spend', sum: 1 }] });
    expect([shape.statusCode, shape.json().error]).toEqual([400, 'PS_ERR_API_BAD_REQUEST']);
    const tooMany = await post(sink, { workspace_id: 'ws9', cutoff_ms: CUTOFF, seeds: Array.from({ length: 4 }, (_, i) => ({ mpid: String(i), name: 'spend', sum: 1 })) });
    expect([tooMany.statusCode, tooMany.json().message]).toEqual([400, expect.stringMatching(/seeds must NOT have more than 3 items/)]);
    const forbidden = await post(sink, { workspace_id: 'other', cutoff_ms: CUTOFF, seeds: [{ mpid: '1', name: 'spend', count: 1 }] });
    expect([forbidden.statusCode, forbidden.json().error]).toEqual([403, 'PS_ERR_API_FORBIDDEN_WORKSPACE']);
    const anonymous = await post(sink, { workspace_id: 'ws9', cutoff_ms: CUTOFF, seeds: [{ mpid: '1', name: 'spend', sum: 1 }] }, {});
    expect(anonymous.statusCode).toBe(401);
    sink.failWith = new Error('broker down');
    const down = await post(sink, { workspace_id: 'ws9', cutoff_ms: CUTOFF, seeds: [{ mpid: '1', name: 'spend', sum: 1 }] });
    expect([down.statusCode, down.json().error, down.headers['retry-after']]).toEqual([503, 'PS_ERR_API_KAFKA_UNAVAILABLE', '5']);
    expect(sink.sent).toEqual([]);
  });
});
