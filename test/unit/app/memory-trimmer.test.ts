import { afterEach, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { loadMallocTrim, MemoryTrimmer } from '../../../src/app/memory-trimmer.ts';

const silent = pino({ level: 'silent' });
const trimmers: MemoryTrimmer[] = [];
function trimmer(...args: ConstructorParameters<typeof MemoryTrimmer>): MemoryTrimmer {
  const t = new MemoryTrimmer(...args);
  trimmers.push(t);
  return t;
}
afterEach(() => {
  for (const t of trimmers.splice(0)) t.stop();
  vi.useRealTimers();
});

describe('MemoryTrimmer', () => {
  it('calls glibc malloc_trim on this machine (Linux with glibc) and it gives memory back without failing', async () => {
    const trim = loadMallocTrim();
    expect(trim, 'koffi should load malloc_trim from libc.so.6 here').toBeDefined();
    // Memory freed in the middle of the heap: only a trim hands it back.
    let held: Buffer[] = [];
    for (let i = 0; i < 400; i++) held.push(Buffer.allocUnsafeSlow(100_000 + i));
    held = held.filter((_, i) => i % 2 === 0);
    const released = await new Promise<number>((resolve, reject) => trim!(0, (err, r) => (err ? reject(err) : resolve(r))));
    expect([0, 1]).toContain(released);
    expect(held.length).toBe(200);
  });

  it('trims once the resident set grew by the bound since the last trim, never stacking a call behind a slow one', async () => {
    vi.useFakeTimers();
    const MB = 2 ** 20;
    let rss = 300 * MB;
    const pending: Array<(err: unknown, released: number) => void> = [];
    const t = trimmer({ intervalMs: 100, growthBytes: 16 * MB, logger: silent, rss: () => rss, loadTrim: () => (_pad, done) => pending.push(done) });
    t.start();
    expect(t.active).toBe(true);
    // The first look only sets the floor; growth below the bound does not trim.
    await vi.advanceTimersByTimeAsync(100);
    rss += 15 * MB;
    await vi.advanceTimersByTimeAsync(100);
    expect(pending).toHaveLength(0);
    rss += 1 * MB;
    await vi.advanceTimersByTimeAsync(100);
    expect(pending).toHaveLength(1);
    // The call has not returned: later ticks skip rather than queue another.
    rss += 40 * MB;
    await vi.advanceTimersByTimeAsync(300);
    expect(pending).toHaveLength(1);
    rss = 310 * MB; // what the trim gave back: the new floor
    pending[0]!(null, 1);
    rss = 325 * MB;
    await vi.advanceTimersByTimeAsync(100);
    expect(pending).toHaveLength(1);
    rss = 326 * MB;
    await vi.advanceTimersByTimeAsync(100);
    expect(pending).toHaveLength(2);
    // A trim that found nothing to give back leaves the floor where the resident set is (live memory grew).
    pending[1]!(null, 0);
    await vi.advanceTimersByTimeAsync(500);
    expect(pending).toHaveLength(2);
    expect(t.stats).toEqual({ calls: 2, released: 1 });
    t.stop();
    rss = 900 * MB;
    await vi.advanceTimersByTimeAsync(500);
    expect(pending).toHaveLength(2);
  });

  it('is off with a growth bound of 0, and where there is no malloc_trim, saying so once', async () => {
    vi.useFakeTimers();
    const calls: number[] = [];
    const off = trimmer({ growthBytes: 0, logger: silent, loadTrim: () => (pad, done) => { calls.push(pad); done(null, 1); } });
    off.start();
    expect(off.active).toBe(false);
    const info = vi.fn();
    const none = trimmer({ growthBytes: 1, intervalMs: 100, logger: { ...silent, info } as unknown as typeof silent, loadTrim: () => undefined });
    none.start();
    expect(none.active).toBe(false);
    expect(info).toHaveBeenCalledWith(expect.stringContaining('no glibc malloc_trim'));
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toEqual([]);
  });

  it('turns itself off with a warning when malloc_trim fails, and the service goes on', async () => {
    vi.useFakeTimers();
    const warn = vi.fn();
    let calls = 0;
    let rss = 100;
    const t = trimmer({ intervalMs: 100, growthBytes: 10, rss: () => (rss += 20), logger: { ...silent, warn } as unknown as typeof silent, loadTrim: () => (_pad, done) => { calls++; done(new Error('boom'), 0); } });
    t.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toBe(1);
    expect(t.active).toBe(false);
    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ err: expect.any(Error) }), expect.stringContaining('memory trimming is off'));
  });
});
