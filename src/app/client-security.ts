import type { RegistryEndpoint } from '../schema/subject-registration.ts';
import type { KafkaSecurity } from '../streams/index.ts';

/**
 * How the clients the app opens beside the runtime (producers, readers, topic admin, the CLI's) reach
 * Kafka and the schema registry: the same settings the runtime gets, read once from the environment
 * (`src/config/kafka-security-env.ts`, `registry-security-env.ts`). Optional everywhere: without it,
 * PLAINTEXT and an unauthenticated registry, as the local stack has.
 */
export interface ClientSecurity {
  readonly kafka?: KafkaSecurity;
  readonly registry?: Omit<RegistryEndpoint, 'url'>;
}

/** The registry endpoint for `url` with the registry's credentials and CA. */
export function registryEndpoint(url: string, security: ClientSecurity | undefined): RegistryEndpoint {
  return { ...security?.registry, url };
}
