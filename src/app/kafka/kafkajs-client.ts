import { Kafka, logLevel } from 'kafkajs';
import type { Logger } from 'pino';
import { kafkajsSecurityOptions, type KafkaSecurity } from '../../streams/index.ts';
import { kafkajsLogCreator } from './kafkajs-logger.ts';

export interface KafkaClientOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** kafkajs's warnings and errors go here (retried, transient ones at debug); without it only errors, to stderr. */
  readonly logger?: Logger | undefined;
  /** TLS / SASL settings (`KAFKA_SECURITY_PROTOCOL`, ...); plaintext when absent. */
  readonly security?: KafkaSecurity | undefined;
}

/** One kafkajs client as the app's Kafka modules configure it: bounded retries, so a dead broker fails a call instead of hanging it. */
export function kafkajsClient(options: KafkaClientOptions): Kafka {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  const logging = options.logger ? { logLevel: logLevel.WARN, logCreator: kafkajsLogCreator(options.logger) } : { logLevel: logLevel.ERROR };
  return new Kafka({ clientId: options.clientId, brokers: [...options.brokers], ...kafkajsSecurityOptions(options.security), ...logging, retry: { retries: 3 } });
}
