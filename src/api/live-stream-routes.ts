import type {} from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { CredentialChecker } from './credential-checker.ts';
import { ApiError } from './errors.ts';
import type { LiveEvent, LiveFeed } from './live-feed.ts';
import { matchesLiveFilter, type LiveStreamFilter } from './live-stream-filter.ts';
import { workspaceFor, workspaceQuery } from './workspace-access.ts';

export interface LiveStreamRoutesOptions {
  readonly feed: LiveFeed;
  readonly auth: CredentialChecker;
  /** Open streams per API key; default 10 (a person has a few tabs, not hundreds). */
  readonly maxStreamsPerKey?: number;
  /** Bytes queued for one slow client before its events are dropped instead; default 1 MiB. */
  readonly maxQueuedBytes?: number;
  readonly heartbeatMs?: number;
}

type Query = { workspace_id?: string; environment?: 'development' | 'production' | 'all'; source?: string; integration?: string; event_type?: string; mpid?: string };

function write(raw: ServerResponse, event: string, data: unknown): void {
  raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** One event goes to every open page: serialised once (by the feed, or here), not once per page. */
const serialised = new WeakMap<LiveEvent, string>();
function frame(e: LiveEvent): string {
  if (e.frame !== undefined) return e.frame;
  let text = serialised.get(e);
  if (text === undefined) serialised.set(e, (text = `event: ${e.kind}\ndata: ${JSON.stringify(e.entry)}\n\n`));
  return text;
}

/**
 * The Live Stream: `GET /v1/live/stream` answers Server-Sent Events — the workspace's recent tail, then each
 * batch as it arrives (`batch`) and again when the pipeline has processed it (`update`, with where it went),
 * filtered on the server. Same API keys as the rest; a key sees only its workspaces.
 */
export async function liveStreamRoutes(app: FastifyInstance, options: LiveStreamRoutesOptions): Promise<void> {
  const { feed, auth } = options;
  const maxStreams = options.maxStreamsPerKey ?? 10;
  const maxQueued = options.maxQueuedBytes ?? 1024 * 1024;
  const open = new Map<string, number>();
  const streams = new Set<ServerResponse>();
  // A hijacked response is never idle, so the server's close would wait for it: end the streams first.
  app.addHook('preClose', async () => {
    for (const s of streams) s.end();
  });

  app.get('/v1/live/options', { schema: { summary: 'What the Live Stream can filter by', tags: ['live-stream'] } }, async (request) => {
    const key = await auth.authenticate(request);
    return { workspaces: key.workspaces, environments: ['development', 'production', 'all'], sources: feed.sources, integrations: feed.integrations, stats: feed.stats() };
  });

  app.get<{ Querystring: Query }>('/v1/live/stream', {
    schema: {
      summary: 'Batches as they arrive (Server-Sent Events: ready, batch, update, stats)',
      tags: ['live-stream'],
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          workspace_id: workspaceQuery,
          environment: { type: 'string', enum: ['development', 'production', 'all'], default: 'development' },
          source: { type: 'string', enum: [...feed.sources] },
          integration: { type: 'string', enum: [...feed.integrations] },
          event_type: { type: 'string', pattern: '^[a-z_]{1,40}$' },
          mpid: { type: 'string', pattern: '^-?[0-9]{1,20}$' },
        },
      },
    },
  }, async (request, reply) => {
    const key = await auth.authenticate(request);
    const q = request.query;
    const workspace = workspaceFor(key, q.workspace_id);
    if ((open.get(key.key) ?? 0) >= maxStreams) throw new ApiError('PS_ERR_API_LIVE_STREAM_LIMIT', `at most ${maxStreams} Live Stream connections per API key; close one`, {}, 5);
    const filter: LiveStreamFilter = {
      environment: q.environment ?? 'development',
      ...(q.source !== undefined ? { source: q.source } : {}),
      ...(q.integration !== undefined ? { integration: q.integration } : {}),
      ...(q.event_type !== undefined ? { eventType: q.event_type } : {}),
      ...(q.mpid !== undefined ? { mpid: q.mpid } : {}),
    };
    open.set(key.key, (open.get(key.key) ?? 0) + 1);
    const raw = reply.raw;
    let dropped = 0;
    let closed = false;
    const send = (event: string, data: unknown): void => {
      if (closed) return;
      // A client that reads slower than batches arrive loses events, counted in `stats`; the server never queues for it.
      if (raw.writableLength > maxQueued) {
        dropped++;
        return;
      }
      write(raw, event, data);
    };
    const listener = (e: LiveEvent): void => {
      if (closed || !matchesLiveFilter(e.entry, filter)) return;
      if (raw.writableLength > maxQueued) dropped++;
      else raw.write(frame(e));
    };
    reply.hijack();
    raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    streams.add(raw);
    let subscription: Awaited<ReturnType<LiveFeed['subscribe']>> | undefined;
    const timers: NodeJS.Timeout[] = [];
    const cleanup = (): void => {
      if (closed) return;
      closed = true;
      streams.delete(raw);
      for (const t of timers) clearInterval(t);
      subscription?.unsubscribe();
      open.set(key.key, (open.get(key.key) ?? 1) - 1);
      if (open.get(key.key) === 0) open.delete(key.key);
    };
    raw.on('close', cleanup);
    try {
      subscription = await feed.subscribe([workspace], listener);
    } catch (error) {
      request.log.error(error);
      write(raw, 'failure', { error: 'PS_ERR_API_KAFKA_UNAVAILABLE', message: `the Live Stream could not read Kafka: ${(error as Error).message}` });
      raw.end();
      return;
    }
    if (closed) {
      subscription.unsubscribe();
      return;
    }
    for (const e of subscription.tail) listener(e);
    send('ready', { workspace_id: workspace, filter, stats: feed.stats() });
    timers.push(setInterval(() => raw.write(': ping\n\n'), options.heartbeatMs ?? 15_000));
    timers.push(setInterval(() => send('stats', { ...feed.stats(), dropped }), 5_000));
  });
}
