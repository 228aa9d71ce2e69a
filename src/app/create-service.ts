import type { Logger } from 'pino';
import type { Deployment } from '../config/deployment.ts';
import type { RuntimeEnv } from '../config/runtime-env.ts';
import { StreamsService } from './streams-service.ts';

export interface ServiceOptions {
  readonly deployment: Deployment;
  readonly env: RuntimeEnv;
  readonly brokers: string[];
  readonly schemaRegistryUrl: string;
  readonly logger: Logger;
  readonly applicationServer?: string;
  readonly commitIntervalMs?: number;
}

/** The stream processor `start` runs: the profile topology on the stream runtime. */
export function createService(options: ServiceOptions): StreamsService {
  return new StreamsService(options);
}
