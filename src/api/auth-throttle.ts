/** Milliseconds since the epoch; tests pass a hand-advanced clock. */
export type NowMs = () => number;

export interface AuthThrottleOptions {
  /** Failed authentications from one client address (any key) before that address is refused. */
  readonly maxFailuresPerAddress: number;
  /** Failed authentications for one API key from one address before that pair is refused. */
  readonly maxFailuresPerKey: number;
  /** Length of the fixed window the failures are counted in. */
  readonly windowMs: number;
  /** Counters kept at most; the oldest windows are dropped first so a spray of addresses cannot grow memory. */
  readonly maxTracked?: number;
  readonly now?: NowMs;
}

interface Window {
  startedMs: number;
  failures: number;
}

/** When refused: seconds until the window that refused ends. */
export type ThrottleVerdict = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number; readonly scope: 'address' | 'key' };

/**
 * Counts failed authentications in fixed windows, per client address and per (API key, address) pair,
 * and refuses further unverified attempts once either is over its limit, before any scrypt is paid.
 *
 * The key counter is per address on purpose: a key-wide counter would let anyone who knows a key's name
 * lock its owner out with wrong secrets. A distributed guesser is bounded by the per-address limits times
 * its addresses, and by the verifier's own concurrency and queue (`secret-verifier.ts`).
 */
export class AuthThrottle {
  private readonly windows = new Map<string, Window>();
  private readonly now: NowMs;
  private readonly maxTracked: number;

  constructor(private readonly options: AuthThrottleOptions) {
    this.now = options.now ?? Date.now;
    this.maxTracked = options.maxTracked ?? 100_000;
  }

  /** Whether an unverified attempt from `address` with `key` may be checked now. */
  check(address: string, key: string): ThrottleVerdict {
    const now = this.now();
    const byAddress = this.current(addressId(address), now);
    if (byAddress && byAddress.failures >= this.options.maxFailuresPerAddress) return this.refused(byAddress, now, 'address');
    const byKey = this.current(keyId(key, address), now);
    if (byKey && byKey.failures >= this.options.maxFailuresPerKey) return this.refused(byKey, now, 'key');
    return { allowed: true };
  }

  recordFailure(address: string, key: string): void {
    const now = this.now();
    this.bump(addressId(address), now);
    this.bump(keyId(key, address), now);
  }

  /** A success clears the pair's counter (the owner mistyped, then got it right), not the address's. */
  recordSuccess(address: string, key: string): void {
    this.windows.delete(keyId(key, address));
  }

  private current(id: string, now: number): Window | undefined {
    const w = this.windows.get(id);
    if (w && now - w.startedMs >= this.options.windowMs) {
      this.windows.delete(id);
      return undefined;
    }
    return w;
  }

  private bump(id: string, now: number): void {
    const w = this.current(id, now);
    if (w) {
      w.failures += 1;
      return;
    }
    // Map order is insertion order, so the first entries are the oldest windows.
    while (this.windows.size >= this.maxTracked) this.windows.delete(this.windows.keys().next().value!);
    this.windows.set(id, { startedMs: now, failures: 1 });
  }

  private refused(w: Window, now: number, scope: 'address' | 'key'): ThrottleVerdict {
    return { allowed: false, scope, retryAfterSeconds: Math.max(1, Math.ceil((w.startedMs + this.options.windowMs - now) / 1000)) };
  }
}

function addressId(address: string): string {
  return `a\0${address}`;
}

function keyId(key: string, address: string): string {
  return `k\0${key}\0${address}`;
}
