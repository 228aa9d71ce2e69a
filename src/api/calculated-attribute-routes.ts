import type {} from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import type { CalculatedAttributeDefinition } from '../audiences/calculated-attribute-definition.ts';
import type { CredentialChecker } from './credential-checker.ts';
import { addCounts, distributionOf, emptyCounts, emptyValueCounts, type CalculatedValueSource, type ValueCounts } from './calculated-value-counts.ts';
import type { Forwarder } from './forwarder.ts';
import { notReady, wasForwarded } from './owner-relay.ts';
import { isUnavailable } from './profile-lookup.ts';
import { workspaceFor, workspaceQuery } from './workspace-access.ts';

export interface CalculatedAttributeRoutesOptions {
  readonly auth: CredentialChecker;
  readonly definitions: readonly CalculatedAttributeDefinition[];
  readonly values: CalculatedValueSource;
  readonly forwarder: Forwarder;
}

const query = { type: 'object', additionalProperties: false, properties: { workspace_id: workspaceQuery } } as const;

/**
 * The Calculated attributes page's data: each definition with its current version, and how the current
 * values are spread over the workspace's profiles. Each instance counts the profiles it owns; the instance
 * asked adds up the others' counts (one hop, like the Profile API), and names any that did not answer.
 */
export async function calculatedAttributeRoutes(app: FastifyInstance, options: CalculatedAttributeRoutesOptions): Promise<void> {
  const { auth, definitions, values, forwarder } = options;

  async function local(workspace: string): Promise<ValueCounts> {
    const counts = await values.localCounts(workspace);
    if (isUnavailable(counts)) throw notReady(counts.detail);
    return counts;
  }

  app.get<{ Querystring: { workspace_id?: string } }>('/v1/workspace/calculated-attributes/local-counts', {
    schema: { summary: 'Value counts over the profiles this instance owns (what instances ask each other)', tags: ['workspace'], querystring: query },
  }, async (request) => {
    const key = await auth.authenticate(request);
    return local(workspaceFor(key, request.query.workspace_id));
  });

  app.get<{ Querystring: { workspace_id?: string } }>('/v1/workspace/calculated-attributes', {
    schema: { summary: 'Calculated attributes of a workspace: definitions, versions, distribution of current values', tags: ['workspace'], querystring: query },
  }, async (request) => {
    const key = await auth.authenticate(request);
    const workspace = workspaceFor(key, request.query.workspace_id);
    let counts = addCounts(emptyValueCounts(), await local(workspace));
    const unreachable: string[] = [];
    const peers = wasForwarded(request) ? [] : values.peers();
    const answers = await Promise.all(peers.map(async (peer) => {
      try {
        const res = await forwarder.forward(peer, { method: 'GET', path: `/v1/workspace/calculated-attributes/local-counts?workspace_id=${encodeURIComponent(workspace)}`, headers: { authorization: request.headers.authorization ?? '' } });
        if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
        return JSON.parse(res.body) as ValueCounts;
      } catch {
        unreachable.push(peer);
        return undefined;
      }
    }));
    for (const a of answers) if (a) counts = addCounts(counts, a);
    return {
      workspace_id: workspace,
      instances: { asked: peers.length + 1, unreachable },
      profiles_scanned: counts.profiles_scanned,
      calculated_attributes: definitions.filter((d) => d.workspace === workspace).map((d) => {
        const c = counts.attributes[d.name] ?? emptyCounts();
        return {
          name: d.name, calculation: d.calculation, attribute: d.attribute, event: d.event, range: d.range, version: d.version,
          users: c.users, no_value: c.no_value,
          // Values computed with an older definition are recomputed as users are seen; this shows how far that got.
          versions: Object.entries(c.versions).map(([v, n]) => ({ version: Number(v), users: n, current: Number(v) === d.version })).sort((a, b) => b.users - a.users),
          distribution: distributionOf(c),
        };
      }),
    };
  });
}
