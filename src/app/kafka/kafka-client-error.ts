import { brokerErrorIds, isKafkaUnavailable, kafkaSecurityFailure, type StreamsError } from '../../streams/index.ts';

export type KafkaClientErrorCode = 'PS_ERR_KAFKA_UNAVAILABLE' | 'PS_ERR_KAFKA_REQUEST_FAILED';

/**
 * A Kafka call of the app (producing, reading a topic, creating topics) that failed, with a stable code:
 * `PS_ERR_KAFKA_UNAVAILABLE` when the brokers could not be reached, did not answer in time or kept
 * answering with an error Kafka marks retriable (leader election, not enough in-sync replicas) past the
 * client's retries: worth trying again later. `PS_ERR_KAFKA_REQUEST_FAILED` when a broker refused the
 * request for good (no such topic, not authorised, record too large): the message names the broker's error.
 */
export class KafkaClientError extends Error {
  readonly retriable: boolean;

  constructor(
    readonly code: KafkaClientErrorCode,
    message: string,
    /** Kafka's error names in the answer (`NOT_LEADER_OR_FOLLOWER`, ...), empty when none came. */
    readonly brokerErrors: readonly string[],
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'KafkaClientError';
    this.retriable = code === 'PS_ERR_KAFKA_UNAVAILABLE';
  }
}

/**
 * What the app reports for a failed client call `what` ("producing to t"): refused credentials or an
 * untrusted broker certificate as the runtime reports them (`PS_ERR_KAFKA_AUTHENTICATION`,
 * `PS_ERR_KAFKA_TLS`), anything else as a `KafkaClientError`. The library's own messages say only which
 * operation failed ("Producing messages failed."); the broker's error names and the innermost cause are
 * added, so a log line or a 503 says what happened.
 */
export function kafkaClientError(err: unknown, what: string): KafkaClientError | StreamsError {
  const security = kafkaSecurityFailure(err);
  if (security) return security;
  if (err instanceof KafkaClientError) return err;
  const ids = [...brokerErrorIds(err)];
  const unavailable = isKafkaUnavailable(err);
  const detail = `${causes(err)}${ids.length > 0 ? ` [broker: ${ids.join(', ')}]` : ''}`;
  return unavailable
    ? new KafkaClientError('PS_ERR_KAFKA_UNAVAILABLE', `${what}: Kafka could not be reached or did not answer in time (${detail})`, ids, { cause: err })
    : new KafkaClientError('PS_ERR_KAFKA_REQUEST_FAILED', `${what}: Kafka refused the request (${detail})`, ids, { cause: err });
}

/** The distinct messages along the error's chain, outermost first, at most four. */
function causes(err: unknown): string {
  const out: string[] = [];
  const seen = new Set<unknown>();
  const visit = (e: unknown, depth: number): void => {
    if (e === null || typeof e !== 'object' || seen.has(e) || depth > 6) return;
    seen.add(e);
    const x = e as { message?: unknown; errors?: unknown; cause?: unknown };
    const message = typeof x.message === 'string' ? x.message.replace(/\.$/, '') : '';
    if (message !== '' && !out.includes(message)) out.push(message);
    if (Array.isArray(x.errors)) for (const inner of x.errors) visit(inner, depth + 1);
    visit(x.cause, depth + 1);
  };
  visit(err, 0);
  if (out.length === 0) return String(err);
  return out.slice(0, 4).join(': ');
}
