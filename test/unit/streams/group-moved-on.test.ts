import { describe, expect, it } from 'vitest';
import kafkajs from 'kafkajs';
import { groupMovedOn, kafkaUnavailable, producerFenced } from '../../../src/streams/internals/kafkajs-adapter.ts';

const { KafkaJSProtocolError, KafkaJSNumberOfRetriesExceeded } = kafkajs as unknown as {
  KafkaJSProtocolError: new (e: { type: string; code: number; retriable: boolean; message: string }) => Error;
  KafkaJSNumberOfRetriesExceeded: new (e: Error, meta: { retryCount: number; retryTime: number }) => Error;
};
const protocol = (type: string, code: number): Error => new KafkaJSProtocolError({ type, code, retriable: false, message: type });

describe('groupMovedOn (an offset commit refused because the group has a new generation)', () => {
  it('recognizes the coordinator errors that mean the generation is over, also wrapped by kafkajs retries', () => {
    expect(groupMovedOn(protocol('ILLEGAL_GENERATION', 22))).toBe(true);
    expect(groupMovedOn(protocol('REBALANCE_IN_PROGRESS', 27))).toBe(true);
    expect(groupMovedOn(protocol('UNKNOWN_MEMBER_ID', 25))).toBe(true);
    expect(groupMovedOn(new KafkaJSNumberOfRetriesExceeded(protocol('REBALANCE_IN_PROGRESS', 27), { retryCount: 5, retryTime: 100 }))).toBe(true);
  });

  it('leaves every other failure to the caller', () => {
    expect(groupMovedOn(protocol('COORDINATOR_NOT_AVAILABLE', 15))).toBe(false);
    expect(groupMovedOn(new Error('connection closed'))).toBe(false);
    expect(groupMovedOn(undefined)).toBe(false);
  });
});

describe('producerFenced (a transactional producer whose task another member took over)', () => {
  it('recognizes the fencing errors, also wrapped by kafkajs retries', () => {
    expect(producerFenced(protocol('INVALID_PRODUCER_EPOCH', 47))).toBe(true);
    expect(producerFenced(protocol('PRODUCER_FENCED', 90))).toBe(true);
    expect(producerFenced(new KafkaJSNumberOfRetriesExceeded(protocol('PRODUCER_FENCED', 90), { retryCount: 5, retryTime: 100 }))).toBe(true);
    expect(producerFenced(protocol('CONCURRENT_TRANSACTIONS', 51))).toBe(false);
  });
});

describe('kafkaUnavailable (an outage the runtime waits out)', () => {
  it('recognizes connection failures and retriable broker errors that outlasted the retries', () => {
    const refused = Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), { name: 'KafkaJSConnectionError' });
    expect(kafkaUnavailable(refused)).toBe(true);
    expect(kafkaUnavailable(new KafkaJSNumberOfRetriesExceeded(refused, { retryCount: 8, retryTime: 2000 }))).toBe(true);
    expect(kafkaUnavailable(new KafkaJSProtocolError({ type: 'COORDINATOR_LOAD_IN_PROGRESS', code: 14, retriable: true, message: 'The coordinator is loading' }))).toBe(true);
    // A broker just started: its offsets topic has no leader yet, and kafkajs gives up finding the coordinator.
    expect(kafkaUnavailable(new Error('Failed to find group coordinator'))).toBe(true);
  });

  it('leaves errors no retry fixes to be fatal', () => {
    expect(kafkaUnavailable(protocol('TOPIC_AUTHORIZATION_FAILED', 29))).toBe(false);
    expect(kafkaUnavailable(new Error('corrupt record'))).toBe(false);
  });
});
