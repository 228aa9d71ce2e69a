import { describe, expect, it } from 'vitest';
import type { Type } from 'avsc';
import { avroTypeFor } from '../../../src/schema/avro-type.ts';
import type { Batch } from '../../../src/schema/batch.ts';
import { SCHEMAS } from '../../../src/schema/schema-catalog.ts';
import { attrs, batch, customEvent, T0 } from '../profiles/support/batches.ts';

/**
 * The type (avsc freezes it) behind an object whose top-level encodes are counted: avsc encodes a value
 * that did not fit its shared buffer a second time.
 */
function counting(type: Type): { type: Type; writes: () => number } {
  const inner = (type as unknown as { _write: (tap: unknown, v: unknown) => void })._write;
  let n = 0;
  const write = (tap: unknown, v: unknown): void => {
    n++;
    inner.call(type, tap, v);
  };
  return { type: Object.create(type, { _write: { value: write } }) as Type, writes: () => n };
}

const sized = (bytes: number): Batch => batch({ id: `b${bytes}`, timestamp_unixtime_ms: T0, user_attributes: attrs({ note: 'x'.repeat(bytes) }), events: [customEvent('purchase', T0)] });

describe('avsc encode buffer (avro-type.ts sizes it at load)', () => {
  it('encodes a 5 KB batch in one pass and round-trips it', () => {
    const { type, writes } = counting(avroTypeFor(SCHEMAS.batch));
    const value = sized(5000);
    const bytes = type.toBuffer(value);
    expect(bytes.length).toBeGreaterThan(5000);
    expect(writes()).toBe(1);
    expect(type.fromBuffer(bytes)).toEqual(value);
  });

  it('still encodes a value larger than the buffer (two passes) correctly', () => {
    const { type, writes } = counting(avroTypeFor(SCHEMAS.batch));
    const value = sized(2 * 1024 * 1024);
    const bytes = type.toBuffer(value);
    expect(writes()).toBe(2);
    expect(type.fromBuffer(bytes)).toEqual(value);
  });
});
