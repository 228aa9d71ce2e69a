import { SASL_MECHANISMS, type KafkaSecurity, type SaslMechanism } from '../streams/index.ts';
import { AppConfigError } from './config-errors.ts';
import { certificateFileVar, isSet, privateKeyFileVar, secretVar } from './env-files.ts';

/** Kafka's `security.protocol` values, which name what a broker listener expects. */
export const KAFKA_SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;

const SASL_VARS = ['KAFKA_SASL_MECHANISM', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD', 'KAFKA_SASL_PASSWORD_FILE'];
const TLS_VARS = ['KAFKA_SSL_CA_FILE', 'KAFKA_SSL_CERT_FILE', 'KAFKA_SSL_KEY_FILE', 'KAFKA_SSL_KEY_PASSWORD', 'KAFKA_SSL_KEY_PASSWORD_FILE'];

/**
 * How every Kafka client of profile-stream connects (the runtime's, whichever KAFKA_CLIENT, and the CLI's,
 * topic admin's and producers'), from KAFKA_SECURITY_PROTOCOL and the KAFKA_SASL_* / KAFKA_SSL_* variables.
 * A variable that the protocol would ignore is an error rather than silently unused: someone who set
 * KAFKA_SASL_PASSWORD but forgot the protocol believes they authenticate. There is no way to skip the
 * broker certificate check; a self-signed broker is trusted by giving its CA in KAFKA_SSL_CA_FILE.
 */
export function readKafkaSecurity(env: NodeJS.ProcessEnv, ownKafka: boolean): KafkaSecurity {
  const raw = env.KAFKA_SECURITY_PROTOCOL?.trim() || 'PLAINTEXT';
  const protocol = raw.toUpperCase();
  if (!(KAFKA_SECURITY_PROTOCOLS as readonly string[]).includes(protocol)) {
    throw new AppConfigError(`KAFKA_SECURITY_PROTOCOL=${raw}: expected ${KAFKA_SECURITY_PROTOCOLS.join(', ')}`);
  }
  const sasl = protocol.startsWith('SASL_');
  const tls = protocol.endsWith('SSL');
  const stray = [...(sasl ? [] : SASL_VARS), ...(tls ? [] : TLS_VARS)].filter((name) => isSet(env, name));
  if (stray.length > 0) {
    const wanted = stray.some((n) => n.startsWith('KAFKA_SASL')) ? (stray.some((n) => n.startsWith('KAFKA_SSL')) ? 'SASL_SSL' : 'SASL_SSL or SASL_PLAINTEXT') : 'SSL or SASL_SSL';
    throw new AppConfigError(`${stray.join(', ')} set but KAFKA_SECURITY_PROTOCOL=${protocol}: set KAFKA_SECURITY_PROTOCOL=${wanted}, or unset ${stray.length > 1 ? 'them' : 'it'}`);
  }
  if (protocol !== 'PLAINTEXT' && !ownKafka) {
    throw new AppConfigError(`KAFKA_SECURITY_PROTOCOL=${protocol} needs KAFKA_BROKERS (and SCHEMA_REGISTRY_URL): the local stack's Kafka listens in PLAINTEXT only`);
  }
  return { ...(tls ? { tls: readTls(env) } : {}), ...(sasl ? { sasl: readSasl(env, protocol) } : {}) };
}

function readSasl(env: NodeJS.ProcessEnv, protocol: string): NonNullable<KafkaSecurity['sasl']> {
  const rawMechanism = env.KAFKA_SASL_MECHANISM?.trim() || 'SCRAM-SHA-512';
  const mechanism = rawMechanism.toUpperCase().replace(/_/g, '-');
  if (!(SASL_MECHANISMS as readonly string[]).includes(mechanism)) {
    throw new AppConfigError(`KAFKA_SASL_MECHANISM=${rawMechanism}: expected ${SASL_MECHANISMS.join(', ')}`);
  }
  const username = env.KAFKA_SASL_USERNAME;
  if (!username) throw new AppConfigError(`KAFKA_SECURITY_PROTOCOL=${protocol} needs KAFKA_SASL_USERNAME`);
  const password = secretVar(env, 'KAFKA_SASL_PASSWORD');
  if (password === undefined) throw new AppConfigError(`KAFKA_SECURITY_PROTOCOL=${protocol} needs KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE`);
  return { mechanism: mechanism as SaslMechanism, username, password };
}

function readTls(env: NodeJS.ProcessEnv): NonNullable<KafkaSecurity['tls']> {
  const hasCert = isSet(env, 'KAFKA_SSL_CERT_FILE');
  const hasKey = isSet(env, 'KAFKA_SSL_KEY_FILE');
  if (hasCert !== hasKey) throw new AppConfigError(`${hasCert ? 'KAFKA_SSL_CERT_FILE' : 'KAFKA_SSL_KEY_FILE'} is set without ${hasCert ? 'KAFKA_SSL_KEY_FILE' : 'KAFKA_SSL_CERT_FILE'}: a client certificate needs both`);
  const keyPassword = secretVar(env, 'KAFKA_SSL_KEY_PASSWORD');
  if (keyPassword !== undefined && !hasKey) throw new AppConfigError('KAFKA_SSL_KEY_PASSWORD is set without KAFKA_SSL_KEY_FILE');
  const ca = certificateFileVar(env, 'KAFKA_SSL_CA_FILE');
  const cert = certificateFileVar(env, 'KAFKA_SSL_CERT_FILE');
  const key = privateKeyFileVar(env, 'KAFKA_SSL_KEY_FILE', keyPassword);
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}), ...(keyPassword !== undefined ? { keyPassword } : {}) };
}
