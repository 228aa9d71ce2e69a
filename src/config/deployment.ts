import { join } from 'node:path';
import { loadIntegrationsConfig, type IntegrationConfig } from '../profiles/integrations-config.ts';
import { loadAppConfig, type AppConfig } from './app-config.ts';

/** Everything `topology/` declares, validated: the app's names and retention, and its integrations. */
export interface Deployment {
  readonly app: AppConfig;
  readonly integrations: readonly IntegrationConfig[];
}

export async function loadDeployment(topologyDir: string): Promise<Deployment> {
  const app = await loadAppConfig(join(topologyDir, 'app.yaml'));
  const { integrations } = await loadIntegrationsConfig(join(topologyDir, 'integrations.yaml'), { applicationId: app.applicationId });
  return { app, integrations };
}
