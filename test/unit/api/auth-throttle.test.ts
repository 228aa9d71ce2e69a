import { describe, expect, it } from 'vitest';
import { AuthThrottle } from '../../../src/api/auth-throttle.ts';

function throttle(now: { ms: number }, maxTracked?: number) {
  return new AuthThrottle({ maxFailuresPerAddress: 4, maxFailuresPerKey: 2, windowMs: 60_000, now: () => now.ms, ...(maxTracked ? { maxTracked } : {}) });
}

describe('failed-authentication throttle', () => {
  it('refuses a key from an address after its failures there, with the seconds left in the window', () => {
    const now = { ms: 1_000_000 };
    const t = throttle(now);
    t.recordFailure('10.0.0.1', 'key-a');
    expect(t.check('10.0.0.1', 'key-a')).toEqual({ allowed: true });
    now.ms += 15_000;
    t.recordFailure('10.0.0.1', 'key-a');
    // window started at 1_000_000, ends at 1_060_000; now is 1_015_000 -> 45 s
    expect(t.check('10.0.0.1', 'key-a')).toEqual({ allowed: false, scope: 'key', retryAfterSeconds: 45 });
  });

  it('never locks the key out for another address', () => {
    const now = { ms: 0 };
    const t = throttle(now);
    for (let i = 0; i < 10; i++) t.recordFailure('10.0.0.1', 'key-a');
    expect(t.check('10.0.0.1', 'key-a').allowed).toBe(false);
    expect(t.check('10.0.0.2', 'key-a')).toEqual({ allowed: true });
  });

  it('refuses an address spraying many keys once its own limit is reached', () => {
    const now = { ms: 0 };
    const t = throttle(now);
    for (const key of ['k1', 'k2', 'k3', 'k4']) t.recordFailure('10.0.0.9', key);
    expect(t.check('10.0.0.9', 'k5')).toEqual({ allowed: false, scope: 'address', retryAfterSeconds: 60 });
  });

  it('lets the address try again once the window has passed', () => {
    const now = { ms: 0 };
    const t = throttle(now);
    for (let i = 0; i < 4; i++) t.recordFailure('10.0.0.1', `k${i}`);
    now.ms = 59_999;
    expect(t.check('10.0.0.1', 'k9').allowed).toBe(false);
    now.ms = 60_000;
    expect(t.check('10.0.0.1', 'k9')).toEqual({ allowed: true });
  });

  it('a success clears the key\'s counter for that address only', () => {
    const now = { ms: 0 };
    const t = throttle(now);
    t.recordFailure('10.0.0.1', 'key-a');
    t.recordFailure('10.0.0.1', 'key-a');
    t.recordSuccess('10.0.0.1', 'key-a');
    expect(t.check('10.0.0.1', 'key-a')).toEqual({ allowed: true });
  });

  it('keeps at most maxTracked counters, dropping the oldest', () => {
    const now = { ms: 0 };
    const t = throttle(now, 4);
    for (let i = 0; i < 4; i++) t.recordFailure('10.0.0.1', 'key-a'); // address + pair: 2 counters
    for (let i = 0; i < 10; i++) t.recordFailure(`10.1.0.${i}`, 'spray'); // pushes them out
    expect(t.check('10.0.0.1', 'key-a')).toEqual({ allowed: true });
  });
});
