import { describe, expect, it } from 'vitest';
import { copyDict, dict, get, mapValues, setEntry } from '../../../src/shared/dictionary.ts';

describe('null-prototype dictionaries', () => {
  it('keeps "__proto__", "constructor" and "hasOwnProperty" as ordinary keys in every builder', () => {
    const source = dict<number>([['__proto__', 1], ['constructor', 2], ['hasOwnProperty', 3]]);
    for (const d of [source, copyDict(source), mapValues(source, (v) => v)]) {
      expect(Object.getPrototypeOf(d)).toBeNull();
      expect(Object.keys(d)).toEqual(['__proto__', 'constructor', 'hasOwnProperty']);
      expect(get(d, '__proto__')).toBe(1);
    }
  });

  it('setEntry never changes the prototype, even of an object that has one', () => {
    const plain: Record<string, unknown> = {};
    setEntry(plain, '__proto__', { polluted: true });
    expect(Object.getPrototypeOf(plain)).toBe(Object.prototype);
    expect(Object.hasOwn(plain, '__proto__')).toBe(true);
    expect((plain as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('copies are shallow and independent, in insertion order', () => {
    const a = dict<{ n: number }>([['x', { n: 1 }], ['y', { n: 2 }]]);
    const b = copyDict(a);
    setEntry(b, 'z', { n: 3 });
    expect(Object.keys(a)).toEqual(['x', 'y']);
    expect(Object.keys(b)).toEqual(['x', 'y', 'z']);
    expect(b.x).toBe(a.x);
    expect(mapValues(a, (v, k) => `${k}${v.n}`)).toEqual(dict([['x', 'x1'], ['y', 'y2']]));
  });
});
