import { describe, expect, it } from 'vitest';
import { decodeOnce } from '../../../src/app/topology/decode-once.ts';

function countingJson() {
  const calls = { serialize: 0, deserialize: 0 };
  const serde = {
    serialize: (_t: string, v: { n: number }) => (calls.serialize++, Buffer.from(JSON.stringify(v))),
    deserialize: (_t: string, b: Buffer) => (calls.deserialize++, JSON.parse(b.toString()) as { n: number }),
  };
  return { serde, calls };
}

describe('decodeOnce', () => {
  it('decodes one Buffer object once and hands out the same value after', () => {
    const { serde, calls } = countingJson();
    const once = decodeOnce(serde);
    const bytes = Buffer.from('{"n":1}');
    const a = once.deserialize('t', bytes);
    expect(once.deserialize('t', bytes)).toBe(a);
    expect(a).toEqual({ n: 1 });
    expect(calls.deserialize).toBe(1);
  });

  it('reads back the value it just encoded without decoding, and decodes equal bytes in another Buffer anew', () => {
    const { serde, calls } = countingJson();
    const once = decodeOnce(serde);
    const value = { n: 2 };
    const bytes = once.serialize('t', value) as Buffer;
    expect(once.deserialize('t', bytes)).toBe(value);
    expect(calls.deserialize).toBe(0);
    const copy = Buffer.from(bytes);
    expect(once.deserialize('t', copy)).not.toBe(value);
    expect(once.deserialize('t', copy)).toEqual(value);
    expect(calls.deserialize).toBe(1);
  });
});
