import { join } from 'node:path';
import { BenchChild, REPO_ROOT, type ChildEvent } from '../lib/child.ts';
import { sleep } from '../lib/kafka.ts';
import { log } from '../lib/progress.ts';
import type { WorkerConfig } from '../workers/service-worker.ts';

/** What a worker started with `reportTasksMs` last said about its tasks, and when (its clock). */
export interface TaskReport {
  readonly t: number;
  readonly active: ReadonlyArray<{ taskId: string; state: string }>;
  readonly standby: ReadonlyArray<{ taskId: string; lag: string }>;
}

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
  #admitted = false;
  #drained = false;
  readonly exits: UnexpectedExit[];
  /** The stderr file of every process this instance ran, oldest first. */
  readonly logFiles: string[] = [];

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

  /**
   * In a load balancer's rotation: answering, and its /ready said 200 at least once since it started (a
   * readiness probe admits an instance once; a short unreadiness during a rebalance does not take it out,
   * as a probe with a failure threshold would not). Taken out before a clean stop, as a balancer drains it.
   */
  get inRotation(): boolean {
    return this.answering && this.#admitted && !this.#drained;
  }

  /**
   * Out of the rotation, then a pause for the requests already on their way to finish, before a clean stop
   * (a load balancer's deregistration delay, or Kubernetes' preStop sleep).
   */
  async drain(ms: number): Promise<void> {
    this.#drained = true;
    await sleep(ms);
  }

  /** The last task report of the process running now (undefined before its runtime is RUNNING). */
  lastTasks(): TaskReport | undefined {
    const e = this.#child?.events.findLast((x) => x.event === 'tasks');
    return e as (ChildEvent & TaskReport) | undefined;
  }

  /** Store restore time the process running now reported since `since` (ms, summed). */
  restoreMsSince(since: number): number {
    return (this.#child?.events ?? []).filter((e) => e.event === 'restore' && e.t >= since).reduce((s, e) => s + Number(e.ms ?? 0), 0);
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
    this.#admitted = false;
    this.#drained = false;
    const child = BenchChild.node(this.name, join(REPO_ROOT, 'bench/workers/service-worker.ts'), [JSON.stringify(this.config)]);
    this.#child = child;
    this.logFiles.push(child.stderrFile);
    void child.waitFor('api', timeoutMs).then(async () => {
      if (this.#child !== child) return;
      this.#apiUp = true;
      while (this.#child === child && !child.hasExited && !(await this.#readyNow())) await sleep(250);
      if (this.#child === child && !child.hasExited) this.#admitted = true;
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

  async #readyNow(): Promise<boolean> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.port}/ready`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return res.status === 200;
    } catch {
      return false;
    }
  }

  /** When the process last started (spawned) reported its stream runtime RUNNING (its own clock). */
  async runningAt(timeoutMs = 180_000): Promise<number> {
    return (await this.#child!.waitFor('running', timeoutMs)).t;
  }

  /** When the process last started had loaded its modules (its own clock). */
  async loadedAt(timeoutMs = 180_000): Promise<number> {
    return (await this.#child!.waitFor('loaded', timeoutMs)).t;
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
