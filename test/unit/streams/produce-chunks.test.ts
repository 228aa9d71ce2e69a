import { describe, expect, it } from 'vitest';
import { chunksBySize } from '../../../src/streams/internals/produce-chunks.ts';
import type { OutgoingRecord } from '../../../src/streams/internals/record-collector.ts';

const record = (i: number, valueBytes: number, headers: OutgoingRecord['headers'] = {}): OutgoingRecord => ({
  topic: 't', partition: i % 3, key: Buffer.from(`k${i}`), value: Buffer.alloc(valueBytes), timestamp: 0, headers,
});

describe('chunksBySize (produce requests stay under the broker\'s message size)', () => {
  it('keeps every record, in order, in chunks whose payload stays under the limit', () => {
    const records = Array.from({ length: 300 }, (_, i) => record(i, 1000 + (i % 7) * 500));
    const chunks = chunksBySize(records, 64 * 1024);
    expect(chunks.flat()).toEqual(records);
    for (const c of chunks) {
      // Counted by hand: key + value + 64 bytes of record overhead each.
      expect(c.reduce((s, r) => s + r.key!.length + r.value!.length + 64, 0)).toBeLessThanOrEqual(64 * 1024);
    }
    expect(chunks.length).toBeGreaterThan(1);
  });

  it('counts header bytes, and gives a record bigger than the limit a chunk of its own', () => {
    const big = record(1, 10, { h: Buffer.alloc(2000) });
    const chunks = chunksBySize([record(0, 10), big, record(2, 10)], 1000);
    expect(chunks).toEqual([[record(0, 10)], [big], [record(2, 10)]]);
    expect(chunksBySize([], 1000)).toEqual([]);
  });
});
