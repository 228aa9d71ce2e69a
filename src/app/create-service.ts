import type { Logger } from 'pino';
import type { Deployment } from '../config/deployment.ts';
import type { RuntimeEnv } from '../config/runtime-env.ts';
import type { Service } from './service.ts';
import { StatelessEnrichPipeline } from './stateless-enrich-pipeline.ts';

export interface ServiceOptions {
  readonly deployment: Deployment;
  readonly env: RuntimeEnv;
  readonly brokers: string[];
  readonly schemaRegistryUrl: string;
  readonly logger: Logger;
}

/** The stream processor `start` runs. */
export function createService(options: ServiceOptions): Service {
  return new StatelessEnrichPipeline(options);
}
