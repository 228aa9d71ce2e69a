/**
 * How a client proves who it is to Kafka and checks who Kafka is, independent of the client library:
 * each port maps it to its own options (`internals/kafkajs-security.ts`, `internals/platformatic/security-options.ts`).
 * Certificates and keys are PEM text, already read; nothing here touches the file system.
 *
 * Safe: `{ tls: { ca }, sasl: { mechanism: 'SCRAM-SHA-512', username, password } }` (SASL_SSL, broker
 * certificate checked against `ca`). Unsafe: SASL without `tls` on an untrusted network sends a PLAIN
 * password in clear text (SCRAM never sends it, but the session is still readable).
 */
export interface KafkaSecurity {
  /** Present: connect over TLS. Without `ca` the system's trusted CAs check the broker's certificate. */
  readonly tls?: KafkaTls;
  readonly sasl?: KafkaSasl;
}

export interface KafkaTls {
  /** PEM CA certificate(s) the broker's certificate must chain to. */
  readonly ca?: string;
  /** PEM client certificate and key, for brokers that require client certificates (`ssl.client.auth=required`). */
  readonly cert?: string;
  readonly key?: string;
  /** Passphrase of an encrypted `key`. */
  readonly keyPassword?: string;
}

export const SASL_MECHANISMS = ['SCRAM-SHA-512', 'SCRAM-SHA-256', 'PLAIN'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export interface KafkaSasl {
  readonly mechanism: SaslMechanism;
  readonly username: string;
  readonly password: string;
}

/** Kafka's name for the combination (`security.protocol`), for start-up lines and error messages. */
export function securityProtocolOf(security: KafkaSecurity | undefined): 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL' {
  if (security?.sasl) return security.tls ? 'SASL_SSL' : 'SASL_PLAINTEXT';
  return security?.tls ? 'SSL' : 'PLAINTEXT';
}

/** `SASL_SSL (SCRAM-SHA-512 as alice)`: what a start-up line shows; never the password. */
export function describeKafkaSecurity(security: KafkaSecurity | undefined): string {
  const protocol = securityProtocolOf(security);
  return security?.sasl ? `${protocol} (${security.sasl.mechanism} as ${security.sasl.username})` : protocol;
}
