import type { Deployment } from '../../src/config/deployment.ts';
import { parseAppConfig } from '../../src/config/app-config.ts';
import { parseIntegrationsConfig } from '../../src/config/integrations-config.ts';
import { uniqueName } from './stack-env.ts';

/** Two integrations: `all` takes everything (profile-only batches too); `ads` only custom events with consent rules off. */
export const TEST_INTEGRATIONS_YAML = `integrations:
  - name: all
    forward_profile_only_batches: true
  - name: ads
    filters:
      event_types:
        mode: allow
        list: [custom_event]
      user_attributes:
        mode: allow
        list: [tier]
`;

/** A deployment with its own application id, so its topics, group and changelogs are this test's alone. */
export function testDeployment(options: { partitions?: number; sources?: string[] } = {}): { deployment: Deployment; appYaml: string; integrationsYaml: string } {
  const applicationId = uniqueName('ps-test');
  const appYaml = `application_id: ${applicationId}\npartitions: ${options.partitions ?? 4}\nsources: [${(options.sources ?? ['web', 'ios']).join(', ')}]\n`;
  const app = parseAppConfig(appYaml, 'test/app.yaml');
  const { integrations } = parseIntegrationsConfig(TEST_INTEGRATIONS_YAML, { file: 'test/integrations.yaml', applicationId });
  return { deployment: { app, integrations }, appYaml, integrationsYaml: TEST_INTEGRATIONS_YAML };
}
