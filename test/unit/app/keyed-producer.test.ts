import { describe, expect, it } from 'vitest';
import { keyedMessages } from '../../../src/app/kafka/keyed-producer.ts';

/**
 * Partitions Kafka's Java producer picks, computed with Kafka 4.1.1's own code (kafka-clients
 * `BuiltInPartitioner.partitionForKey(new StringSerializer().serialize(t, key), n)`, run with the stack's
 * jars), for 1, 3, 4, 6, 10, 12 and 32 partitions. Several keys hash negative, where an unsigned reading of
 * murmur2 (the @platformatic/kafka default partitioner's `>>> 0`) picks another partition for every count
 * that is not a power of two ('1' at 3 partitions: Java 0, unsigned 2).
 */
const COUNTS = [1, 3, 4, 6, 10, 12, 32] as const;
const JAVA: ReadonlyArray<readonly [string, readonly number[]]> = [
  ['42', [0, 1, 0, 4, 2, 4, 12]],
  ['1', [0, 0, 3, 3, 9, 3, 15]],
  ['8934567890123456789', [0, 2, 3, 5, 9, 11, 27]],
  ['-4321098765432109876', [0, 0, 0, 0, 8, 0, 16]],
  ['email:john@example.com', [0, 1, 2, 4, 6, 10, 6]],
  ['customer_id:Jürgen', [0, 0, 0, 0, 6, 0, 16]],
  ['dsr-0f8e2c1a-9b7d-4e3f-a1c2-5d6e7f8a9b0c', [0, 0, 0, 0, 6, 0, 8]],
  ['', [0, 0, 1, 3, 1, 9, 25]],
];

describe('the keyed producer\'s messages', () => {
  it('put every key on the partition Kafka\'s Java producer picks for it', () => {
    for (const [i, partitions] of COUNTS.entries()) {
      const messages = keyedMessages('t', JAVA.map(([key]) => ({ key, value: 'v' })), partitions);
      expect(messages.map((m) => m.partition), `${partitions} partitions`).toEqual(JAVA.map(([, expected]) => expected[i]));
    }
  });

  it('carry the key and headers as UTF-8, the value as given, and the timestamp in epoch ms', () => {
    const [m] = keyedMessages('raw', [{ key: 'customer_id:Jürgen', value: Buffer.from([0, 1, 2]), timestamp: 1_700_000_000_123, headers: { 'x-source': 'wéb' } }], 4);
    expect(m!.topic).toBe('raw');
    expect(m!.key).toEqual(Buffer.from('customer_id:Jürgen', 'utf8'));
    expect(m!.value).toEqual(Buffer.from([0, 1, 2]));
    expect(m!.timestamp).toBe(1_700_000_000_123n);
    expect([...(m!.headers as Map<Buffer, Buffer>)].map(([k, v]) => [k.toString(), v.toString()])).toEqual([['x-source', 'wéb']]);
  });
});
