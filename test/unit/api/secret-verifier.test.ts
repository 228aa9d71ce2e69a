import { afterEach, describe, expect, it } from 'vitest';
import { hashSecret } from '../../../src/api/api-keys.ts';
import { SecretVerifier, VerifierBusyError } from '../../../src/api/secret-verifier.ts';

describe('secret verifier', () => {
  let verifier: SecretVerifier | undefined;
  afterEach(async () => verifier?.close());

  it('says whether a secret matches its scrypt hash, off the event loop', async () => {
    verifier = new SecretVerifier({ concurrency: 1, maxQueued: 4 });
    const stored = hashSecret('right');
    expect(await verifier.verify('right', stored)).toBe(true);
    expect(await verifier.verify('wrong', stored)).toBe(false);
    expect(await verifier.verify('right', 'plain$text')).toBe(false);
  });

  it('keeps the event loop free while a check runs', async () => {
    verifier = new SecretVerifier({ concurrency: 1, maxQueued: 16 });
    const stored = hashSecret('x');
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const started = Date.now();
    await Promise.all(Array.from({ length: 8 }, () => verifier!.verify('guess', stored)));
    clearInterval(timer);
    const elapsed = Date.now() - started;
    // scryptSync on the loop would have allowed no tick at all while eight checks ran back to back.
    expect(ticks).toBeGreaterThan(elapsed / 10);
  });

  it('queues up to maxQueued checks and refuses the next at once', async () => {
    verifier = new SecretVerifier({ concurrency: 1, maxQueued: 2 });
    const stored = hashSecret('x');
    const running = verifier.verify('a', stored);
    const queued = [verifier.verify('b', stored), verifier.verify('c', stored)];
    expect(verifier.queued).toBe(2);
    await expect(verifier.verify('d', stored)).rejects.toBeInstanceOf(VerifierBusyError);
    expect(await Promise.all([running, ...queued])).toEqual([false, false, false]);
    expect(verifier.queued).toBe(0);
    expect(await verifier.verify('x', stored)).toBe(true);
  });
});
