import { vi } from 'vitest';

export interface EventuallyOptions {
  /** Give up after this long (default 30 s). */
  readonly timeoutMs?: number;
  /** Time between probes (default 100 ms); a probe still running is not started again. */
  readonly intervalMs?: number;
}

/**
 * The one polling helper of the tests: calls `probe` until it gives something other than `undefined` or
 * `false`, and returns that. A probe that throws fails at once with its own error (a wrong answer is not
 * "not yet"); running out of time fails naming `what` (STYLE.md: every wait has a deadline, every failure
 * is loud). `what` may be a function, read at the timeout, to say what was last seen. Built on
 * `vi.waitUntil`, which does the scheduling.
 *
 * @example safe — wait for a value and use it:
 * const profile = await eventually('the profile of 42', () => store.get('42'));
 * @example unsafe — a probe that swallows its own errors turns a failure into a 30 s timeout:
 * await eventually('ready', async () => { try { return await check(); } catch { return false; } });
 */
export async function eventually<T>(
  what: string | (() => string),
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  options: EventuallyOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  let failure: { error: unknown } | undefined;
  try {
    return await vi.waitUntil(
      async () => {
        try {
          const value = await probe();
          return value === undefined || value === false ? false : { value };
        } catch (error) {
          failure = { error };
          throw error;
        }
      },
      { timeout: timeoutMs, interval: options.intervalMs ?? 100 },
    ).then((found) => found.value);
  } catch (error) {
    if (failure !== undefined) throw failure.error;
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`, { cause: error });
  }
}
