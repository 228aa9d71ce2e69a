import type { FastifyInstance } from 'fastify';
import type { AudienceDefinition } from '../audiences/audience-definition.ts';
import type { CalculatedAttributeDefinition } from '../audiences/calculated-attribute-definition.ts';
import type { CredentialChecker } from './credential-checker.ts';
import type { AudienceMembershipSource } from './audience-membership-source.ts';
import { audienceRoutes } from './audience-routes.ts';
import { calculatedAttributeRoutes } from './calculated-attribute-routes.ts';
import type { CalculatedValueSource } from './calculated-value-counts.ts';
import type { Forwarder } from './forwarder.ts';
import type { LiveFeed } from './live-feed.ts';
import { liveStreamRoutes } from './live-stream-routes.ts';

/** The workspace-wide pages of the UI; each part is served only when its source is given. */
export interface WorkspaceViewsOptions {
  readonly liveStream?: { feed: LiveFeed; maxStreamsPerKey?: number };
  readonly audiences?: { definitions: readonly AudienceDefinition[]; memberships: AudienceMembershipSource; clock?: () => number };
  readonly calculatedAttributes?: { definitions: readonly CalculatedAttributeDefinition[]; values: CalculatedValueSource };
}

export async function workspaceViewRoutes(app: FastifyInstance, options: WorkspaceViewsOptions & { auth: CredentialChecker; forwarder: Forwarder }): Promise<void> {
  const { auth } = options;
  if (options.liveStream) await app.register(liveStreamRoutes, { auth, ...options.liveStream });
  if (options.audiences) await app.register(audienceRoutes, { auth, ...options.audiences });
  if (options.calculatedAttributes) await app.register(calculatedAttributeRoutes, { auth, forwarder: options.forwarder, ...options.calculatedAttributes });
}
