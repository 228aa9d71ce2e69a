import type {} from '@fastify/swagger';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { CredentialChecker } from './credential-checker.ts';
import { requireWorkspace } from './basic-auth.ts';
import { ApiError } from './errors.ts';
import type { Forwarder } from './forwarder.ts';
import { canonicalIdentityType } from '../identity/identity-names.ts';
import { notReady, relayToOwner } from './owner-relay.ts';
import { FRESHNESS_HEADER, isUnavailable, type KeyOwner, type ProfileLookup } from './profile-lookup.ts';
import { ProfileAnswerCache } from './profile-answer-cache.ts';
import { PROFILE_FIELDS, parseFields, type ProfileField } from './profile-response.ts';

export interface ProfileRoutesOptions {
  readonly lookup: ProfileLookup;
  readonly auth: CredentialChecker;
  readonly forwarder: Forwarder;
  /** The identity type the resolve route accepts (mParticle's "immutable ID"); customer_id by default. */
  readonly immutableIdType: string;
}

const identityList = { type: 'array', items: { type: 'object', properties: { type: { type: 'string' }, encoding: { type: 'string' }, value: { type: 'string' } } } };
/** The 200 answer of both profile routes, as /openapi.json documents it (the routes write it with JSON.stringify). */
export const profileResponseSchema = {
  type: 'object',
  properties: {
    mpid: { type: 'string', description: 'The user, as a decimal string (64-bit ids do not fit JSON numbers).' },
    created_timestamp_ms: { type: 'integer' },
    last_stored_timestamp_ms: { type: 'integer' },
    is_opted_out: { type: 'boolean' },
    limit_ad_tracking: { type: 'boolean' },
    user_identities: identityList,
    device_identities: identityList,
    user_attributes: { type: 'object', additionalProperties: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] } },
    audience_memberships: {
      type: 'array',
      items: {
        type: 'object',
        properties: { audience_id: { type: 'string' }, audience_name: { type: ['string', 'null'] }, added_timestamp_ms: { type: 'integer' }, expiration_timestamp_ms: { type: ['integer', 'null'] } },
      },
    },
    calculated_attributes: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          value: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }, { type: 'null' }] },
          updated_timestamp_ms: { type: 'integer' },
          definition_version: { type: 'integer' },
        },
      },
    },
    attribution: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          device_application_stamp: { type: 'string' },
          install_referrer: { type: ['string', 'null'] },
          publisher: { type: ['string', 'null'] },
          campaign: { type: ['string', 'null'] },
          attributed_timestamp_ms: { type: ['integer', 'null'] },
        },
      },
    },
  },
} as const;
const errorSchema = { type: 'object', properties: { error: { type: 'string' }, message: { type: 'string' } }, additionalProperties: true } as const;
const pathParams = {
  type: 'object',
  required: ['orgId', 'accountId', 'workspaceId'],
  properties: { orgId: { type: 'string' }, accountId: { type: 'string' }, workspaceId: { type: 'string' }, mpid: { type: 'string', pattern: '^-?[0-9]{1,20}$', format: 'decimal-int64' } },
} as const;
/** The resolve route's path has no MPID: the identity in the body finds it. */
const resolvePathParams = {
  type: 'object',
  required: ['orgId', 'accountId', 'workspaceId'],
  properties: { orgId: { type: 'string' }, accountId: { type: 'string' }, workspaceId: { type: 'string' } },
} as const;
const fieldsQuery = { type: 'object', required: ['fields'], properties: { fields: { type: 'string', description: `required, comma-separated: ${PROFILE_FIELDS.join(', ')}` } } } as const;
const profileHeaders = {
  'x-profile-stream-offsets': { type: 'string', description: 'per raw topic, the last input offset the answering task processed: topic:partition@offset (@none: none since it started)' },
  'x-profile-stream-answered-by': { type: 'string', description: 'host:port of the instance that owns the user, when the request was forwarded there' },
} as const;
const responses = { 200: { ...profileResponseSchema, headers: profileHeaders }, 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 503: errorSchema };

/** What fastify sends for a serialized object; said explicitly for the answers written as strings. */
const JSON_UTF8 = 'application/json; charset=utf-8';

type Params = { orgId: string; accountId: string; workspaceId: string; mpid?: string };

function fieldsOf(raw: string | undefined): Set<ProfileField> {
  const fields = parseFields(raw);
  if (fields) return fields;
  const unknown = (raw ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '' && !(PROFILE_FIELDS as readonly string[]).includes(p));
  if (unknown.length > 0) throw new ApiError('PS_ERR_API_BAD_FIELDS', `query parameter "fields" names unknown field(s) ${unknown.map((u) => `"${u}"`).join(', ')}: use a comma-separated subset of ${PROFILE_FIELDS.join(', ')}`);
  throw new ApiError('PS_ERR_API_BAD_FIELDS', `query parameter "fields" is required: a comma-separated subset of ${PROFILE_FIELDS.join(', ')}`);
}

/** Profile API: GET by MPID and POST resolve by immutable identity, answered by whichever instance owns the key. */
export async function profileRoutes(app: FastifyInstance, options: ProfileRoutesOptions): Promise<void> {
  const { lookup, auth, forwarder } = options;
  const answers = new ProfileAnswerCache();

  async function answerLocally(reply: FastifyReply, mpid: string, owner: KeyOwner, workspaceId: string, fields: Set<ProfileField>): Promise<unknown> {
    const found = await lookup.getProfile(mpid, owner);
    if (isUnavailable(found)) throw notReady(found.detail);
    if (!found.profile) throw new ApiError('PS_ERR_API_PROFILE_NOT_FOUND', `no profile for mpid ${mpid}`);
    reply.header(FRESHNESS_HEADER, found.freshness);
    // Written here, not by the response schema's serializer: fast-json-stringify checks every attribute
    // value against the schema's `anyOf` (string or list of strings) to pick how to write it, while
    // `toProfileResponse` builds exactly the documented shape, so JSON.stringify writes the same bytes
    // (test/unit/api/profile-api.test.ts compares them) in less time. The schema stays as the documentation.
    // Written once per stored profile object: an unchanged profile read again reuses the text.
    reply.type(JSON_UTF8);
    return answers.answer(found.profile, workspaceId, fields);
  }

  app.get<{ Params: Params; Querystring: { fields?: string } }>(
    '/userprofile/v1/:orgId/:accountId/:workspaceId/:mpid',
    { schema: { summary: 'A user\'s profile by MPID', tags: ['profile'], params: pathParams, querystring: fieldsQuery, response: responses } },
    async (request, reply) => {
      const key = await auth.authenticate(request);
      requireWorkspace(key, request.params.workspaceId);
      const fields = fieldsOf(request.query.fields);
      const mpid = request.params.mpid!;
      const owner = await lookup.ownerOfProfile(mpid);
      if (await relayToOwner(forwarder, request, reply, owner, { method: 'GET', path: request.url })) return reply;
      return answerLocally(reply, mpid, owner, request.params.workspaceId, fields);
    },
  );

  app.post<{ Params: Params; Querystring: { fields?: string }; Body: { environment_type: string; identity: { type: string; value: string } } }>(
    '/userprofile/v1/resolve/:orgId/:accountId/:workspaceId',
    {
      schema: {
        summary: 'A user\'s profile by immutable identity',
        tags: ['profile'],
        params: resolvePathParams,
        querystring: fieldsQuery,
        body: {
          type: 'object',
          required: ['identity'],
          properties: {
            environment_type: { type: 'string', enum: ['production', 'development'] },
            identity: { type: 'object', required: ['type', 'value'], properties: { type: { type: 'string', minLength: 1 }, value: { type: 'string', minLength: 1 } } },
          },
        },
        response: responses,
      },
    },
    async (request, reply) => {
      const key = await auth.authenticate(request);
      requireWorkspace(key, request.params.workspaceId);
      const fields = fieldsOf(request.query.fields);
      const { value } = request.body.identity;
      // mParticle's spelling (`customerid`) and the schema's (`customer_id`) name the same type.
      const type = canonicalIdentityType(request.body.identity.type) ?? request.body.identity.type;
      if (type !== options.immutableIdType) {
        throw new ApiError('PS_ERR_API_BAD_REQUEST', `identity.type must be the immutable ID type "${options.immutableIdType}", not "${type}"`);
      }
      // Hop 1: the instance that owns the identity resolves it.
      if (await relayToOwner(forwarder, request, reply, await lookup.ownerOfIdentity(type, value), { method: 'POST', path: request.url, body: request.body })) return reply;
      const resolved = await lookup.resolveIdentity(type, value);
      if (isUnavailable(resolved)) throw notReady(resolved.detail);
      if (!resolved.mpid) throw new ApiError('PS_ERR_API_PROFILE_NOT_FOUND', `no user with ${type} "${value}"`);
      // Hop 2: the instance that owns the MPID answers with the profile, as the GET by MPID. Allowed even
      // when this request arrived forwarded for the identity: the GET it sends has no hop left, so it ends there.
      const { orgId, accountId, workspaceId } = request.params;
      const byMpid = `/userprofile/v1/${encodeURIComponent(orgId)}/${encodeURIComponent(accountId)}/${encodeURIComponent(workspaceId)}/${resolved.mpid}?fields=${encodeURIComponent(request.query.fields ?? '')}`;
      const owner = await lookup.ownerOfProfile(resolved.mpid);
      if (await relayToOwner(forwarder, request, reply, owner, { method: 'GET', path: byMpid }, 1)) return reply;
      return answerLocally(reply, resolved.mpid, owner, workspaceId, fields);
    },
  );
}
