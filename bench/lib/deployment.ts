import type { Deployment } from '../../src/config/deployment.ts';
import { parseAppConfig } from '../../src/config/app-config.ts';
import { parseIntegrationsConfig } from '../../src/config/integrations-config.ts';

/**
 * The benchmark's two integrations: `all` takes every batch with the full profile (profile-only batches
 * too, so it gets exactly one output per input); `ads` takes only custom events, one user attribute and
 * two identity types, so filtering has work to do. The Kafka Streams peer implements the same filters.
 */
export const BENCH_INTEGRATIONS_YAML = `integrations:
  - name: all
    forward_profile_only_batches: true
  - name: ads
    filters:
      event_types:
        mode: allow
        list: [custom_event]
      user_attributes:
        mode: allow
        list: [plan, favourite_drink, $Age]
      identities:
        mode: allow
        list: [customer_id, email]
`;

export interface BenchDeploymentOptions {
  readonly applicationId: string;
  readonly partitions: number;
  /** The shared, pre-produced raw topic every system reads (the same records for all). */
  readonly rawTopic: string;
}

/** A deployment like `topology/` declares, without calculated attributes or audiences (the peer has none). */
export function benchDeployment(o: BenchDeploymentOptions): Deployment {
  const app = parseAppConfig(`application_id: ${o.applicationId}\npartitions: ${o.partitions}\nsources: [web]\n`, 'bench/app.yaml');
  const { integrations } = parseIntegrationsConfig(BENCH_INTEGRATIONS_YAML, { file: 'bench/integrations.yaml', applicationId: o.applicationId });
  return { app: { ...app, rawTopics: [o.rawTopic] }, integrations };
}
