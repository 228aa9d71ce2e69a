import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { basename, join, relative, sep } from 'node:path';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
/** Every child's whole stderr, one file each: a worker that dies leaves more than the tail in the error. */
export const CHILD_LOG_DIR = join(REPO_ROOT, 'bench', 'tmp', 'logs');

export interface ChildEvent {
  readonly event: string;
  readonly t: number;
  readonly [k: string]: unknown;
}

/**
 * A benchmarked process (profile-stream worker, pass-through, Kafka Streams peer, perf tool): its JSON
 * event lines on stdout, its peak RSS from /proc (VmHWM: the kernel's high-water mark, so no sample is
 * missed), and a clean stop.
 */
export class BenchChild {
  readonly process: ChildProcess;
  readonly events: ChildEvent[] = [];
  readonly lines: string[] = [];
  private readonly waiters: { match: (e: ChildEvent) => boolean; resolve: (e: ChildEvent) => void }[] = [];
  #stderrTail = '';
  /** The last 4,000 characters the child wrote to stderr (for failure messages). */
  get stderrTail(): string {
    return this.#stderrTail;
  }
  private stopping = false;
  private exitSignal: NodeJS.Signals | null = null;
  private readonly stderrLog: WriteStream;
  readonly stderrFile: string;
  readonly exited: Promise<number | null>;
  /** Rejects with `deathReport()` when the process exits before `stop()`; never resolves. */
  readonly died: Promise<never>;

  constructor(readonly name: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}) {
    this.process = spawn(command, [...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    mkdirSync(CHILD_LOG_DIR, { recursive: true });
    this.stderrFile = join(CHILD_LOG_DIR, `${new Date().toISOString().replace(/[:.]/g, '-')}-${name.replace(/[^a-z0-9-]+/gi, '-')}-${this.process.pid ?? 'nopid'}.stderr.log`);
    this.stderrLog = createWriteStream(this.stderrFile);
    createInterface({ input: this.process.stdout! }).on('line', (line) => {
      this.lines.push(line);
      if (!line.startsWith('{')) return;
      try {
        const e = JSON.parse(line) as ChildEvent;
        this.events.push(e);
        for (const w of [...this.waiters]) if (w.match(e)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(e);
        }
      } catch { /* not an event */ }
    });
    this.process.stderr!.on('data', (d: Buffer) => {
      this.stderrLog.write(d);
      this.#stderrTail = (this.#stderrTail + d.toString()).slice(-4000);
      if (process.env.BENCH_VERBOSE) process.stderr.write(`[${name}] ${d.toString()}`);
    });
    this.process.stderr!.on('end', () => this.stderrLog.end());
    // 'close' (not 'exit'): stdio is drained by then, so the stderr tail is complete.
    this.exited = new Promise((resolve) => this.process.on('close', (code, signal) => {
      this.exitSignal = signal;
      resolve(code);
    }));
    this.died = this.exited.then(() => {
      throw new Error(this.stopping ? `${this.name} was stopped` : this.deathReport());
    });
    this.died.catch(() => undefined); // only an error for whoever watches it
  }

  /** How the process ended, with its stderr tail and the file holding all of it. */
  deathReport(): string {
    const how = this.exitSignal ? `killed by ${this.exitSignal}` : `exited with code ${this.process.exitCode}`;
    const peak = this.lastPeakRssMb === undefined ? '' : `, peak RSS ${this.lastPeakRssMb} MB`;
    return `${this.name} (pid ${this.process.pid}) ${how}${peak}; stderr (all of it in ${this.stderrFile}):\n${this.stderrTail.slice(-3000) || '(empty)'}`;
  }

  /**
   * `work`, failing as soon as one of `children` dies; and when `work` fails because a child died
   * (a refused connection, a missing answer), the error is that child's death report.
   */
  static async watch<T>(children: readonly BenchChild[], work: Promise<T>): Promise<T> {
    try {
      return await Promise.race([work, ...children.map((c) => c.died)]);
    } catch (err) {
      // A dead child's refused connection can be seen before its exit is: give the exit a moment.
      const watched = children.filter((c) => !c.stopping);
      if (watched.length === 0) throw err;
      const dead = await Promise.race([
        Promise.any(watched.map((c) => c.died.catch(() => c))),
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 3000).unref()),
      ]);
      if (dead && !dead.stopping) throw new Error(dead.deathReport(), { cause: err });
      throw err;
    }
  }

  /**
   * A node process running a worker compiled to JavaScript, as `npm start` runs the service: through
   * tsx its RSS would include the TypeScript loader (~40 MB more), which users never run.
   */
  static node(name: string, file: string, args: readonly string[], nodeFlags: readonly string[] = [], env: NodeJS.ProcessEnv = {}): BenchChild {
    return new BenchChild(name, process.execPath, [...nodeFlags, compiledWorker(file), ...args], env);
  }

  /** Exited or killed (`exitCode` stays null when a signal ended it). */
  get hasExited(): boolean {
    return this.process.exitCode !== null || this.process.signalCode !== null;
  }

  get stderr(): string {
    return this.stderrTail;
  }

  waitFor(event: string, timeoutMs: number): Promise<ChildEvent> {
    const seen = this.events.find((e) => e.event === event);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no "${event}" within ${timeoutMs} ms; stderr: ${this.stderrTail.slice(-1500)}`)), timeoutMs);
      void this.exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`before "${event}": ${this.deathReport()}`));
      });
      this.waiters.push({ match: (e) => e.event === event, resolve: (e) => {
        clearTimeout(timer);
        resolve(e);
      } });
    });
  }

  private lastPeakRssMb: number | undefined;

  /** Peak resident set size in MB so far (Linux), undefined elsewhere or after exit. */
  peakRssMb(): number | undefined {
    try {
      const status = readFileSync(`/proc/${this.process.pid}/status`, 'utf8');
      const m = /VmHWM:\s+(\d+) kB/.exec(status);
      if (m) this.lastPeakRssMb = Math.round(Number(m[1]) / 1024);
      return m ? this.lastPeakRssMb : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * CPU time used so far (user + system, all threads) in microseconds, from /proc (Linux; undefined
   * elsewhere or after exit). Ticks are 1/100 s (USER_HZ on Linux x64): read it around a few seconds of load.
   */
  cpuMicros(): number | undefined {
    try {
      const stat = readFileSync(`/proc/${this.process.pid}/stat`, 'utf8');
      // Fields after the parenthesised command name (which may hold spaces): utime and stime are the 12th and 13th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) * 10_000;
    } catch {
      return undefined;
    }
  }

  /** Resident set size in MB now (VmRSS, Linux), undefined elsewhere or after exit. */
  rssMb(): number | undefined {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.process.pid}/status`, 'utf8'));
      return m ? Math.round(Number(m[1]) / 1024) : undefined;
    } catch {
      return undefined;
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  async stop(graceMs = 30_000): Promise<number | null> {
    this.stopping = true;
    if (this.hasExited) return this.exited;
    this.process.kill('SIGTERM');
    const timer = setTimeout(() => {
      process.stderr.write(`[bench] ${this.name} did not stop within ${graceMs} ms of SIGTERM: killing it\n`);
      this.process.kill('SIGKILL');
    }, graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

let built = false;

/** `bench/workers/x.ts` → `dist/bundle/x.js`, bundled once per harness process so it is never stale. */
function compiledWorker(file: string): string {
  const root = REPO_ROOT;
  const rel = relative(root, file);
  if (!rel.startsWith(`bench${sep}workers${sep}`) || !rel.endsWith('.ts')) throw new Error(`${file}: bench workers live in bench/workers/*.ts`);
  if (!built) {
    // Run as `npm start` runs the service: one bundled file per worker (scripts/bundle.mjs), built from the
    // sources (the bundle does not read the tsc output in dist/).
    const bundled = spawnSync(process.execPath, [join(root, 'scripts', 'bundle.mjs')], { cwd: root, encoding: 'utf8', timeout: 180_000 });
    if (bundled.status !== 0) throw new Error(`bundling the bench workers failed (exit ${bundled.status ?? bundled.signal}): ${bundled.stdout}${bundled.stderr}`);
    built = true;
  }
  return join(root, 'dist', 'bundle', basename(rel).replace(/\.ts$/, '.js'));
}
