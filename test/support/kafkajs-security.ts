import type { KafkaConfig, SASLOptions } from 'kafkajs';
import type { KafkaSecurity } from '../../src/streams/index.ts';

const MECHANISMS = { 'SCRAM-SHA-512': 'scram-sha-512', 'SCRAM-SHA-256': 'scram-sha-256', PLAIN: 'plain' } as const;

/**
 * kafkajs' `ssl` and `sasl` options for `new Kafka({...})`; empty for PLAINTEXT. profile-stream itself runs on
 * @platformatic/kafka; tests use kafkajs as a foreign client, and with this it connects to a secured broker
 * with the same `KafkaSecurity` the service is given.
 */
export function kafkajsSecurityOptions(security: KafkaSecurity | undefined): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const out: Pick<KafkaConfig, 'ssl' | 'sasl'> = {};
  const tls = security?.tls;
  if (tls) {
    out.ssl = {
      // Never false: an unverified broker certificate would hand the SASL exchange to whoever answers.
      rejectUnauthorized: true,
      ...(tls.ca ? { ca: tls.ca } : {}),
      ...(tls.cert ? { cert: tls.cert } : {}),
      ...(tls.key ? { key: tls.key } : {}),
      ...(tls.keyPassword ? { passphrase: tls.keyPassword } : {}),
    };
  }
  const sasl = security?.sasl;
  if (sasl) out.sasl = { mechanism: MECHANISMS[sasl.mechanism], username: sasl.username, password: sasl.password } as SASLOptions;
  return out;
}
