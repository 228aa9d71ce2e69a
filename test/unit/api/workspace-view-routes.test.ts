import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiKeyStore, hashSecret } from '../../../src/api/api-keys.ts';
import type { AudienceMembershipSource } from '../../../src/api/audience-membership-source.ts';
import { buildApi } from '../../../src/api/build-app.ts';
import type { CalculatedValueSource, ValueCounts } from '../../../src/api/calculated-value-counts.ts';
import type { LiveEntry, LiveEvent, LiveFeed } from '../../../src/api/live-feed.ts';
import type { Unavailable } from '../../../src/api/profile-lookup.ts';
import { parseAudiencesConfig } from '../../../src/config/audiences-config.ts';
import { parseCalculatedAttributesConfig } from '../../../src/config/calculated-attributes-config.ts';

const keys = new ApiKeyStore([{ key: 'key-ws1-0001', workspaces: ['1', '3'], secretHash: hashSecret('s3cret') }]);
const auth = { authorization: `Basic ${Buffer.from('key-ws1-0001:s3cret').toString('base64')}` };
const ready = { readiness: () => ({ ready: true, detail: {} }) };

function entry(id: string, fields: Partial<LiveEntry> = {}): LiveEntry {
  return {
    id, received_ms: 1000, batch_ms: 1000, topic: 'app.raw.web', source: 'web', environment: 'development', workspace_id: '1', mpid: '42', batch_id: id,
    event_count: 1, event_names: ['play'], event_types: ['custom_event'], batch: {}, processed_ms: null, forwarding: null, ...fields,
  };
}

/** The feed held in memory: a tail per workspace and `push` for what arrives next. */
class MemoryFeed implements LiveFeed {
  readonly sources = ['web', 'ios'];
  readonly integrations = ['all', 'ads'];
  private readonly listeners = new Set<{ workspaces: readonly string[]; listener: (e: LiveEvent) => void }>();
  constructor(private readonly tail: LiveEntry[]) {}
  async subscribe(workspaces: readonly string[], listener: (e: LiveEvent) => void) {
    const s = { workspaces, listener };
    this.listeners.add(s);
    return { tail: this.tail.filter((e) => workspaces.includes(e.workspace_id)).map((entry) => ({ kind: 'batch' as const, entry })), unsubscribe: () => this.listeners.delete(s) };
  }
  push(event: LiveEvent): void {
    for (const s of this.listeners) if (s.workspaces.includes(event.entry.workspace_id)) s.listener(event);
  }
  stats() {
    return { state: 'live' as const, skipped: 0, decoded: 0, subscribers: this.listeners.size };
  }
}

const audiences = parseAudiencesConfig(`audiences:
  - { id: fans, name: Fans, workspace: "1", criteria: { event: { name: play }, at_least: 1, within_days: 7 } }
  - { id: elsewhere, name: Elsewhere, workspace: "2", criteria: { event: { name: play }, at_least: 1, within_days: 7 } }
`, 'a.yaml');
const memberships: AudienceMembershipSource = {
  caughtUp: async () => true,
  size: (id) => (id === 'fans' ? 3 : 0),
  hourly: (_id, now, hours) => Array.from({ length: hours }, (_, i) => ({ hour_ms: now - (hours - 1 - i) * 3_600_000, joins: i === hours - 1 ? 2 : 0, leaves: i === 0 ? 1 : 0 })),
  members: (_id, offset, limit) => ({ total: 3, members: [{ mpid: '3', added_ms: 30 }, { mpid: '2', added_ms: 20 }, { mpid: '1', added_ms: 10 }].slice(offset, offset + limit) }),
};
const calculated = parseCalculatedAttributesConfig(`calculated_attributes:
  - { name: spend, workspace: "1", calculation: sum, event: { name: buy }, attribute: amount }
`, 'c.yaml');

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function serve(options: { feed?: LiveFeed; values?: CalculatedValueSource; maxStreamsPerKey?: number }): Promise<string> {
  app = await buildApi({
    readiness: ready,
    keys,
    workspaceViews: {
      liveStream: { feed: options.feed ?? new MemoryFeed([]), maxStreamsPerKey: options.maxStreamsPerKey ?? 10 },
      audiences: { definitions: audiences, memberships, clock: () => 100 * 3_600_000 },
      ...(options.values ? { calculatedAttributes: { definitions: calculated, values: options.values } } : {}),
    },
  });
  return app.listen({ host: '127.0.0.1', port: 0 });
}

/** Reads Server-Sent Events until `until` says enough (or 5 s pass). */
async function readEvents(res: Response, until: (events: Array<{ event: string; data: LiveEntry & Record<string, unknown> }>) => boolean) {
  const events: Array<{ event: string; data: LiveEntry & Record<string, unknown> }> = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const deadline = Date.now() + 5000;
  while (!until(events) && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) events.push({ event, data: JSON.parse(data) });
    }
  }
  await reader.cancel();
  return events;
}

describe('GET /v1/live/stream', () => {
  it('sends the workspace\'s tail that matches the filter (development by default), then ready, then arrivals and their updates', async () => {
    const feed = new MemoryFeed([
      entry('a'), entry('prod', { environment: 'production' }), entry('other-ws', { workspace_id: '3' }), entry('ios', { source: 'ios' }),
    ]);
    const base = await serve({ feed });
    const res = await fetch(`${base}/v1/live/stream?source=web`, { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const events = await readEvents(res, (e) => {
      if (e.some((x) => x.event === 'ready') && !e.some((x) => x.data.id === 'b')) {
        feed.push({ kind: 'batch', entry: entry('b') });
        feed.push({ kind: 'batch', entry: entry('b-prod', { environment: 'production' }) });
        feed.push({ kind: 'update', entry: entry('b', { processed_ms: 2000, forwarding: [{ integration: 'all', forwarded: true, events_forwarded: 1, events_total: 1 }] }) });
      }
      return e.filter((x) => x.data.id === 'b').length === 2;
    });
    expect(events.map((e) => `${e.event}:${e.data.id ?? ''}`)).toEqual(['batch:a', 'ready:', 'batch:b', 'update:b']);
  });

  it('with an integration filter, sends a batch only once it is known to have gone there', async () => {
    const feed = new MemoryFeed([]);
    const base = await serve({ feed });
    const res = await fetch(`${base}/v1/live/stream?integration=ads&environment=all`, { headers: auth });
    const events = await readEvents(res, (e) => {
      if (e.length === 1 && e[0]!.event === 'ready') {
        feed.push({ kind: 'batch', entry: entry('x') });
        feed.push({ kind: 'update', entry: entry('x', { processed_ms: 2, forwarding: [{ integration: 'ads', forwarded: false, reason: 'filter', detail: '' }] }) });
        feed.push({ kind: 'update', entry: entry('y', { processed_ms: 2, forwarding: [{ integration: 'ads', forwarded: true, events_forwarded: 1, events_total: 1 }] }) });
      }
      return e.some((x) => x.data.id === 'y');
    });
    expect(events.map((e) => `${e.event}:${e.data.id ?? ''}`)).toEqual(['ready:', 'update:y']);
  });

  it('answers 401 without credentials, 403 for another workspace, 400 for an unknown source or environment, 429 beyond the connections per key', async () => {
    const base = await serve({ maxStreamsPerKey: 1 });
    const code = async (path: string, headers: Record<string, string> = auth) => {
      const r = await fetch(`${base}${path}`, { headers });
      return [r.status, ((await r.json()) as { error: string }).error];
    };
    await expect(code('/v1/live/stream', {})).resolves.toEqual([401, 'PS_ERR_API_UNAUTHORIZED']);
    await expect(code('/v1/live/stream?workspace_id=2')).resolves.toEqual([403, 'PS_ERR_API_FORBIDDEN_WORKSPACE']);
    await expect(code('/v1/live/stream?source=android')).resolves.toEqual([400, 'PS_ERR_API_BAD_REQUEST']);
    await expect(code('/v1/live/stream?environment=staging')).resolves.toEqual([400, 'PS_ERR_API_BAD_REQUEST']);
    const first = new AbortController();
    const open = await fetch(`${base}/v1/live/stream`, { headers: auth, signal: first.signal });
    expect(open.status).toBe(200);
    await expect(code('/v1/live/stream')).resolves.toEqual([429, 'PS_ERR_API_LIVE_STREAM_LIMIT']);
    first.abort();
  });
});

describe('GET /v1/workspace/audiences', () => {
  it('lists the workspace\'s audiences with size, the day\'s joins and leaves per hour, and pages members', async () => {
    await serve({});
    const res = await app!.inject({ url: '/v1/workspace/audiences', headers: auth });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.audiences.map((a: { id: string }) => a.id)).toEqual(['fans']);
    expect(body.audiences[0]).toMatchObject({ name: 'Fans', size: 3, joins_24h: 2, leaves_24h: 1 });
    expect(body.audiences[0].hourly).toHaveLength(24);
    const page = await app!.inject({ url: '/v1/workspace/audiences/fans/members?limit=2', headers: auth });
    expect(page.json()).toMatchObject({ total: 3, offset: 0, members: [{ mpid: '3' }, { mpid: '2' }], next_offset: 2 });
    const last = await app!.inject({ url: '/v1/workspace/audiences/fans/members?limit=2&offset=2', headers: auth });
    expect(last.json()).toMatchObject({ members: [{ mpid: '1' }], next_offset: null });
  });

  it('answers 404 for an audience of another workspace or none, 403 for a workspace of another key, 400 for a bad page', async () => {
    await serve({});
    const get = async (url: string) => {
      const r = await app!.inject({ url, headers: auth });
      return [r.statusCode, r.json().error];
    };
    await expect(get('/v1/workspace/audiences/elsewhere/members')).resolves.toEqual([404, 'PS_ERR_API_AUDIENCE_NOT_FOUND']);
    await expect(get('/v1/workspace/audiences/nope/members')).resolves.toEqual([404, 'PS_ERR_API_AUDIENCE_NOT_FOUND']);
    await expect(get('/v1/workspace/audiences?workspace_id=2')).resolves.toEqual([403, 'PS_ERR_API_FORBIDDEN_WORKSPACE']);
    await expect(get('/v1/workspace/audiences/fans/members?limit=1000')).resolves.toEqual([400, 'PS_ERR_API_BAD_REQUEST']);
  });
});

describe('GET /v1/workspace/calculated-attributes', () => {
  const counts = (values: Record<string, number>): ValueCounts => ({
    profiles_scanned: 20,
    attributes: { spend: { users: 20, no_value: 0, values, overflow: 0, versions: { [String(calculated[0]!.version)]: 18, '7': 2 } } },
  });

  it('gives definitions, the versions in use, and a histogram when there are many numeric values', async () => {
    const values = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [String(i * 10), 1]));
    await serve({ values: { localCounts: async () => counts(values), peers: () => [] } });
    const body = (await app!.inject({ url: '/v1/workspace/calculated-attributes', headers: auth })).json();
    const spend = body.calculated_attributes[0];
    expect(spend).toMatchObject({ name: 'spend', calculation: 'sum', attribute: 'amount', version: calculated[0]!.version, users: 20 });
    expect(spend.versions).toEqual([{ version: calculated[0]!.version, users: 18, current: true }, { version: 7, users: 2, current: false }]);
    // 0..190 in ten ranges of 19: two values in each.
    expect(spend.distribution.kind).toBe('histogram');
    expect(spend.distribution.buckets.map((b: { count: number }) => b.count)).toEqual([2, 2, 2, 2, 2, 2, 2, 2, 2, 2]);
    expect(spend.distribution.buckets[0].label).toBe('0 – 19');
  });

  it('answers 503 while the profiles are restoring, and 403 for a workspace of another key', async () => {
    const restoring: Unavailable = { unavailable: 'restoring', detail: 'task 0_1 is restoring' };
    await serve({ values: { localCounts: async () => restoring, peers: () => [] } });
    const res = await app!.inject({ url: '/v1/workspace/calculated-attributes', headers: auth });
    expect([res.statusCode, res.json().error]).toEqual([503, 'PS_ERR_API_NOT_READY']);
    const forbidden = await app!.inject({ url: '/v1/workspace/calculated-attributes?workspace_id=9', headers: auth });
    expect([forbidden.statusCode, forbidden.json().error]).toEqual([403, 'PS_ERR_API_FORBIDDEN_WORKSPACE']);
  });
});
