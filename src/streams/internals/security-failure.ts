import { StreamsError } from '../errors.ts';

/**
 * Node's codes for a broker certificate the client does not trust (wrong or missing CA, a name the
 * certificate does not carry, expired): retrying cannot fix any of them.
 */
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

interface Walked {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly cause?: unknown;
  readonly originalError?: unknown;
  readonly errors?: unknown;
}

/** Every error in `err`'s chain: kafkajs nests through `cause`/`originalError`, platformatic through `cause`/`errors`. */
function* chain(err: unknown): Generator<Walked> {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0 && seen.size < 64) {
    const e = queue.shift();
    if (e === null || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    const w = e as Walked;
    yield w;
    queue.push(w.cause, w.originalError);
    if (Array.isArray(w.errors)) queue.push(...w.errors);
  }
}

/**
 * The brokers refused this client's credentials (SASL) or the client refused the brokers' certificate
 * (TLS), on either Kafka client: a `StreamsError` saying so, or undefined for any other error.
 * Neither is an outage: waiting does not change a password or a CA file, so the runtime stops with this
 * error instead of retrying, and the CLI prints it with its code.
 */
export function kafkaSecurityFailure(err: unknown): StreamsError | undefined {
  const kind = securityFailureKind(err);
  if (kind === undefined) return undefined;
  if (err instanceof StreamsError) return err;
  return kind.kind === 'sasl'
    ? new StreamsError('PS_ERR_KAFKA_AUTHENTICATION', `Kafka refused the SASL credentials (check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and the password): ${detail(err)}`, { cause: err })
    : new StreamsError('PS_ERR_KAFKA_TLS', `the TLS connection to Kafka failed (${kind.code}; check KAFKA_SSL_CA_FILE and the broker address the certificate names): ${detail(err)}`, { cause: err });
}

/** Whether `err` is a refused SASL exchange or an untrusted broker certificate (see `kafkaSecurityFailure`). */
export function isKafkaSecurityFailure(err: unknown): boolean {
  return securityFailureKind(err) !== undefined;
}

function securityFailureKind(err: unknown): { kind: 'sasl' } | { kind: 'tls'; code: string } | undefined {
  if (err instanceof StreamsError) {
    if (err.code === 'PS_ERR_KAFKA_AUTHENTICATION') return { kind: 'sasl' };
    if (err.code === 'PS_ERR_KAFKA_TLS') return { kind: 'tls', code: 'TLS' };
    return undefined;
  }
  for (const e of chain(err)) {
    const message = typeof e.message === 'string' ? e.message : '';
    if (e.name === 'KafkaJSSASLAuthenticationError' || e.code === 'PLT_KFK_AUTHENTICATION' || /SASL_AUTHENTICATION_FAILED|Authentication failed during authentication due to invalid credentials/i.test(message)) return { kind: 'sasl' };
    if (typeof e.code === 'string' && TLS_CODES.has(e.code)) return { kind: 'tls', code: e.code };
  }
  return undefined;
}

/** The innermost message: the outer ones only say that a connection or a retry failed. */
function detail(err: unknown): string {
  const messages = [...chain(err)].map((e) => (typeof e.message === 'string' ? e.message : '')).filter(Boolean);
  return [...new Set(messages)].slice(-2).join(': ') || String(err);
}
