import { describe, expect, it } from 'vitest';
import { MultipleErrors, NetworkError, ProtocolError, ResponseError } from '@platformatic/kafka';
import { isStreamsError } from '../../../../src/streams/errors.ts';
import { brokerErrorIds, commitError, isGenerationOver, isKafkaUnavailable, isProducerFenced, retryDelay } from '../../../../src/streams/internals/platformatic/errors.ts';

// Kafka protocol error codes (Kafka's Errors.java): the ids the broker answers with.
const CODES = { ILLEGAL_GENERATION: 22, UNKNOWN_MEMBER_ID: 25, REBALANCE_IN_PROGRESS: 27, COORDINATOR_NOT_AVAILABLE: 15, INVALID_PRODUCER_EPOCH: 47, CONCURRENT_TRANSACTIONS: 51, FENCED_INSTANCE_ID: 82, PRODUCER_FENCED: 90 } as const;
type Id = keyof typeof CODES;

/** An error shaped as platformatic raises a broker answer: ResponseError(ProtocolError...), after retries wrapped again. */
function brokerError(id: Id, api = 8 /* OffsetCommit */): Error {
  return new ResponseError(api, 9, { '/topics/0/partitions/0': [CODES[id], null] }, {});
}
const afterRetries = (e: Error): Error => new MultipleErrors('commit failed 3 times.', [e, e]);

describe('platformatic error mapping', () => {
  it('finds the broker error ids inside the library\'s nested errors', () => {
    expect([...brokerErrorIds(afterRetries(brokerError('ILLEGAL_GENERATION')))]).toEqual(['ILLEGAL_GENERATION']);
    expect([...brokerErrorIds(new ProtocolError('PRODUCER_FENCED'))]).toEqual(['PRODUCER_FENCED']);
    expect(brokerErrorIds(new Error('plain')).size).toBe(0);
    expect(brokerErrorIds(undefined).size).toBe(0);
  });

  it('maps an offset commit refused for a new generation, or a fenced static member, to PS_ERR_TASK_MIGRATED', () => {
    for (const id of ['ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS', 'UNKNOWN_MEMBER_ID', 'FENCED_INSTANCE_ID'] as const) {
      const err = afterRetries(brokerError(id));
      expect(isGenerationOver(err), id).toBe(true);
      const mapped = commitError(err, 'offset commit');
      expect(isStreamsError(mapped, 'PS_ERR_TASK_MIGRATED'), id).toBe(true);
      expect((mapped as Error).cause, id).toBe(err);
    }
  });

  it('maps a fenced transactional producer to PS_ERR_TASK_MIGRATED (its task has a new owner)', () => {
    for (const id of ['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH'] as const) {
      const err = brokerError(id, 26 /* EndTxn */);
      expect(isProducerFenced(err), id).toBe(true);
      expect(isStreamsError(commitError(err, 'transaction commit'), 'PS_ERR_TASK_MIGRATED'), id).toBe(true);
    }
  });

  it('leaves every other failure as it is, with the broker ids in its message', () => {
    const coordinator = brokerError('COORDINATOR_NOT_AVAILABLE');
    const mapped = commitError(coordinator, 'offset commit');
    expect(mapped).toBe(coordinator);
    expect((mapped as Error).message).toContain('COORDINATOR_NOT_AVAILABLE');
    const network = new NetworkError('connection closed');
    expect(commitError(network, 'offset commit')).toBe(network);
    expect(isGenerationOver(network) || isProducerFenced(network)).toBe(false);
  });

  it('retries CONCURRENT_TRANSACTIONS after 20 ms, growing to at most 200 ms; other errors from 50 ms to at most 1 s', () => {
    const concurrent = brokerError('CONCURRENT_TRANSACTIONS', 24 /* AddPartitionsToTxn */);
    expect([1, 2, 3, 4, 5, 10].map((a) => retryDelay(undefined, 'produce', a, 20, concurrent))).toEqual([20, 40, 80, 160, 200, 200]);
    const other = new NetworkError('connection closed');
    expect([1, 2, 3, 5, 6, 20].map((a) => retryDelay(undefined, 'fetch', a, 20, other))).toEqual([50, 100, 200, 800, 1000, 1000]);
  });
});

describe('isKafkaUnavailable (an outage the runtime waits out)', () => {
  it('recognizes network failures, timeouts and retriable broker errors, also nested', () => {
    expect(isKafkaUnavailable(new NetworkError('Connection to 127.0.0.1:9092 failed.', { cause: new Error('connect ECONNREFUSED 127.0.0.1:9092') }))).toBe(true);
    expect(isKafkaUnavailable(new ProtocolError('COORDINATOR_LOAD_IN_PROGRESS'))).toBe(true);
    expect(isKafkaUnavailable(new MultipleErrors('failed', [new ProtocolError('NOT_COORDINATOR')]))).toBe(true);
  });

  it('leaves fencing, a new generation and errors no retry fixes to their own handling', () => {
    expect(isKafkaUnavailable(new ProtocolError('PRODUCER_FENCED'))).toBe(false);
    expect(isKafkaUnavailable(new ProtocolError('REBALANCE_IN_PROGRESS'))).toBe(false);
    expect(isKafkaUnavailable(new ProtocolError('TOPIC_AUTHORIZATION_FAILED'))).toBe(false);
    expect(isKafkaUnavailable(new Error('corrupt record'))).toBe(false);
  });
});
