import { describe, expect, it } from 'vitest';
import { mintKey, mintMpid } from '../../../src/identity/mpid-mint.ts';

describe('minting MPIDs', () => {
  const key = mintKey('profile-stream');

  it('gives every slot its own signed 64-bit MPID, even with the same random bits', () => {
    const seen = new Set<string>();
    for (let partition = 0; partition < 8; partition++) {
      for (let sequence = 0; sequence < 2000; sequence++) {
        const mpid = mintMpid({ partition, sequence, random16: 7 }, key);
        if (mpid === undefined) continue;
        const n = BigInt(mpid);
        expect(n >= -(2n ** 63n) && n < 2n ** 63n && n !== 0n).toBe(true);
        seen.add(mpid);
      }
    }
    expect(seen.size).toBeGreaterThanOrEqual(8 * 2000 - 1);
  });

  it('does not look sequential: neighbouring slots differ in about half their bits, and both signs occur', () => {
    const a = BigInt.asUintN(64, BigInt(mintMpid({ partition: 0, sequence: 1, random16: 0 }, key)!));
    const b = BigInt.asUintN(64, BigInt(mintMpid({ partition: 0, sequence: 2, random16: 0 }, key)!));
    const differing = (a ^ b).toString(2).split('').filter((c) => c === '1').length;
    expect(differing).toBeGreaterThan(16);
    const signs = new Set(Array.from({ length: 64 }, (_, i) => mintMpid({ partition: 1, sequence: i, random16: 3 }, key)!.startsWith('-')));
    expect(signs.size).toBe(2);
  });

  it('refuses slots beyond the space it can keep unique', () => {
    expect(() => mintMpid({ partition: 65536, sequence: 0, random16: 0 }, key)).toThrow(expect.objectContaining({ code: 'PS_ERR_IDENTITY_MPID_SPACE_EXHAUSTED' }));
  });
});
