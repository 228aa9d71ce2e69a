import { describe, expect, it } from 'vitest';
import kafkajs from 'kafkajs';
import { groupMovedOn } from '../../../src/streams/internals/kafkajs-adapter.ts';

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
