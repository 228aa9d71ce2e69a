import { randomUUID } from 'node:crypto';
import type {} from '@fastify/swagger';
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import type { Batch } from '../schema/batch.ts';
import { InvalidBatchError, type BatchProblem } from '../schema/errors.ts';
import { parseJsonBatch } from '../schema/json-batch.ts';
import { canonicalUserIdentityType, idsyncName, isUserIdentityType, knownIdentityNames } from '../identity/identity-names.ts';
import { byPriority, identityRef, type IdentityRef, type IdentityStrategy } from '../identity/identity-strategy.ts';
import { identityValueProblem, normalizeIdentities } from '../identity/identity-values.ts';
import { decide, linksNeeded, type Claim, type ResolutionIntent } from '../identity/resolution.ts';
import { RESOLUTION_INTENT_HEADER } from '../identity/resolution-state.ts';
import type { ResolvableIdentityType } from '../identity/identity-names.ts';
import type { ApiKey } from './api-keys.ts';
import { requireWorkspace } from './basic-auth.ts';
import type { CredentialChecker } from './credential-checker.ts';
import { ApiError } from './errors.ts';
import { FORWARDED_HEADER, type Forwarder } from './forwarder.ts';
import { notReady, wasForwarded } from './owner-relay.ts';
import { isUnavailable, type ProfileLookup } from './profile-lookup.ts';
import { sinkFailure } from './sink-failure.ts';

/** Where IDSync requests that create or change users go: the raw topic, as batches without events. */
export interface IdSyncSink {
  send(topic: string, batches: readonly Batch[], headers?: Readonly<Record<string, string>>): Promise<unknown>;
}

export interface IdSyncRoutesOptions {
  readonly auth: CredentialChecker;
  readonly lookup: ProfileLookup;
  readonly forwarder: Forwarder;
  readonly strategy: IdentityStrategy;
  readonly sink: IdSyncSink;
  /** The raw topic and source of the batches IDSync produces (the first declared source). */
  readonly rawTopic: string;
  readonly source: string;
  /** How long a request that produced a batch waits for its resolution to be visible. Default 10 s. */
  readonly waitMs?: number;
}

type IdentityBody = {
  environment?: 'production' | 'development';
  request_id?: string;
  request_timestamp_ms?: number;
  previous_mpid?: string;
  workspace_id?: string;
  known_identities?: Record<string, unknown>;
};
type ModifyBody = Omit<IdentityBody, 'known_identities'> & { identity_changes: Array<{ identity_type: string; old_value?: string | null; new_value?: string | null }> };

const requestProperties = {
  client_sdk: { type: 'object' },
  environment: { type: 'string', enum: ['production', 'development'] },
  request_id: { type: 'string', maxLength: 200 },
  request_timestamp_ms: { type: 'integer' },
  previous_mpid: { type: ['string', 'null'] },
  workspace_id: { type: 'string', description: 'one of the API key\'s workspaces; the key\'s first by default' },
} as const;
const identityRequest = { type: 'object', required: ['known_identities'], properties: { ...requestProperties, known_identities: { type: 'object', description: `mParticle names or the schema's: ${knownIdentityNames('all')}` } } } as const;
const modifyRequest = {
  type: 'object',
  required: ['identity_changes'],
  properties: {
    ...requestProperties,
    identity_changes: {
      type: 'array',
      minItems: 1,
      maxItems: 50,
      items: { type: 'object', required: ['identity_type'], properties: { identity_type: { type: 'string' }, old_value: { type: ['string', 'null'] }, new_value: { type: ['string', 'null'] } } },
    },
  },
} as const;
const identityResponse = {
  type: 'object',
  properties: {
    context: { type: 'null' },
    mpid: { type: 'string' },
    matched_identities: { type: 'object', additionalProperties: { type: 'string' } },
    is_ephemeral: { type: 'boolean' },
    is_logged_in: { type: 'boolean' },
  },
} as const;
const errorsResponse = { type: 'object', properties: { errors: { type: 'array', items: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } } }, additionalProperties: true } as const;
const responses = { 200: identityResponse, 400: errorsResponse, 401: errorsResponse, 403: errorsResponse, 404: errorsResponse, 409: errorsResponse, 429: errorsResponse, 503: errorsResponse };

/**
 * mParticle's IDSync HTTP API: `/v1/identify`, `/v1/search`, `/v1/login`, `/v1/logout`, `/v1/{mpid}/modify`.
 * Reads go to the instance that owns each identity (forwarded, one hop); requests that create or change a
 * user produce a batch without events to the raw topic, resolved by the topology like any batch without
 * MPID (the one writer per identity), and answer once the resolution is visible. Errors are
 * `{errors: [{code, message}]}` as mParticle's.
 */
export async function idsyncRoutes(app: FastifyInstance, options: IdSyncRoutesOptions): Promise<void> {
  const { auth, lookup, forwarder, strategy } = options;
  const waitMs = options.waitMs ?? 10_000;

  app.setErrorHandler((error: FastifyError | ApiError, _request, reply) => {
    const api = error instanceof ApiError ? error
      : (error as FastifyError).validation ? new ApiError('PS_ERR_API_BAD_REQUEST', `${(error as FastifyError).validationContext ?? 'request'}${error.message.replace(/^[a-z]+/, '')}`)
      : undefined;
    if (api === undefined) throw error;
    if (api.code === 'PS_ERR_API_UNAUTHORIZED') reply.header('www-authenticate', 'Basic realm="profile-stream"');
    if (api.retryAfterSeconds !== undefined) reply.header('retry-after', String(api.retryAfterSeconds));
    return reply.code(api.statusCode).send({ errors: [{ code: api.code, message: api.message }], ...api.extra });
  });

  /** The request's identities, highest priority first; every problem at its JSON path (400, nothing produced). */
  function identitiesOf(known: Record<string, unknown>): IdentityRef[] {
    const { identities, problems } = normalizeIdentities(known, '$.known_identities', 'all');
    if (problems.length > 0) throw invalid(problems);
    const refs = Object.keys(identities).flatMap((type) => (identities[type] == null ? [] : [identityRef(strategy, type as ResolvableIdentityType, identities[type]!)]));
    if (refs.length === 0) throw invalid([{ path: '$.known_identities', message: 'must name at least one identity with a value' }]);
    return byPriority(refs);
  }

  /** Who holds one identity, asked of the instance that owns it. */
  async function claimOf(request: FastifyRequest, ref: IdentityRef): Promise<Claim | undefined> {
    const owner = await lookup.ownerOfIdentity(ref.type, ref.value);
    if (!owner.local) {
      if (wasForwarded(request)) throw notReady('ownership moved while the request was forwarded');
      if (!owner.applicationServer) throw notReady('no instance owns the partition yet');
      const res = await forwarder.forward(owner.applicationServer, {
        method: 'POST',
        path: '/v1/search',
        headers: { authorization: request.headers.authorization ?? '', 'content-type': 'application/json', [FORWARDED_HEADER]: '1' },
        body: JSON.stringify({ known_identities: { [ref.type]: ref.value } }),
      }).catch((error: Error) => {
        throw new ApiError('PS_ERR_API_OWNER_UNREACHABLE', `the instance that owns ${ref.type} (${owner.applicationServer}) did not answer: ${error.message}`, {}, 1);
      });
      if (res.statusCode === 404) return undefined;
      const body = JSON.parse(res.body) as { mpid?: string; is_logged_in?: boolean; errors?: Array<{ code: string; message: string }> };
      if (res.statusCode !== 200 || body.mpid === undefined) throw notReady(body.errors?.[0]?.message ?? `owner answered ${res.statusCode}`);
      return { mpid: body.mpid, known: body.is_logged_in ?? true };
    }
    const found = await lookup.resolveIdentity(ref.type, ref.value);
    if (isUnavailable(found)) throw notReady(found.detail);
    return found.mpid === undefined ? undefined : { mpid: found.mpid, known: found.known ?? true };
  }

  async function claimsOf(request: FastifyRequest, refs: readonly IdentityRef[]): Promise<Map<string, Claim>> {
    const found = await Promise.all(refs.map((r) => claimOf(request, r)));
    return new Map(refs.flatMap((r, i) => (found[i] ? [[r.key, found[i]] as const] : [])));
  }

  function answer(mpid: string, refs: readonly IdentityRef[], claims: ReadonlyMap<string, Claim>) {
    const matched: Record<string, string> = {};
    for (const r of refs) if (claims.get(r.key)?.mpid === mpid) matched[idsyncName(r.type)] = r.value;
    return { context: null, mpid, matched_identities: matched, is_ephemeral: false, is_logged_in: refs.some((r) => claims.get(r.key)?.mpid === mpid && claims.get(r.key)!.known) };
  }

  function workspaceOf(key: ApiKey, body: { workspace_id?: string }): string {
    if (body.workspace_id === undefined) return key.workspaces[0]!;
    requireWorkspace(key, body.workspace_id);
    return body.workspace_id;
  }

  async function produce(json: Record<string, unknown>, workspaceId: string, headers?: Record<string, string>): Promise<void> {
    let batch: Batch;
    try {
      batch = parseJsonBatch(json, { workspaceId, source: options.source }).batch;
    } catch (error) {
      if (error instanceof InvalidBatchError) throw invalid(error.problems);
      throw error;
    }
    try {
      await options.sink.send(options.rawTopic, [batch], headers);
    } catch (error) {
      throw sinkFailure(error);
    }
  }

  /** Polls until `done` says the topology's answer is visible, or gives up with 503 (the request may be retried). */
  async function waitFor<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const result = await check();
      if (result !== undefined) return result;
      if (Date.now() > deadline) throw new ApiError('PS_ERR_API_IDSYNC_TIMEOUT', `${what} was not visible within ${waitMs} ms; retry (the same user is found)`, {}, 1);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** identify, login, logout: resolve (or create) the user of the identities through the topology. */
  async function resolve(request: FastifyRequest<{ Body: IdentityBody }>, intent: ResolutionIntent) {
    const key = await auth.authenticate(request);
    const workspaceId = workspaceOf(key, request.body);
    const refs = identitiesOf(request.body.known_identities ?? {});
    const before = await claimsOf(request, refs);
    const decision = decide(refs, before, strategy, intent);
    if (decision.kind === 'conflict') {
      throw new ApiError('PS_ERR_API_IDENTITY_CONFLICT', `${decision.identity} belongs to user ${decision.mpids[1]}, the other identities to ${decision.mpids[0]}: not merged`);
    }
    if (decision.kind === 'resolved' && linksNeeded(refs, before, decision.mpid, decision.known, decision.dropped).length === 0) {
      return answer(decision.mpid, refs, before);
    }
    const primary = refs[0]!;
    const previous = before.get(primary.key)?.mpid;
    const userIdentities: Record<string, string> = {};
    const device: Record<string, string> = {};
    for (const r of refs) (isUserIdentityType(r.type) ? userIdentities : device)[r.type] = r.value;
    await produce({
      source_request_id: `idsync-${request.body.request_id ?? randomUUID()}`,
      environment: request.body.environment ?? 'production',
      timestamp_unixtime_ms: request.body.request_timestamp_ms ?? Date.now(),
      user_identities: userIdentities,
      ...(Object.keys(device).length > 0 ? { device_info: device } : {}),
    }, workspaceId, { [RESOLUTION_INTENT_HEADER]: intent });
    const dropped = new Set(decision.dropped.map((d) => d.key));
    // Done when every identity the resolver writes is visible for one user (a logout: a user other than before).
    return waitFor(`the ${intent} of ${primary.key}`, async () => {
      const now = await claimsOf(request, refs);
      const mpid = now.get(primary.key)?.mpid;
      if (mpid === undefined || (intent === 'logout' && mpid === previous)) return undefined;
      if (refs.some((r) => !dropped.has(r.key) && now.get(r.key)?.mpid !== mpid && !(r.unique && before.has(r.key)))) return undefined;
      return answer(mpid, refs, now);
    });
  }

  app.post<{ Body: IdentityBody }>('/v1/identify', { schema: { summary: 'Resolve identities to a user, creating one when none matches', tags: ['idsync'], body: identityRequest, response: responses } },
    async (request) => resolve(request, 'identify'));
  app.post<{ Body: IdentityBody }>('/v1/login', { schema: { summary: 'Log a user in: the known user of the identities, or the anonymous one converted', tags: ['idsync'], body: identityRequest, response: responses } },
    async (request) => resolve(request, 'login'));
  app.post<{ Body: IdentityBody }>('/v1/logout', { schema: { summary: 'Log out: a new anonymous user for the (device) identities', tags: ['idsync'], body: identityRequest, response: responses } },
    async (request) => resolve(request, 'logout'));

  app.post<{ Body: IdentityBody }>(
    '/v1/search',
    { schema: { summary: 'Find the user of identities (highest priority first) without changing anything', tags: ['idsync'], body: identityRequest, response: responses } },
    async (request) => {
      const key = await auth.authenticate(request);
      workspaceOf(key, request.body);
      const refs = identitiesOf(request.body.known_identities ?? {});
      const claims = await claimsOf(request, refs);
      const first = refs.find((r) => claims.has(r.key));
      if (!first) throw new ApiError('PS_ERR_API_IDENTITY_NOT_FOUND', `no user holds ${refs.map((r) => r.key).join(', ')}`);
      return answer(claims.get(first.key)!.mpid, refs, claims);
    },
  );

  app.post<{ Params: { mpid: string }; Body: ModifyBody }>(
    '/v1/:mpid/modify',
    {
      schema: {
        summary: 'Change a user\'s identities (old_value → new_value; null new_value removes)',
        tags: ['idsync'],
        params: { type: 'object', required: ['mpid'], properties: { mpid: { type: 'string', pattern: '^-?[0-9]{1,19}$', format: 'decimal-int64' } } },
        body: modifyRequest,
        response: responses,
      },
    },
    async (request) => {
      const key = await auth.authenticate(request);
      const workspaceId = workspaceOf(key, request.body);
      const { mpid } = request.params;
      const problems: BatchProblem[] = [];
      const changes = request.body.identity_changes.flatMap((change, i) => {
        const at = `$.identity_changes[${i}]`;
        const type = canonicalUserIdentityType(change.identity_type);
        if (type === undefined) problems.push({ path: `${at}.identity_type`, message: `is not a user identity type: use one of ${knownIdentityNames('user')}` });
        for (const side of ['old_value', 'new_value'] as const) {
          const value = change[side];
          const problem = typeof value === 'string' ? identityValueProblem(value) : undefined;
          if (problem) problems.push({ path: `${at}.${side}`, message: problem });
        }
        return type === undefined ? [] : [{ type, oldValue: change.old_value ?? null, newValue: change.new_value ?? null }];
      });
      if (problems.length > 0) throw invalid(problems);
      const added = changes.flatMap((c) => (c.newValue === null ? [] : [identityRef(strategy, c.type, c.newValue)]));
      const claims = await claimsOf(request, added);
      for (const ref of added) {
        const holder = claims.get(ref.key)?.mpid;
        if (ref.unique && holder !== undefined && holder !== mpid) throw new ApiError('PS_ERR_API_IDENTITY_CONFLICT', `${ref.key} belongs to user ${holder}, not ${mpid}: not moved`);
      }
      const at = request.body.request_timestamp_ms ?? Date.now();
      await produce({
        mpid,
        source_request_id: `idsync-modify-${request.body.request_id ?? randomUUID()}`,
        environment: request.body.environment ?? 'production',
        timestamp_unixtime_ms: at,
        events: changes.map((c) => ({
          event_type: 'user_identity_change',
          data: {
            timestamp_unixtime_ms: at,
            new: { identity_type: c.type, identity: c.newValue, timestamp_unixtime_ms: at, created_this_batch: false },
            ...(c.oldValue === null ? {} : { old: { identity_type: c.type, identity: c.oldValue, timestamp_unixtime_ms: at, created_this_batch: false } }),
          },
        })),
      }, workspaceId);
      const removed = changes.flatMap((c) => (c.oldValue === null ? [] : [identityRef(strategy, c.type, c.oldValue)]));
      return waitFor(`the modify of ${mpid}`, async () => {
        const now = await claimsOf(request, [...added, ...removed]);
        if (added.some((r) => now.get(r.key)?.mpid !== mpid)) return undefined;
        if (removed.some((r) => now.get(r.key)?.mpid === mpid && !added.some((a) => a.key === r.key))) return undefined;
        return answer(mpid, added, now);
      });
    },
  );
}

function invalid(problems: readonly BatchProblem[]): ApiError {
  return new ApiError('PS_ERR_API_INVALID_IDENTITY', `${problems.length} problem(s): ${problems.slice(0, 3).map((p) => `${p.path}: ${p.message}`).join('; ')}`, { problems });
}
