import type { Logger } from 'pino';
import { platformaticClientOptions, type KafkaSecurity, type PlatformaticClientOptions } from '../../streams/index.ts';

export interface KafkaClientOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** Retried fetch failures and the like go here; without it they are not logged (the caller sees what it must). */
  readonly logger?: Logger | undefined;
  /** TLS / SASL settings (`KAFKA_SECURITY_PROTOCOL`, ...); plaintext when absent. */
  readonly security?: KafkaSecurity | undefined;
}

/**
 * The @platformatic/kafka options every client of the app's Kafka modules starts from: the stream
 * runtime's own (same TLS/SASL translation, bounded retries with its backoff, so a broker that stays away
 * fails a call within about 17 s instead of hanging it, and refused credentials fail it at once).
 */
export function clientOptions(options: KafkaClientOptions): PlatformaticClientOptions {
  return platformaticClientOptions(options.clientId, options.brokers, options.security);
}
