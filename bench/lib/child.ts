import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');

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
  private stderrTail = '';
  readonly exited: Promise<number | null>;

  constructor(readonly name: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}) {
    this.process = spawn(command, [...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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
      this.stderrTail = (this.stderrTail + d.toString()).slice(-4000);
      if (process.env.BENCH_VERBOSE) process.stderr.write(`[${name}] ${d.toString()}`);
    });
    this.exited = new Promise((resolve) => this.process.on('exit', (code) => resolve(code)));
  }

  /** A node process running a TypeScript file through tsx's loader (one process, so its RSS is the worker's). */
  static node(name: string, file: string, args: readonly string[], nodeFlags: readonly string[] = []): BenchChild {
    return new BenchChild(name, process.execPath, [...nodeFlags, '--import', 'tsx', file, ...args]);
  }

  get stderr(): string {
    return this.stderrTail;
  }

  waitFor(event: string, timeoutMs: number): Promise<ChildEvent> {
    const seen = this.events.find((e) => e.event === event);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no "${event}" within ${timeoutMs} ms; stderr: ${this.stderrTail.slice(-1500)}`)), timeoutMs);
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${code}) before "${event}"; stderr: ${this.stderrTail.slice(-1500)}`));
      });
      this.waiters.push({ match: (e) => e.event === event, resolve: (e) => {
        clearTimeout(timer);
        resolve(e);
      } });
    });
  }

  /** Peak resident set size in MB so far (Linux), undefined elsewhere or after exit. */
  peakRssMb(): number | undefined {
    try {
      const status = readFileSync(`/proc/${this.process.pid}/status`, 'utf8');
      const m = /VmHWM:\s+(\d+) kB/.exec(status);
      return m ? Math.round(Number(m[1]) / 1024) : undefined;
    } catch {
      return undefined;
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  async stop(graceMs = 30_000): Promise<number | null> {
    if (this.process.exitCode !== null) return this.process.exitCode;
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
