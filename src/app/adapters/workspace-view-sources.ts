import type { Logger } from 'pino';
import type { WorkspaceViewsOptions } from '../../api/workspace-view-routes.ts';
import type { Deployment } from '../../config/deployment.ts';
import type { StreamsApp } from '../../streams/index.ts';
import { AudienceMembershipReader } from './audience-membership-reader.ts';
import { CalculatedValueScan } from './calculated-value-scan.ts';
import { ThreadedLiveFeed } from './threaded-live-feed.ts';
import type { ClientSecurity } from '../client-security.ts';

export interface WorkspaceViewSourcesOptions {
  readonly deployment: Deployment;
  readonly app: StreamsApp;
  readonly brokers: string[];
  readonly schemaRegistryUrl: string;
  readonly security?: ClientSecurity;
  readonly logger: Logger;
  readonly applicationServer: string | undefined;
}

/**
 * What the Live Stream, Audiences and Calculated attributes pages read, over the running service: the tail
 * of the raw topics, the audience membership topic, the profiles store. Nothing reads Kafka until a page asks.
 */
export function workspaceViewSources(o: WorkspaceViewSourcesOptions): { options: WorkspaceViewsOptions; close(): Promise<void> } {
  const { deployment, brokers, schemaRegistryUrl, security, logger } = o;
  const live = new ThreadedLiveFeed({ app: deployment.app, integrations: deployment.integrations, brokers, schemaRegistryUrl, security, logger });
  const memberships = new AudienceMembershipReader({ topic: deployment.app.audienceMembershipsTopic, applicationId: deployment.app.applicationId, brokers, schemaRegistryUrl, security, logger });
  return {
    options: {
      liveStream: { feed: live },
      audiences: { definitions: deployment.audiences ?? [], memberships },
      calculatedAttributes: { definitions: deployment.calculatedAttributes ?? [], values: new CalculatedValueScan(o.app, o.applicationServer) },
    },
    close: async () => {
      await Promise.all([live.stop(), memberships.close()]);
    },
  };
}
