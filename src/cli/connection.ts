import { LocalStack } from '../../stack/local-stack.ts';
import type { RuntimeEnv } from '../config/runtime-env.ts';
import type { ClientSecurity } from '../app/client-security.ts';
import type { CliOutput } from './cli-output.ts';
import { CliError } from './errors.ts';

export interface Connection {
  readonly brokers: string[];
  readonly schemaRegistryUrl: string;
  /** True when the endpoints are the local stack's (so `--stop-stack` means something). */
  readonly localStack: boolean;
  /** TLS/SASL for Kafka and basic auth/CA for the registry, from the environment; none for the local stack. */
  readonly security: ClientSecurity;
}

/** The user's Kafka when KAFKA_BROKERS/SCHEMA_REGISTRY_URL are set; otherwise the local stack, started if needed. */
export async function connect(env: RuntimeEnv, out: CliOutput, options: { startStack: boolean }): Promise<Connection> {
  if (env.kafkaBrokers && env.schemaRegistryUrl) {
    const { url: _url, ...registry } = env.schemaRegistry ?? { url: env.schemaRegistryUrl };
    return { brokers: env.kafkaBrokers, schemaRegistryUrl: env.schemaRegistryUrl, localStack: false, security: { kafka: env.kafkaSecurity, registry } };
  }
  const stack = new LocalStack();
  if (options.startStack) {
    const e = await stack.up((line) => out.info(`[stack] ${line}`));
    return { brokers: [e.brokers], schemaRegistryUrl: e.schemaRegistryUrl, localStack: true, security: {} };
  }
  const s = await stack.status();
  if (!s.kafkaAnswers || !s.registryAnswers) {
    throw new CliError('PS_ERR_CLI_NO_KAFKA', `No Kafka: on ${s.brokers} the local stack's Kafka is ${s.kafka}, its registry ${s.registry}. Run \`npm start\` (or \`npm run stack:up\`), or set KAFKA_BROKERS and SCHEMA_REGISTRY_URL`);
  }
  return { brokers: [s.brokers], schemaRegistryUrl: s.schemaRegistryUrl, localStack: true, security: {} };
}
