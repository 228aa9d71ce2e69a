import { mkdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { JavaRuntime } from './java-runtime.ts';
import { run } from './process-control.ts';
import { StackError } from './stack-errors.ts';

/** A SASL user of a secured test broker: SCRAM-SHA-256 and -512 credentials and a PLAIN entry, same password. */
export interface BrokerUser {
  readonly name: string;
  readonly password: string;
}

/**
 * Extra listeners beside the broker's PLAINTEXT one (which the stack's own readiness check and admin keep
 * using), for testing clients against SASL and TLS the way a secured cluster runs them. Nothing of the
 * default stack uses this: it stays PLAINTEXT on loopback.
 */
export interface BrokerSecurity {
  readonly users: readonly BrokerUser[];
  /** SASL over plain TCP: SCRAM-SHA-512, SCRAM-SHA-256 and PLAIN enabled. */
  readonly saslPlaintextPort?: number;
  /** SASL over TLS (needs `keystore`). */
  readonly saslSslPort?: number;
  /** TLS without SASL (needs `keystore`). */
  readonly sslPort?: number;
  /** PKCS12 keystore with the broker's key and certificate (`createBrokerKeystore`). */
  readonly keystore?: { readonly file: string; readonly password: string };
}

const MECHANISMS = ['SCRAM-SHA-512', 'SCRAM-SHA-256', 'PLAIN'] as const;

function jaasQuote(value: string): string {
  if (/["\\\n]/.test(value)) throw new StackError('PS_ERR_STACK_START_FAILED', `a broker user name or password may not contain quotes, backslashes or newlines: ${JSON.stringify(value)}`);
  return `"${value}"`;
}

function securedListeners(security: BrokerSecurity): Array<{ name: string; port: number }> {
  const out: Array<{ name: string; port: number }> = [];
  if (security.saslPlaintextPort) out.push({ name: 'SASL_PLAINTEXT', port: security.saslPlaintextPort });
  if (security.saslSslPort) out.push({ name: 'SASL_SSL', port: security.saslSslPort });
  if (security.sslPort) out.push({ name: 'SSL', port: security.sslPort });
  if (out.some((l) => l.name.endsWith('SSL')) && !security.keystore) throw new StackError('PS_ERR_STACK_START_FAILED', 'a TLS listener needs a keystore (createBrokerKeystore)');
  return out;
}

/** `NAME://host:port` entries to append to `listeners` and `advertised.listeners`. */
export function securedListenerEntries(host: string, security: BrokerSecurity | undefined): string[] {
  return security ? securedListeners(security).map((l) => `${l.name}://${host}:${l.port}`) : [];
}

/** `NAME:NAME` entries to append to `listener.security.protocol.map`. */
export function securedProtocolMap(security: BrokerSecurity | undefined): string[] {
  return security ? securedListeners(security).map((l) => `${l.name}:${l.name}`) : [];
}

/** server.properties lines: the SASL mechanisms and their login modules per listener, and the keystore. */
export function securedListenerProperties(security: BrokerSecurity | undefined): string[] {
  if (!security) return [];
  const listeners = securedListeners(security);
  const lines: string[] = [];
  if (listeners.some((l) => l.name.startsWith('SASL_'))) lines.push(`sasl.enabled.mechanisms=${MECHANISMS.join(',')}`);
  const plainUsers = security.users.map((u) => `user_${u.name}=${jaasQuote(u.password)}`).join(' ');
  for (const l of listeners.filter((x) => x.name.startsWith('SASL_'))) {
    const prefix = `listener.name.${l.name.toLowerCase()}`;
    lines.push(`${prefix}.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`);
    lines.push(`${prefix}.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`);
    lines.push(`${prefix}.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};`);
  }
  if (security.keystore && listeners.some((l) => l.name.endsWith('SSL'))) {
    lines.push('ssl.keystore.type=PKCS12', `ssl.keystore.location=${security.keystore.file}`, `ssl.keystore.password=${security.keystore.password}`, `ssl.key.password=${security.keystore.password}`, 'ssl.client.auth=none');
  }
  return lines;
}

/**
 * `kafka-storage format` arguments creating each user's SCRAM credentials in the cluster metadata (KRaft has
 * no ZooKeeper to hold them, and kafka-configs needs a running broker with a SCRAM-capable listener).
 */
export function scramFormatArgs(security: BrokerSecurity | undefined): string[] {
  if (!security) return [];
  return security.users.flatMap((u) => ['SCRAM-SHA-512', 'SCRAM-SHA-256'].flatMap((m) => ['--add-scram', `${m}=[name=${u.name},password=${u.password}]`]));
}

/**
 * A self-signed broker certificate for `host` (an IP address and/or DNS names) in a PKCS12 keystore made
 * with the JDK's keytool, and the certificate as PEM: the CA a client trusts (KAFKA_SSL_CA_FILE).
 */
export async function createBrokerKeystore(java: JavaRuntime, dir: string, names: { ips?: readonly string[]; dns?: readonly string[] }): Promise<{ keystore: { file: string; password: string }; caFile: string; caPem: string }> {
  mkdirSync(dir, { recursive: true });
  const keytool = basename(java.executable) === java.executable ? 'keytool' : join(dirname(java.executable), 'keytool');
  const password = 'broker-keystore-pass';
  const file = join(dir, 'broker.p12');
  const caFile = join(dir, 'broker-ca.pem');
  const san = [...(names.ips ?? []).map((ip) => `ip:${ip}`), ...(names.dns ?? []).map((d) => `dns:${d}`)].join(',');
  const gen = await run(keytool, ['-genkeypair', '-alias', 'broker', '-keyalg', 'EC', '-groupname', 'secp256r1', '-dname', 'CN=profile-stream test broker', '-ext', `SAN=${san}`, '-ext', 'bc:c', '-validity', '30', '-storetype', 'PKCS12', '-keystore', file, '-storepass', password, '-keypass', password]);
  if (gen.code !== 0) throw new StackError('PS_ERR_STACK_START_FAILED', `keytool could not create the broker keystore: ${gen.output.trim()}`);
  const exported = await run(keytool, ['-exportcert', '-rfc', '-alias', 'broker', '-keystore', file, '-storepass', password, '-file', caFile]);
  if (exported.code !== 0) throw new StackError('PS_ERR_STACK_START_FAILED', `keytool could not export the broker certificate: ${exported.output.trim()}`);
  return { keystore: { file, password }, caFile, caPem: readFileSync(caFile, 'utf8') };
}
