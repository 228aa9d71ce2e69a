import type { KafkaSecurity } from '../kafka-security.ts';
import { createKafkajsPort } from './kafkajs-adapter.ts';
import { groupInstanceId } from './instance-id.ts';
import type { KafkaPort } from './kafka-port.ts';
import type { StreamsLogger } from './logger.ts';
import { createPlatformaticPort } from './platformatic/port.ts';
import { kafkaSecurityFailure } from './security-failure.ts';

export const KAFKA_CLIENTS = ['kafkajs', 'platformatic'] as const;
export type KafkaClientName = (typeof KAFKA_CLIENTS)[number];

/**
 * The client the runtime uses when `StreamsConfig.kafkaClient` is not set: platformatic, measured faster
 * than kafkajs in the same pipeline benchmark run (bench/results/kafka-clients/) and passing every streams
 * integration test; kafkajs stays selectable until the full suite decides.
 */
export const DEFAULT_KAFKA_CLIENT: KafkaClientName = 'platformatic';

export interface KafkaPortContext {
  readonly clientId: string;
  readonly brokers: readonly string[];
  readonly logger: StreamsLogger;
  /** TLS and SASL for every connection of the port; PLAINTEXT without. */
  readonly security?: KafkaSecurity;
  /** This instance's locked state directory (`<stateDir>/<applicationId>`). */
  readonly stateDir: string;
}

/** A factory of the runtime's Kafka port: tests inject their own (a fake, or a real one with a fault). */
export type KafkaPortFactory = (context: KafkaPortContext) => KafkaPort | Promise<KafkaPort>;

/**
 * The port for a client name or factory. kafkajs has no static membership; platformatic joins with a
 * group instance id kept in the state directory (`instance-id.ts`).
 */
export async function createKafkaPort(client: KafkaClientName | KafkaPortFactory, context: KafkaPortContext): Promise<KafkaPort> {
  if (typeof client === 'function') return client(context);
  const port = client === 'kafkajs' ? createKafkajsPort(context) : createPlatformaticPort({ ...context, groupInstanceId: await groupInstanceId(context.stateDir, context.clientId) });
  // Refused credentials or an untrusted certificate surface as connection errors, which both clients'
  // outage classifiers would wait out forever; they are configuration errors (security-failure.ts).
  const isUnavailable = port.isUnavailable.bind(port);
  port.isUnavailable = (err) => kafkaSecurityFailure(err) === undefined && isUnavailable(err);
  return port;
}
