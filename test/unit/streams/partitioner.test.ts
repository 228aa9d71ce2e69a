import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { murmur2, partitionForKey } from '../../../src/streams/index.ts';
// kafkajs' Java-compatible partitioner: a second, independent implementation to compare against.
import { Partitioners } from 'kafkajs';

const javaCompatible = Partitioners.JavaCompatiblePartitioner();

describe('murmur2', () => {
  it('matches the vectors of Kafka\'s UtilsTest.testMurmur2', () => {
    const cases: Array<[string, number]> = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [s, h] of cases) expect(murmur2(Buffer.from(s))).toBe(h);
  });

  it('agrees with kafkajs\' Java-compatible partitioner for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 1, max: 64 }), (bytes, n) => {
        const partitionMetadata = Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
        const expected = javaCompatible({ topic: 't', partitionMetadata, message: { key: Buffer.from(bytes), value: null } });
        expect(partitionForKey(bytes, n)).toBe(expected);
      }),
    );
  });
});
