import { join } from 'node:path';
import { loadAudiencesConfig } from './audiences-config.ts';
import { type AudienceDefinition } from '../audiences/audience-definition.ts';
import { loadCalculatedAttributesConfig } from './calculated-attributes-config.ts';
import { type CalculatedAttributeDefinition } from '../audiences/calculated-attribute-definition.ts';
import { loadIntegrationsConfig } from './integrations-config.ts';
import { type IntegrationConfig } from '../profiles/integration.ts';
import { loadAppConfig, type AppConfig } from './app-config.ts';
import { loadIdentityStrategy } from './identity-strategy-config.ts';
import type { IdentityStrategy } from '../identity/identity-strategy.ts';

/** Everything `topology/` declares, validated: the app's names and retention, and its integrations. */
export interface Deployment {
  readonly app: AppConfig;
  readonly integrations: readonly IntegrationConfig[];
  /** `calculated-attributes.yaml`; none when the file is absent. */
  readonly calculatedAttributes?: readonly CalculatedAttributeDefinition[];
  /** `audiences.yaml`, in dependency order; none when the file is absent. */
  readonly audiences?: readonly AudienceDefinition[];
  /** `identity.yaml`: how batches without an MPID are resolved; mParticle's default when the file is absent. */
  readonly identity?: IdentityStrategy;
}

export async function loadDeployment(topologyDir: string): Promise<Deployment> {
  const app = await loadAppConfig(join(topologyDir, 'app.yaml'));
  const { integrations } = await loadIntegrationsConfig(join(topologyDir, 'integrations.yaml'), { applicationId: app.applicationId });
  const calculatedAttributes = await loadCalculatedAttributesConfig(join(topologyDir, 'calculated-attributes.yaml'));
  const audiences = await loadAudiencesConfig(join(topologyDir, 'audiences.yaml'), { calculatedAttributes });
  const identity = await loadIdentityStrategy(join(topologyDir, 'identity.yaml'));
  return { app, integrations, calculatedAttributes, audiences, identity };
}
