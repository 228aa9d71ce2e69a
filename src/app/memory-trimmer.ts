import { createRequire } from 'node:module';
import type { Logger } from 'pino';

/** glibc's `malloc_trim`, run on libuv's thread pool (koffi's async call): the event loop never waits for it. */
type AsyncTrim = (pad: number, done: (err: unknown, released: number) => void) => void;

/**
 * `malloc_trim` from the C library, or undefined where there is none: not Linux with glibc (macOS, musl,
 * Windows), or no koffi build for this platform. koffi is loaded lazily, so a platform without it only
 * loses the trimming.
 */
export function loadMallocTrim(): AsyncTrim | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const require = createRequire(import.meta.url);
    const koffi = require('koffi') as { load(path: string): { func(signature: string): { async: AsyncTrim } } };
    return koffi.load('libc.so.6').func('int malloc_trim(size_t pad)').async;
  } catch {
    return undefined;
  }
}

export interface MemoryTrimmerOptions {
  /** Growth of the resident set since the last trim that starts the next one; 0 turns trimming off. */
  readonly growthBytes: number;
  /** How often the resident set is looked at. Default 250 ms. */
  readonly intervalMs?: number;
  readonly logger: Logger;
  /** Finds the trim call, once trimming starts; tests give their own. Default: glibc's, where there is one. */
  readonly loadTrim?: () => AsyncTrim | undefined;
  /** The resident set in bytes; tests give their own. Default `process.memoryUsage.rss`. */
  readonly rss?: () => number;
}

/**
 * Gives the memory glibc holds free back to the kernel whenever the resident set grew by `growthBytes` since the
 * last time. Off by default (`MEMORY_TRIM_GROWTH_MB`): it trades throughput for memory.
 *
 * Why: Node's Buffers (fetched record batches, encoded outputs, changelog produce requests) and RocksDB's
 * memtables are allocated with malloc. When they are freed, glibc keeps the pages unless they sit at the top of
 * an arena, and with a steady churn of Buffers of a few hundred KB they rarely do: at 200,000 users under a
 * backlog, `malloc_trim(0)` run from a debugger at the peak took the process from 450 to 381 MB.
 *
 * What it costs (bench/ANALYSIS.md, "Memory at 200,000 users, session 10"): a trim walks every arena's free
 * chunks and takes 3-70 ms on a thread-pool thread, holding each arena's lock meanwhile, and the pages it hands
 * back are faulted in and zeroed again when malloc reuses them. At 32 MB of growth the pipeline lost ~0-15% of
 * its throughput for 13-25 MB less peak; at 16 MB, 10-30% for 25-34 MB. At 200,000 users, 32 MB took the peak
 * from 469 / 452 to 428 / 388 MB (at-least-once / exactly-once), the restore included.
 */
export class MemoryTrimmer {
  readonly #intervalMs: number;
  readonly #logger: Logger;
  /** Loaded by `start`, so a service with trimming off (the default) never loads koffi. */
  #trim: AsyncTrim | undefined;
  readonly #loadTrim: () => AsyncTrim | undefined;
  readonly #growthBytes: number;
  readonly #rss: () => number;
  /** The resident set after the last trim (or the lowest seen since): growth is counted from it. */
  #floor = Number.POSITIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  /** Calls made and how many gave memory back: the `/metrics`-free way tests and logs see it work. */
  readonly stats = { calls: 0, released: 0 };

  constructor(options: MemoryTrimmerOptions) {
    this.#intervalMs = options.intervalMs ?? 250;
    this.#logger = options.logger;
    this.#loadTrim = options.loadTrim ?? loadMallocTrim;
    this.#growthBytes = options.growthBytes;
    this.#rss = options.rss ?? process.memoryUsage.rss;
  }

  /** Whether trimming runs: a growth bound above 0 and a `malloc_trim` on this platform. */
  get active(): boolean {
    return this.#timer !== undefined;
  }

  start(): void {
    if (this.#timer || this.#growthBytes <= 0) return;
    this.#trim = this.#loadTrim();
    if (!this.#trim) {
      this.#logger.info('memory trimming is off: this platform has no glibc malloc_trim');
      return;
    }
    this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
    // Never what keeps the process alive.
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    // A slow trim (a large heap on a busy machine) is not stacked up behind itself.
    if (this.#running || !this.#trim) return;
    const rss = this.#rss();
    this.#floor = Math.min(this.#floor, rss);
    // Only after real growth: pages handed back are faulted in again (and zeroed) when malloc reuses them, so
    // trimming a heap that merely breathes would cost CPU for nothing. A restore of 200,000 profiles took
    // 7.6-7.9 s instead of 3.2-6.0 with a 16 MiB bound (load ~5), 3.5-4.4 s instead of 3.1-3.3 with 32 MiB (load ~2).
    if (rss - this.#floor < this.#growthBytes) return;
    this.#running = true;
    this.#trim(0, (err, released) => {
      this.#running = false;
      this.#floor = this.#rss();
      if (err) {
        // Not worth stopping the service for: the memory stays with glibc, as it would without trimming.
        this.#logger.warn({ err }, 'malloc_trim failed; memory trimming is off');
        this.stop();
        return;
      }
      this.stats.calls++;
      if (released) this.stats.released++;
    });
  }
}
