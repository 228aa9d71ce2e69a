import { describe, expect, it } from 'vitest';
import { eventually } from '../../support/eventually.ts';

describe('eventually', () => {
  it('returns the first value the probe gives, treating undefined and false as not yet', async () => {
    const answers: Array<number | undefined | false> = [undefined, false, 0, 7];
    let calls = 0;
    await expect(eventually('an answer', () => answers[calls++], { intervalMs: 5 })).resolves.toBe(0);
    expect(calls).toBe(3);
  });

  it('waits for an async probe before probing again', async () => {
    let running = 0;
    let most = 0;
    let calls = 0;
    const value = await eventually('the third call', async () => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 20));
      running -= 1;
      return ++calls === 3 ? 'done' : undefined;
    }, { intervalMs: 1 });
    expect(value).toBe('done');
    expect(most).toBe(1);
  });

  it('fails naming what it waited for when time runs out', async () => {
    await expect(eventually('the moon', () => undefined, { timeoutMs: 50, intervalMs: 5 })).rejects.toThrow('timed out after 50 ms waiting for the moon');
  });

  it('says what was last seen when given a function for what it waits for', async () => {
    let last = 0;
    await expect(eventually(() => `ten, last ${last}`, () => (++last === 10 ? last : undefined), { timeoutMs: 30, intervalMs: 20 })).rejects.toThrow(/waiting for ten, last [1-9]$/);
  });

  it('fails at once with the error of a probe that throws', async () => {
    const started = Date.now();
    const wrong = new Error('wrong answer');
    await expect(eventually('anything', () => { throw wrong; }, { timeoutMs: 10_000 })).rejects.toBe(wrong);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
