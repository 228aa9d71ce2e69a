import { canonicalIdentityType } from '../identity/identity-names.ts';
import type {} from '@fastify/swagger';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { BatchEvent } from '../schema/batch.ts';
import type { HistoryRecord } from '../schema/history-record.ts';
import type { ProfileState } from '../schema/profile-state.ts';
import type { ApiKey } from './api-keys.ts';
import type { CredentialChecker } from './credential-checker.ts';
import { notReady, relayToOwner } from './owner-relay.ts';
import { ApiError } from './errors.ts';
import type { Forwarder } from './forwarder.ts';
import type { HistoryLookup } from './history-lookup.ts';
import { isUnavailable, type ProfileLookup } from './profile-lookup.ts';
import type { IntegrationConfig } from '../profiles/integration.ts';
import { forwardingDecisions } from '../profiles/forwarding-decision.ts';
import { eventsPerDay } from './events-per-day.ts';

export interface ActivityViewRoutesOptions {
  readonly lookup: ProfileLookup;
  readonly history: HistoryLookup;
  readonly auth: CredentialChecker;
  readonly forwarder: Forwarder;
  /** Directory holding index.html, style.css and the page scripts of `UI_FILES`. */
  readonly uiDir: string;
  /** The deployment's integrations: each timeline batch says which of them it went to, or why not. */
  readonly integrations?: readonly IntegrationConfig[];
  readonly clock?: () => number;
}

const JS = 'text/javascript; charset=utf-8';
/** Every file of `ui/` the server hands out: a fixed list, so no request path ever reaches the file system. */
const UI_FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8', 'style.css': 'text/css; charset=utf-8',
  'app.js': JS, 'dom.js': JS, 'charts.js': JS, 'activity-view.js': JS, 'live-stream.js': JS, 'audiences.js': JS, 'calculated-attributes.js': JS,
};

function eventName(event: BatchEvent): string {
  const data = event.data as { event_name?: string | null; screen_name?: string | null };
  return data.event_name ?? data.screen_name ?? event.event_type;
}

function eventTime(event: BatchEvent, batchMs: number): number {
  return (event.data as { timestamp_unixtime_ms?: number | null }).timestamp_unixtime_ms ?? batchMs;
}

/** The profile as the UI shows it, limited to the workspaces the key may read. */
function profileView(profile: ProfileState, key: ApiKey) {
  const workspaces = Object.keys(profile.workspaces)
    .filter((id) => key.workspaces.includes(id))
    .map((id) => {
      const w = profile.workspaces[id]!;
      return {
        workspace_id: id,
        user_attributes: Object.entries(w.user_attributes).map(([name, a]) => ({ name, value: a.value, updated_ms: a.updated_ms, source: a.source })),
        calculated_attributes: Object.entries(w.calculated_attributes).map(([name, c]) => ({ name, value: c.value, updated_ms: c.updated_ms, definition_version: c.definition_version })),
        consent: {
          gdpr: Object.entries(w.consent_state.gdpr).map(([purpose, d]) => ({ purpose, consented: d.consented, timestamp_ms: d.timestamp_unixtime_ms })),
          ccpa_data_sale_opt_out: w.consent_state.ccpa.data_sale_opt_out,
        },
        devices: Object.entries(w.devices).map(([stamp, d]) => ({ device_application_stamp: stamp, platform: d.device_info.platform, model: d.device_info.device_model, identities: d.device_identities, first_seen_ms: d.first_seen_ms, last_seen_ms: d.last_seen_ms })),
      };
    });
  return {
    mpid: profile.mpid,
    created_timestamp_ms: profile.created_timestamp_ms,
    last_seen_timestamp_ms: profile.last_seen_timestamp_ms,
    is_opted_out: profile.is_opted_out,
    user_identities: Object.entries(profile.user_identities).flatMap(([type, i]) => (i.value === null ? [] : [{ type, value: i.value, updated_ms: i.updated_ms, source: i.source }])),
    workspaces,
    audience_memberships: Object.entries(profile.audience_memberships).map(([id, m]) => ({ audience_id: id, audience_name: m.audience_name, added_ms: m.added_ms, expiration_ms: m.expiration_ms })),
  };
}

function timelineEntry(key: string, record: HistoryRecord, integrations: readonly IntegrationConfig[]) {
  const b = record.batch;
  const attributes = record.profile?.workspaces[b.workspace_id]?.user_attributes ?? {};
  const batchMs = b.timestamp_unixtime_ms ?? record.processed_timestamp_ms;
  const newestEventMs = Math.max(batchMs, ...b.events.map((e) => eventTime(e, batchMs)));
  return {
    key,
    processed_ms: record.processed_timestamp_ms,
    batch_ms: batchMs,
    // Late: when it was processed the profile already knew a newer event (last_seen is after the merge,
    // so it only exceeds this batch's newest event when an earlier-processed batch was newer).
    late: record.profile !== undefined && record.profile !== null && record.profile.last_seen_timestamp_ms > newestEventMs,
    source: b.source,
    workspace_id: b.workspace_id,
    batch_id: b.source_request_id,
    events: b.events.map((e) => ({ event_type: e.event_type, name: eventName(e), time_ms: eventTime(e, b.timestamp_unixtime_ms ?? record.processed_timestamp_ms) })),
    user_attributes_sent: b.user_attributes,
    profile_attributes_after: Object.fromEntries(Object.entries(attributes).map(([n, a]) => [n, a.value])),
    // Decided with the snapshot stored beside the batch: the profile enrich saw when it processed it.
    forwarding: record.profile === null ? [] : forwardingDecisions(b, record.profile, integrations),
    batch: b,
  };
}

/**
 * The User Activity View: the page at `/` (plain files from `ui/`, no build step) and the JSON it reads —
 * who am I, a user's profile by MPID or identity, and the user's timeline from history, newest first,
 * paged by a cursor (the history key). Same API keys as the Profile API; a key sees only its workspaces.
 */
export async function activityViewRoutes(app: FastifyInstance, options: ActivityViewRoutesOptions): Promise<void> {
  const { lookup, history, auth, forwarder } = options;
  const integrations = options.integrations ?? [];
  const clock = options.clock ?? Date.now;

  for (const [file, type] of Object.entries(UI_FILES)) {
    const path = file === 'index.html' ? '/' : `/ui/${file}`;
    app.get(path, { schema: { hide: true } }, async (_request, reply) => reply.type(type).header('cache-control', 'no-cache').send(await readFile(join(options.uiDir, file))));
  }

  app.get('/v1/activity/session', { schema: { summary: 'The API key the User Activity View logged in with', tags: ['activity-view'] } }, async (request, reply) => {
    try {
      const key = await auth.authenticate(request);
      return { key: key.key, workspaces: key.workspaces };
    } catch (error) {
      // Answered here, without `WWW-Authenticate`: the page shows its own message, and a browser would
      // otherwise open its built-in login dialog over it.
      if (error instanceof ApiError && error.code === 'PS_ERR_API_UNAUTHORIZED') return reply.code(401).send({ error: error.code, message: error.message });
      throw error;
    }
  });

  /** Resolves `?mpid=` or `?identity_type=&identity_value=` to an MPID; relays to the identity's owner when it is elsewhere. */
  async function resolveMpid(request: import('fastify').FastifyRequest<{ Querystring: SearchQuery }>, reply: import('fastify').FastifyReply): Promise<string | 'relayed'> {
    const q = request.query;
    if (q.mpid) return q.mpid;
    if (!q.identity_type || !q.identity_value) throw new ApiError('PS_ERR_API_BAD_REQUEST', 'search by "mpid", or by "identity_type" and "identity_value"');
    // Any identity resolution knows, user or device, in the schema's or mParticle's spelling.
    const type = canonicalIdentityType(q.identity_type) ?? q.identity_type;
    if (await relayToOwner(forwarder, request, reply, await lookup.ownerOfIdentity(type, q.identity_value), { method: 'GET', path: request.url })) return 'relayed';
    const resolved = await lookup.resolveIdentity(type, q.identity_value);
    if (isUnavailable(resolved)) throw notReady(resolved.detail);
    if (!resolved.mpid) throw new ApiError('PS_ERR_API_PROFILE_NOT_FOUND', `no user with ${q.identity_type} "${q.identity_value}"`);
    return resolved.mpid;
  }

  type SearchQuery = { mpid?: string; identity_type?: string; identity_value?: string; before?: string; limit?: number };
  const searchQuery = {
    type: 'object',
    properties: {
      mpid: { type: 'string', pattern: '^-?[0-9]{1,20}$', format: 'decimal-int64' },
      identity_type: { type: 'string', minLength: 1 },
      identity_value: { type: 'string', minLength: 1 },
      before: { type: 'string', description: 'timeline cursor: the key of the last entry of the previous page' },
      limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
    },
  } as const;

  app.get<{ Querystring: SearchQuery }>('/v1/activity/profile', { schema: { summary: 'A user\'s profile for the User Activity View', tags: ['activity-view'], querystring: searchQuery } }, async (request, reply) => {
    const key = await auth.authenticate(request);
    const mpid = await resolveMpid(request, reply);
    if (mpid === 'relayed') return reply;
    // The identity may live on one instance and the user on another: a second hop, to the user's owner by
    // MPID, allowed even when this request arrived forwarded for the identity (the receiver asks by MPID,
    // has no hop left, so it ends there). A search by MPID has only the one hop.
    const hops = request.query.mpid ? undefined : 1;
    const owner = await lookup.ownerOfProfile(mpid);
    if (await relayToOwner(forwarder, request, reply, owner, { method: 'GET', path: `/v1/activity/profile?mpid=${mpid}` }, hops)) return reply;
    const found = await lookup.getProfile(mpid, owner);
    if (isUnavailable(found)) throw notReady(found.detail);
    if (!found.profile) throw new ApiError('PS_ERR_API_PROFILE_NOT_FOUND', `no profile for mpid ${mpid}`);
    const view = profileView(found.profile, key);
    if (view.workspaces.length === 0) throw new ApiError('PS_ERR_API_PROFILE_NOT_FOUND', `no data of mpid ${mpid} in workspaces ${key.workspaces.join(', ')}`);
    return view;
  });

  app.get<{ Querystring: SearchQuery }>('/v1/activity/timeline', { schema: { summary: 'A user\'s batches from history, newest first', tags: ['activity-view'], querystring: searchQuery } }, async (request, reply) => {
    const key = await auth.authenticate(request);
    const mpid = request.query.mpid;
    if (!mpid) throw new ApiError('PS_ERR_API_BAD_REQUEST', 'query parameter "mpid" is required');
    if (await relayToOwner(forwarder, request, reply, await lookup.ownerOfProfile(mpid), { method: 'GET', path: request.url })) return reply;
    const found = await history.getHistory(mpid);
    if (isUnavailable(found)) throw notReady(found.detail);
    const limit = request.query.limit ?? 20;
    const before = request.query.before;
    const visible = found.entries.filter((e) => key.workspaces.includes(e.value.batch.workspace_id) && (before === undefined || e.key < before)).reverse();
    const page = visible.slice(0, limit);
    return { mpid, entries: page.map((e) => timelineEntry(e.key, e.value, integrations)), next_before: visible.length > limit ? page[page.length - 1]!.key : null };
  });

  type PerDayQuery = { mpid: string; days?: number };
  app.get<{ Querystring: PerDayQuery }>('/v1/activity/events-per-day', {
    schema: {
      summary: 'A user\'s events per UTC day (event time) over the last `days` days, from history',
      tags: ['activity-view'],
      querystring: { type: 'object', required: ['mpid'], properties: { mpid: { type: 'string', pattern: '^-?[0-9]{1,20}$' }, days: { type: 'integer', minimum: 1, maximum: 730, default: 30 } } },
    },
  }, async (request, reply) => {
    const key = await auth.authenticate(request);
    const { mpid } = request.query;
    if (await relayToOwner(forwarder, request, reply, await lookup.ownerOfProfile(mpid), { method: 'GET', path: request.url })) return reply;
    const found = await history.getHistory(mpid);
    if (isUnavailable(found)) throw notReady(found.detail);
    const batches = found.entries.map((e) => e.value).filter((r) => key.workspaces.includes(r.batch.workspace_id));
    const days = request.query.days ?? 30;
    return { mpid, days: eventsPerDay(batches.map((r) => ({ batchMs: r.batch.timestamp_unixtime_ms ?? r.processed_timestamp_ms, events: r.batch.events.map((e) => eventTime(e, r.batch.timestamp_unixtime_ms ?? r.processed_timestamp_ms)) })), clock(), days) };
  });
}
