import { join } from 'node:path';
import { BenchChild, REPO_ROOT } from '../lib/child.ts';
import { log } from '../lib/progress.ts';
import type { WorkerConfig } from '../workers/service-worker.ts';

/** An exit nobody asked for (the "no exit"), with how the process ended. */
export interface UnexpectedExit {
  readonly instance: string;
  readonly at: number;
  readonly report: string;
}

/**
 * One profile-stream instance of a scenario: the benchmarks' service worker (compiled JavaScript, as
 * users run it) with a fixed state directory and API port, so a restart comes back as the same member
 * (static membership reads its id from the state directory). An exit that was not asked for is
 * recorded and the instance is started again, so the scenario goes on and its data is still checked.
 */
export class ChaosInstance {
  #child: BenchChild | undefined;
  #expectingExit = false;
  #apiUp = false;
  readonly exits: UnexpectedExit[];

  constructor(readonly name: string, readonly config: WorkerConfig, exits: UnexpectedExit[]) {
    this.exits = exits;
  }

  get port(): number {
    return this.config.apiPort ?? 0;
  }

  /** Spawned, its HTTP API listening, and not (being) stopped or killed. */
  get answering(): boolean {
    return this.#child !== undefined && !this.#child.hasExited && this.#apiUp && !this.#expectingExit;
  }

  get up(): boolean {
    return this.#child !== undefined && !this.#child.hasExited;
  }

  get stderrFile(): string | undefined {
    return this.#child?.stderrFile;
  }

  /** Spawns the process; with `waitRunning`, resolves once its stream runtime is RUNNING. */
  async start(waitRunning = true, timeoutMs = 180_000): Promise<void> {
    this.#expectingExit = false;
    this.#apiUp = false;
    const child = BenchChild.node(this.name, join(REPO_ROOT, 'bench/workers/service-worker.ts'), [JSON.stringify(this.config)]);
    this.#child = child;
    void child.waitFor('api', timeoutMs).then(() => {
      if (this.#child === child) this.#apiUp = true;
    }, () => undefined);
    void child.exited.then(() => {
      if (this.#child !== child || this.#expectingExit) return;
      const report = child.deathReport();
      this.exits.push({ instance: this.name, at: Date.now(), report: report.slice(-2000) });
      log(`${this.name} exited unexpectedly; starting it again: ${report.slice(0, 600)}`);
      setTimeout(() => {
        if (this.#child === child) void this.start(false).catch(() => undefined);
      }, 1000).unref();
    });
    if (waitRunning) await child.waitFor('running', timeoutMs);
  }

  /** When the process last started (spawned) reported its stream runtime RUNNING (its own clock). */
  async runningAt(timeoutMs = 180_000): Promise<number> {
    return (await this.#child!.waitFor('running', timeoutMs)).t;
  }

  /** kill -9: no commit, no leaving the group. */
  kill(): void {
    this.#expectingExit = true;
    this.#child?.process.kill('SIGKILL');
  }

  /** Resolves once the killed process is gone (its pid and ports released). */
  async exited(): Promise<void> {
    await this.#child?.exited;
  }

  /** Clean stop (SIGTERM: commit, leave the group). */
  async stop(): Promise<void> {
    this.#expectingExit = true;
    await this.#child?.stop(30_000);
  }
}
