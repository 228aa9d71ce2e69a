import avro from 'avsc';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { avroTypeFor } from '../../../src/schema/avro-type.ts';

/** Avro's zig-zag varint of a long, from the spec, in BigInt: the oracle for every magnitude. */
function specBytes(n: bigint): Buffer {
  let z = BigInt.asUintN(64, (n << 1n) ^ (n >> 63n));
  const out: number[] = [];
  while (z >= 0x80n) {
    out.push(Number(z & 0x7fn) | 0x80);
    z >>= 7n;
  }
  out.push(Number(z));
  return Buffer.from(out);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const safe = (n: bigint) => n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER);

describe('Avro long (read and written without a Buffer per value)', () => {
  const type = avroTypeFor({ type: 'record', name: 'L', fields: [{ name: 'v', type: 'long' }, { name: 's', type: 'string' }] });
  const edges = [0n, 1n, -1n, 63n, -64n, 64n, 2n ** 47n, -(2n ** 47n), 2n ** 48n - 1n, -(2n ** 48n) + 1n, 2n ** 48n, -(2n ** 48n), 2n ** 52n + 1n, -(2n ** 52n) - 1n,
    BigInt(Number.MAX_SAFE_INTEGER), BigInt(Number.MIN_SAFE_INTEGER), 2n ** 53n, -(2n ** 53n), 1_780_000_000_000n, INT64_MAX, INT64_MIN];

  it('writes the spec\'s bytes and reads back a number when safe, else a bigint, at every edge', () => {
    for (const n of edges) {
      const value = safe(n) ? Number(n) : n;
      const bytes = type.toBuffer({ v: value, s: 'x' });
      expect(bytes.subarray(0, bytes.length - 2)).toEqual(specBytes(n));
      expect(type.fromBuffer(bytes)).toEqual({ v: value, s: 'x' });
    }
  });

  it('agrees with the spec and with plain avsc on any int64', () => {
    const plain = avro.Type.forSchema('long');
    fc.assert(fc.property(fc.bigInt({ min: INT64_MIN, max: INT64_MAX }), (n) => {
      const value = safe(n) ? Number(n) : n;
      const bytes = type.toBuffer({ v: value, s: '' });
      expect(bytes.subarray(0, bytes.length - 1)).toEqual(specBytes(n));
      expect(type.fromBuffer(bytes).v).toEqual(value);
      // avsc's own reader rounds odd zig-zag values from 2^53 on (|n| >= 2^52), so it is an oracle only below that.
      if (n > -(2n ** 52n) && n < 2n ** 52n) expect(plain.fromBuffer(specBytes(n))).toBe(Number(n));
    }), { numRuns: 2000 });
  });

  it('rejects a non-integer or out-of-range long, and a truncated one', () => {
    expect(() => type.toBuffer({ v: 1.5, s: '' })).toThrow();
    expect(() => type.toBuffer({ v: 2n ** 63n, s: '' })).toThrow();
    expect(() => type.fromBuffer(Buffer.from([0xff, 0xff]))).toThrow();
  });
});
