import { StreamsError } from '../../errors.ts';
import { isKafkaSecurityFailure } from '../security-failure.ts';

/**
 * Broker error ids (platformatic's `apiId`) meaning this member's group generation is over: a
 * rebalance started or finished without it, its session expired, or another process took its static
 * instance id. Nothing is wrong with the data; the member rejoins and the partitions' next owner
 * resumes from the last committed offsets.
 */
const GENERATION_OVER = new Set(['ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS', 'UNKNOWN_MEMBER_ID', 'FENCED_INSTANCE_ID']);

/**
 * A newer producer with the same transactional id exists (the task's new owner initialised it), so this
 * one may not commit any more: Kafka Streams treats it as task migrated, not as a failure.
 */
const PRODUCER_FENCED = new Set(['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH']);

interface ErrorLike {
  readonly apiId?: unknown;
  readonly cause?: unknown;
  readonly errors?: unknown;
}

/** Every broker error id inside `err` (platformatic nests them in MultipleErrors and causes). */
export function brokerErrorIds(err: unknown): Set<string> {
  const out = new Set<string>();
  const seen = new Set<unknown>();
  const visit = (e: unknown, depth: number): void => {
    if (e === null || typeof e !== 'object' || seen.has(e) || depth > 8) return;
    seen.add(e);
    const x = e as ErrorLike;
    if (typeof x.apiId === 'string') out.add(x.apiId);
    if (Array.isArray(x.errors)) for (const inner of x.errors) visit(inner, depth + 1);
    visit(x.cause, depth + 1);
  };
  visit(err, 0);
  return out;
}

export function isGenerationOver(err: unknown): boolean {
  return [...brokerErrorIds(err)].some((id) => GENERATION_OVER.has(id));
}

export function isProducerFenced(err: unknown): boolean {
  return [...brokerErrorIds(err)].some((id) => PRODUCER_FENCED.has(id));
}

/**
 * What the runtime must see for a failed offset or transaction commit: PS_ERR_TASK_MIGRATED when the
 * group moved on or the producer was fenced (the tasks close uncommitted and are recreated by the next
 * assignment), the error itself otherwise.
 */
export function commitError(err: unknown, what: string): unknown {
  if (isGenerationOver(err)) return new StreamsError('PS_ERR_TASK_MIGRATED', `${what} refused, the group moved to a new generation: ${[...brokerErrorIds(err)].join(', ')}`, { cause: err });
  if (isProducerFenced(err)) return new StreamsError('PS_ERR_TASK_MIGRATED', `${what} refused, a newer producer with the same transactional id fenced this one`, { cause: err });
  return withBrokerErrors(err);
}

/**
 * platformatic's messages say only which API failed ("Received response with error while executing API
 * X"); the broker's error ids sit in nested errors the runtime's log line does not show, so they are
 * appended to the message.
 */
export function withBrokerErrors(err: unknown): unknown {
  const ids = brokerErrorIds(err);
  if (ids.size === 0 || !(err instanceof Error) || err.message.includes('[broker:')) return err;
  try {
    err.message = `${err.message} [broker: ${[...ids].join(', ')}]`;
  } catch {
    // A frozen message: the error stays as it is.
  }
  return err;
}

/**
 * Delay before platformatic retries an operation. CONCURRENT_TRANSACTIONS only lasts while the broker
 * writes the previous transaction's markers (milliseconds): the library's fixed 1 s default made each
 * send after a commit wait ~0.7 s (DESIGN.md). Other retriable errors (coordinator moving, leader
 * election, a broker restarting) back off exponentially up to 1 s.
 */
export function retryDelay(_client: unknown, _operation: string, attempt: number, _retries: number, error: Error): number {
  const n = Math.max(0, attempt - 1);
  // The library retries a failed connection whatever failed it, refused credentials too (its NetworkError
  // is retriable and it does not look at the cause): the same bounded attempts, without ~17 s of backoff
  // in front of an error waiting cannot fix.
  if (isKafkaSecurityFailure(error)) return 20;
  // Usually over within one short wait; longer while the coordinator aborts a crashed producer's transaction.
  if (brokerErrorIds(error).has('CONCURRENT_TRANSACTIONS')) return Math.min(200, 20 * 2 ** n);
  return Math.min(1000, 50 * 2 ** n);
}

/**
 * The brokers could not be reached or did not answer in time, or answered with an error Kafka marks
 * retriable (coordinator loading or moving, leader election after a restart) that outlasted the
 * library's retries: a Kafka outage the runtime waits out, not a fatal error.
 */
export function isKafkaUnavailable(err: unknown): boolean {
  const seen = new Set<unknown>();
  const visit = (e: unknown, depth: number): boolean => {
    if (e === null || typeof e !== 'object' || seen.has(e) || depth > 8) return false;
    seen.add(e);
    const x = e as { code?: unknown; canRetry?: unknown; message?: unknown; errors?: unknown; cause?: unknown };
    if (x.code === 'PLT_KFK_NETWORK' || x.code === 'PLT_KFK_TIMEOUT' || x.code === 'PS_ERR_KAFKA_UNAVAILABLE') return true;
    if (x.code === 'PLT_KFK_PROTOCOL' && x.canRetry === true && !isGenerationOver(e) && !isProducerFenced(e)) return true;
    if (typeof x.message === 'string' && /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|EPIPE|socket hang up|Connection closed/i.test(x.message)) return true;
    if (Array.isArray(x.errors) && x.errors.some((inner) => visit(inner, depth + 1))) return true;
    return visit(x.cause, depth + 1);
  };
  return visit(err, 0);
}
