import { describe, expect, it } from 'vitest';
import { avroTypeFor } from '../../../src/schema/avro-type.ts';
import { BATCH_LIMITS } from '../../../src/schema/batch-limits.ts';
import { InvalidBatchError } from '../../../src/schema/errors.ts';
import type { BatchProblem } from '../../../src/schema/errors.ts';
import { fromJsonBatch, parseJsonBatch, toJsonBatch } from '../../../src/schema/json-batch.ts';
import type { JsonBatchOptions } from '../../../src/schema/json-batch.ts';
import { SCHEMAS } from '../../../src/schema/schema-catalog.ts';

const ctx = { workspaceId: 'ws1', source: 'web' };
const minimal = () => ({
  mpid: 123,
  environment: 'production',
  user_identities: { customer_id: 'c1' },
  events: [{ event_type: 'custom_event', data: { event_name: 'Play', custom_event_type: 'media', custom_attributes: { song: 'x' } } }],
});

function problemsOf(input: unknown, options: JsonBatchOptions = ctx): BatchProblem[] {
  try {
    parseJsonBatch(input, options);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidBatchError);
    expect((error as InvalidBatchError).code).toBe('PS_ERR_INVALID_BATCH');
    return (error as InvalidBatchError).problems;
  }
  throw new Error('expected the batch to be rejected');
}
const paths = (problems: BatchProblem[]) => problems.map((p) => p.path);

describe('fromJsonBatch', () => {
  it('converts a minimal mParticle batch and fills defaults, workspace and source', () => {
    const batch = fromJsonBatch(minimal(), ctx);
    expect(batch).toMatchObject({ mpid: '123', workspace_id: 'ws1', source: 'web', deleted_user_attributes: [], device_info: null });
    expect(batch.user_identities.customer_id).toBe('c1');
    expect(batch.user_identities.email).toBeNull();
    expect(batch.events[0]).toMatchObject({ event_type: 'custom_event', data: { event_name: 'Play', custom_event_type: 'media', session_id: null } });
    expect(avroTypeFor(SCHEMAS.batch).isValid(batch)).toBe(true);
  });

  it('keeps a 64-bit MPID given as a string exactly, and rejects one given as an imprecise JSON number', () => {
    expect(fromJsonBatch({ ...minimal(), mpid: '-9223372036854775808' }, ctx).mpid).toBe('-9223372036854775808');
    const text = JSON.stringify(minimal()).replace('"mpid":123', '"mpid":8723478234823482374');
    expect(problemsOf(text)).toEqual([{ path: '$.mpid', message: expect.stringContaining('send it as a string') }]);
    expect(paths(problemsOf({ ...minimal(), mpid: '9223372036854775808' }))).toEqual(['$.mpid']);
  });

  it('accepts JSON text and treats __proto__ and constructor as ordinary attribute names', () => {
    const text = '{"mpid":"1","user_attributes":{"__proto__":"a","constructor":["x"],"toString":1},"events":[]}';
    const batch = fromJsonBatch(text, ctx);
    expect(Object.getPrototypeOf(batch.user_attributes)).toBeNull();
    expect(Object.keys(batch.user_attributes)).toEqual(['__proto__', 'constructor', 'toString']);
    expect(batch.user_attributes['__proto__']).toBe('a');
    expect(({} as Record<string, unknown>).constructor).toBe(Object); // nothing leaked into Object.prototype
    const json = toJsonBatch(batch);
    expect(fromJsonBatch(JSON.parse(JSON.stringify(json)), ctx).user_attributes['__proto__']).toBe('a');
  });

  it('reports every problem with its JSON path, not just the first', () => {
    const problems = problemsOf({
      mpid: 'abc',
      environment: 'staging',
      events: [
        { event_type: 'custom_event', data: { custom_event_type: 'navigation' } },
        { event_type: 'page_view', data: {} },
        { event_type: 'screen_view', data: { screen_name: 7, timestamp_unixtime_ms: 1.5 } },
      ],
      user_attributes: { ok: 'x', bad: { nested: true }, list: ['a', 2] },
      device_info: { att_authorization_status: 'maybe' },
    });
    expect(paths(problems)).toEqual([
      '$.mpid',
      '$.environment',
      '$.events[0].data.event_name',
      '$.events[1].event_type',
      '$.events[2].data.timestamp_unixtime_ms',
      '$.events[2].data.screen_name',
      '$.user_attributes.bad',
      '$.user_attributes.list',
      '$.device_info.att_authorization_status',
    ]);
    const byPath = new Map(problems.map((p) => [p.path, p.message]));
    expect(byPath.get('$.environment')).toContain('production, development');
    expect(byPath.get('$.events[0].data.event_name')).toContain('is required');
    expect(byPath.get('$.events[1].event_type')).toContain('custom_event');
    expect(byPath.get('$.user_attributes.bad')).toContain('list of strings');
  });

  it('needs an mpid or at least one identity', () => {
    expect(problemsOf({ events: [] })).toEqual([{ path: '$', message: expect.stringContaining('"mpid", or at least one entry in "user_identities" or one device identity') }]);
    expect(fromJsonBatch({ user_identities: { email: 'a@b.c' } }, ctx).mpid).toBeNull();
    expect(fromJsonBatch({ device_info: { ios_idfv: 'v1' } }, ctx).mpid).toBeNull();
  });

  it('maps mParticle\'s identity names to the schema\'s and refuses unknown ones, empty and over-long values at their paths', () => {
    const batch = fromJsonBatch({ user_identities: { customerid: 'JohnSmith911', other2: 'o2', facebookcustomaudienceid: 'f', email: 'e@x', mobile_number: '+1', phone_number_3: '+3', google: 'g' } }, ctx);
    expect(batch.user_identities).toMatchObject({ customer_id: 'JohnSmith911', other_id_2: 'o2', facebook_custom_audience_id: 'f', email: 'e@x', mobile_number: '+1', phone_number_3: '+3', google: 'g' });
    expect(paths(problemsOf({ user_identities: { customerid: 'a', customer_id: 'b', facebookid: 'x', email: '', other: 'y'.repeat(1025), ios_idfv: 'd' } }))).toEqual([
      '$.user_identities.customer_id',
      '$.user_identities.facebookid',
      '$.user_identities.email',
      '$.user_identities.other',
      '$.user_identities.ios_idfv',
    ]);
  });

  it('rejects a workspace or source that differs from the request, and needs them from somewhere', () => {
    expect(paths(problemsOf({ ...minimal(), workspace_id: 'other' }))).toEqual(['$.workspace_id']);
    expect(paths(problemsOf(minimal(), {}))).toEqual(['$.workspace_id', '$.source']);
  });

  it('drops unknown fields such as api_key and lists them', () => {
    const { ignoredFields } = parseJsonBatch({ ...minimal(), api_key: 'k', schema_version: 2 }, ctx);
    expect(ignoredFields).toEqual(['$.api_key', '$.schema_version']);
  });

  it('rejects non-object input with a clear problem', () => {
    expect(problemsOf('[1,2]')).toEqual([{ path: '$', message: expect.stringContaining('JSON object') }]);
    expect(problemsOf('{"mpid":')[0]!.message).toContain('not valid JSON');
  });
});

describe('batch limits', () => {
  const limitsOf = (problems: BatchProblem[]) => problems.map((p) => [p.path, p.limit]);

  it('allows exactly 100 user attributes and rejects 101, naming the limit', () => {
    const attrs = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`a${i}`, i]));
    expect(() => fromJsonBatch({ ...minimal(), user_attributes: attrs(100) }, ctx)).not.toThrow();
    expect(limitsOf(problemsOf({ ...minimal(), user_attributes: attrs(101) }))).toEqual([['$.user_attributes', 'max_user_attributes_per_batch']]);
  });

  it('rejects values over 4096 characters and lists over 1000 entries, in user and event attributes', () => {
    const long = 'x'.repeat(BATCH_LIMITS.max_attribute_value_length + 1);
    const ok = 'x'.repeat(BATCH_LIMITS.max_attribute_value_length);
    const batch = minimal();
    Object.assign(batch, { user_attributes: { fine: ok, name: long, tags: Array(1001).fill('t'), mixed: ['a', long] } });
    batch.events[0]!.data.custom_attributes = { song: long };
    expect(limitsOf(problemsOf(batch))).toEqual([
      ['$.user_attributes.name', 'max_attribute_value_length'],
      ['$.user_attributes.tags', 'max_attribute_list_entries'],
      ['$.user_attributes.mixed[1]', 'max_attribute_value_length'],
      ['$.events[0].data.custom_attributes.song', 'max_attribute_value_length'],
    ]);
  });

  it('rejects a batch over 128 KB and still reports limits next to type problems', () => {
    const big = { ...minimal(), environment: 'nope', events: Array.from({ length: 200 }, () => ({ event_type: 'screen_view', data: { screen_name: 'x'.repeat(1000) } })) };
    expect(limitsOf(problemsOf(big))).toEqual([['$.environment', undefined], ['$', 'max_batch_bytes']]);
  });
});

describe('toJsonBatch', () => {
  it('gives JSON that converts back to the same batch, with null fields left out and null attribute values kept', () => {
    const batch = fromJsonBatch({
      ...minimal(),
      mpid: '9007199254740993',
      user_attributes: { gone: null, n: 1.5, b: false, l: ['a'] },
      deleted_user_attributes: ['old'],
      consent_state: { gdpr: { marketing: { consented: true, timestamp_unixtime_ms: 1 } } },
      events: [
        { event_type: 'commerce_event', data: { product_action: { action: 'purchase', products: [{ id: 'p', price: 2 }] } } },
        { event_type: 'user_identity_change', data: { new: { identity_type: 'email', identity: null } } },
      ],
    }, ctx);
    const json = toJsonBatch(batch);
    expect(json.mpid).toBe('9007199254740993');
    expect(json).not.toHaveProperty('device_info');
    expect(json.user_attributes).toEqual({ gone: null, n: 1.5, b: false, l: ['a'] });
    expect(fromJsonBatch(JSON.parse(JSON.stringify(json)))).toEqual(batch);
  });
});
