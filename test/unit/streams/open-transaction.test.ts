import { describe, expect, it } from 'vitest';
import { OpenTransaction } from '../../../src/streams/internals/open-transaction.ts';

describe('OpenTransaction', () => {
  it('hands the commit the transaction the early sends went into, and begins a new one after it', async () => {
    let begun = 0;
    const open = new OpenTransaction(async () => ++begun);
    expect(await open.current()).toBe(1);
    expect(await open.current()).toBe(1);
    const taken = open.take();
    expect(await taken.transaction).toBe(1);
    expect(taken.failure).toBeUndefined();
    expect(await open.current()).toBe(2);
  });

  it('a commit with no early send begins its own transaction', async () => {
    let begun = 0;
    const open = new OpenTransaction(async () => ++begun);
    expect(await open.take().transaction).toBe(1);
    expect(await open.take().transaction).toBe(2);
  });

  it('a failed send poisons only the transaction it went into: that commit must abort, the next one may commit', async () => {
    let begun = 0;
    const open = new OpenTransaction(async () => ++begun);
    await open.current();
    const first = new Error('connection closed during produce');
    open.sendFailed(first);
    open.sendFailed(new Error('a later failure'));
    const poisoned = open.take();
    expect(poisoned.failure?.error).toBe(first);
    const next = open.take();
    expect(await next.transaction).toBe(2);
    expect(next.failure).toBeUndefined();
  });
});
