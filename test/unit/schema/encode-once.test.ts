import { describe, expect, it } from 'vitest';
import { historyRecordSerde } from '../../../src/app/topology/history-store.ts';
import { encodeOnceFor } from '../../../src/schema/encode-once.ts';
import type { HistoryRecord } from '../../../src/schema/history-record.ts';
import { SCHEMAS } from '../../../src/schema/schema-catalog.ts';
import { mergeBatch } from '../../../src/profiles/merge-batch.ts';
import { attrs, batch, customEvent, T0 } from '../profiles/support/batches.ts';

function historyRecord(id: string): HistoryRecord {
  const b = batch({ id, timestamp_unixtime_ms: T0, user_attributes: attrs({ tier: 'gold', note: 'x'.repeat(3000) }), events: [customEvent('purchase', T0)] });
  return { batch: b, processed_timestamp_ms: T0 + 1, profile: mergeBatch(undefined, b).profile };
}

describe('encode once', () => {
  it('gives the same bytes object for the same value, and encodes an equal but different object anew', () => {
    const once = encodeOnceFor(SCHEMAS['history-record']);
    const a = historyRecord('a');
    const first = once.encode(a);
    expect(once.encode(a)).toBe(first);
    const copy = structuredClone(a);
    const again = once.encode(copy);
    expect(again).not.toBe(first);
    expect(again.equals(first)).toBe(true);
    expect(encodeOnceFor(SCHEMAS['history-record'])).toBe(once);
  });

  it('the history store reuses the bytes and still round-trips the record', () => {
    const record = historyRecord('b');
    const bytes = encodeOnceFor(SCHEMAS['history-record']).encode(record);
    const serde = historyRecordSerde();
    const stored = serde.serialize('history', record) as Buffer;
    expect(stored.subarray(1).equals(bytes)).toBe(true);
    expect(serde.deserialize('history', stored)).toEqual(record);
  });
});
