import type {} from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import type { AudienceDefinition } from '../audiences/audience-definition.ts';
import type { CredentialChecker } from './credential-checker.ts';
import type { AudienceMembershipSource } from './audience-membership-source.ts';
import { ApiError } from './errors.ts';
import { workspaceFor, workspaceQuery } from './workspace-access.ts';

export interface AudienceRoutesOptions {
  readonly auth: CredentialChecker;
  readonly definitions: readonly AudienceDefinition[];
  readonly memberships: AudienceMembershipSource;
  readonly clock?: () => number;
  /** How long a request waits for the membership reader to catch up before answering with `complete: false`; default 10 s. */
  readonly catchUpMs?: number;
}

/**
 * The Audiences page's data: each audience of the workspace with its definition, current size and the last
 * 24 hours of joins and leaves per hour, and its members, newest first, a page at a time.
 */
export async function audienceRoutes(app: FastifyInstance, options: AudienceRoutesOptions): Promise<void> {
  const { auth, definitions, memberships } = options;
  const clock = options.clock ?? Date.now;
  const catchUpMs = options.catchUpMs ?? 10_000;

  app.get<{ Querystring: { workspace_id?: string } }>('/v1/workspace/audiences', {
    schema: { summary: 'Audiences of a workspace: definition, size, joins and leaves per hour over 24 h', tags: ['workspace'], querystring: { type: 'object', additionalProperties: false, properties: { workspace_id: workspaceQuery } } },
  }, async (request) => {
    const key = await auth.authenticate(request);
    const workspace = workspaceFor(key, request.query.workspace_id);
    const complete = await memberships.caughtUp(catchUpMs);
    const now = clock();
    return {
      workspace_id: workspace,
      // false: the topic is still being read (a large one takes a while after start); sizes are still growing.
      complete,
      as_of_ms: now,
      audiences: definitions.filter((d) => d.workspace === workspace).map((d) => {
        const hourly = memberships.hourly(d.id, now, 24);
        return {
          id: d.id, name: d.name, version: d.version, criteria: d.criteria,
          size: memberships.size(d.id),
          joins_24h: hourly.reduce((s, h) => s + h.joins, 0),
          leaves_24h: hourly.reduce((s, h) => s + h.leaves, 0),
          hourly,
        };
      }),
    };
  });

  type MembersQuery = { workspace_id?: string; offset?: number; limit?: number };
  app.get<{ Params: { audience_id: string }; Querystring: MembersQuery }>('/v1/workspace/audiences/:audience_id/members', {
    schema: {
      summary: 'Members of an audience, newest first, paged',
      tags: ['workspace'],
      params: { type: 'object', properties: { audience_id: { type: 'string', minLength: 1, maxLength: 100 } }, required: ['audience_id'] },
      querystring: { type: 'object', additionalProperties: false, properties: { workspace_id: workspaceQuery, offset: { type: 'integer', minimum: 0, default: 0 }, limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 } } },
    },
  }, async (request) => {
    const key = await auth.authenticate(request);
    const workspace = workspaceFor(key, request.query.workspace_id);
    const definition = definitions.find((d) => d.id === request.params.audience_id && d.workspace === workspace);
    if (!definition) throw new ApiError('PS_ERR_API_AUDIENCE_NOT_FOUND', `no audience "${request.params.audience_id}" in workspace ${workspace}`);
    const complete = await memberships.caughtUp(catchUpMs);
    const offset = request.query.offset ?? 0;
    const page = memberships.members(definition.id, offset, request.query.limit ?? 50);
    const next = offset + page.members.length;
    return { audience_id: definition.id, name: definition.name, complete, total: page.total, offset, members: page.members, next_offset: next < page.total ? next : null };
  });
}
