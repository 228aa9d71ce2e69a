import { describe, expect, it } from 'vitest';
import { WriteBehind } from '../../../src/streams/internals/write-behind.ts';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A write that finishes when the test says so. */
function gate(): { promise: Promise<void>; open: () => void; fail: (e: Error) => void } {
  let open!: () => void;
  let fail!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    open = res;
    fail = rej;
  });
  return { promise, open, fail };
}

describe('WriteBehind', () => {
  it('returns before the write finishes while under the byte limit, and runs one lane in order', async () => {
    const w = new WriteBehind(100);
    const order: string[] = [];
    const first = gate();
    await w.enqueue('p0', 10, async () => {
      order.push('a start');
      await first.promise;
      order.push('a end');
    });
    await w.enqueue('p0', 10, async () => void order.push('b'));
    await w.enqueue('p1', 10, async () => void order.push('c'));
    await tick();
    expect(order).toEqual(['a start', 'c']);
    first.open();
    await w.drain();
    expect(order).toEqual(['a start', 'c', 'a end', 'b']);
  });

  it('waits in enqueue once more than the limit is pending', async () => {
    const w = new WriteBehind(15);
    const first = gate();
    await w.enqueue('p0', 10, () => first.promise);
    let returned = false;
    const second = w.enqueue('p0', 10, async () => undefined).then(() => (returned = true));
    await tick();
    expect(returned).toBe(false);
    first.open();
    await second;
    expect(returned).toBe(true);
    await w.drain();
  });

  it('after a failed write runs no further write and throws from enqueue and drain', async () => {
    const w = new WriteBehind(100);
    const first = gate();
    let ran = false;
    await w.enqueue('p0', 1, () => first.promise);
    await w.enqueue('p0', 1, async () => void (ran = true));
    first.fail(new Error('disk full'));
    await expect(w.drain()).rejects.toThrow('disk full');
    expect(ran).toBe(false);
    await expect(w.enqueue('p1', 1, async () => undefined)).rejects.toThrow('disk full');
  });
});
