import type { KafkaSecurity } from '../kafka-security.ts';
import { groupInstanceId } from './instance-id.ts';
import type { KafkaPort } from './kafka-port.ts';
import type { StreamsLogger } from './logger.ts';
import { createPlatformaticPort } from './platformatic/port.ts';
import { kafkaSecurityFailure } from './security-failure.ts';

/**
 * The runtime's Kafka client. Its kafkajs port was removed once @platformatic/kafka was measured ahead of it
 * on every benchmark and chaos scenario that compared them (bench/results/kafka-clients/README.md); kafkajs
 * is unmaintained since 2023. A `KafkaPortFactory` still replaces the port (tests inject fakes and faults).
 */
export const KAFKA_CLIENTS = ['platformatic'] as const;
export type KafkaClientName = (typeof KAFKA_CLIENTS)[number];

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

/** The port for a client name or factory; platformatic joins with a group instance id kept in the state directory (`instance-id.ts`). */
export async function createKafkaPort(client: KafkaClientName | KafkaPortFactory, context: KafkaPortContext): Promise<KafkaPort> {
  if (typeof client === 'function') return client(context);
  const port = createPlatformaticPort({ ...context, groupInstanceId: await groupInstanceId(context.stateDir, context.clientId) });
  // Refused credentials or an untrusted certificate surface as connection errors, which the port's
  // outage classifier would wait out forever; they are configuration errors (security-failure.ts).
  const isUnavailable = port.isUnavailable.bind(port);
  port.isUnavailable = (err) => kafkaSecurityFailure(err) === undefined && isUnavailable(err);
  return port;
}
