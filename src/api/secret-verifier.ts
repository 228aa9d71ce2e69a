import { Worker } from 'node:worker_threads';
import { SCRYPT } from './api-keys.ts';

export interface SecretVerifierOptions {
  /** scrypt checks running at once, each on its own worker thread. */
  readonly concurrency: number;
  /** Checks waiting for a thread; one more is refused at once (`VerifierBusyError`). */
  readonly maxQueued: number;
}

/** The verifier's queue is full: answered 503 with Retry-After rather than queued without bound. */
export class VerifierBusyError extends Error {
  constructor(readonly queued: number) {
    super(`${queued} credential checks are already waiting`);
    this.name = 'VerifierBusyError';
  }
}

interface Job {
  readonly secret: string;
  readonly stored: string;
  readonly resolve: (ok: boolean) => void;
  readonly reject: (error: Error) => void;
}

// CommonJS run with `eval: true`, so it works the same from src/ (tsx) and dist/ without a file to resolve.
// scryptSync here blocks only this worker's own thread: neither the event loop nor libuv's pool, which
// RocksDB reads and writes and fs calls share, waits on a guessed secret.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { scryptSync, timingSafeEqual } = require('node:crypto');
parentPort.on('message', ({ secret, stored, params }) => {
  const [scheme, saltHex, hashHex] = stored.split('$');
  let ok = false;
  if (scheme === 'scrypt' && saltHex && hashHex) {
    const expected = Buffer.from(hashHex, 'hex');
    const actual = scryptSync(secret, Buffer.from(saltHex, 'hex'), expected.length, params);
    ok = actual.length === expected.length && timingSafeEqual(actual, expected);
  }
  parentPort.postMessage(ok);
});
`;

class VerifierThread {
  private readonly worker: Worker;
  private current: Job | undefined;
  dead = false;

  constructor(private readonly onIdle: (thread: VerifierThread) => void) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true });
    // Idle threads must not keep a finished process (a CLI run, a test file) alive.
    this.worker.unref();
    this.worker.on('message', (ok: boolean) => this.finish((job) => job.resolve(ok)));
    this.worker.on('error', (error: Error) => {
      this.dead = true;
      this.finish((job) => job.reject(error));
    });
  }

  run(job: Job): void {
    this.current = job;
    this.worker.postMessage({ secret: job.secret, stored: job.stored, params: { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: 64 * 1024 * 1024 } });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private finish(settle: (job: Job) => void): void {
    const job = this.current;
    this.current = undefined;
    if (job) settle(job);
    this.onIdle(this);
  }
}

/**
 * Runs scrypt secret checks on a few worker threads of its own, with a bounded queue: a flood of guessed
 * secrets waits here or is refused, while the event loop, RocksDB (libuv's pool) and verified clients go
 * on. Threads start on first use.
 *
 * @example Safe: one verifier per process, shared by every route.
 * ```ts
 * const verifier = new SecretVerifier({ concurrency: 1, maxQueued: 64 });
 * const ok = await verifier.verify(secret, entry.secretHash);
 * ```
 * @example Unsafe: a verifier per request starts a thread per guess, the flood this exists to bound.
 * ```ts
 * await new SecretVerifier({ concurrency: 1, maxQueued: 0 }).verify(secret, hash);
 * ```
 */
export class SecretVerifier {
  private readonly idle: VerifierThread[] = [];
  private readonly threads: VerifierThread[] = [];
  private readonly queue: Job[] = [];

  constructor(private readonly options: SecretVerifierOptions) {
    if (options.concurrency < 1) throw new RangeError('SecretVerifier needs a concurrency of at least 1');
  }

  /** Checks waiting for a thread now (for metrics and tests). */
  get queued(): number {
    return this.queue.length;
  }

  /** Whether `secret` matches `stored` (`scrypt$salt$hash`); rejects with `VerifierBusyError` when the queue is full. */
  verify(secret: string, stored: string): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      const job: Job = { secret, stored, resolve, reject };
      const thread = this.idle.pop() ?? this.startThread();
      if (thread) return thread.run(job);
      if (this.queue.length >= this.options.maxQueued) return reject(new VerifierBusyError(this.queue.length));
      this.queue.push(job);
    });
  }

  async close(): Promise<void> {
    for (const job of this.queue.splice(0)) job.reject(new Error('the secret verifier was closed'));
    await Promise.all(this.threads.map((t) => t.close()));
  }

  private startThread(): VerifierThread | undefined {
    if (this.threads.length >= this.options.concurrency) return undefined;
    const thread = new VerifierThread((t) => this.next(t));
    this.threads.push(thread);
    return thread;
  }

  private next(thread: VerifierThread): void {
    if (thread.dead) {
      // A thread that failed is replaced, so one bad moment does not shrink the pool for good.
      this.threads.splice(this.threads.indexOf(thread), 1);
      const job = this.queue.shift();
      if (job) this.startThread()!.run(job);
      return;
    }
    const job = this.queue.shift();
    if (job) thread.run(job);
    else this.idle.push(thread);
  }
}
