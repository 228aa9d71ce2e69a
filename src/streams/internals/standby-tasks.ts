import type { Clock } from '../clock.ts';
import type { KafkaPort } from './kafka-port.ts';
import type { StreamsLogger } from './logger.ts';
import type { StreamsMetrics } from './metrics.ts';
import { changelogOffsetKey, openTaskDb, restore, type RestoreProgress, type RestoreTarget } from './restore.ts';
import type { TaskDb } from './rocksdb-task-db.ts';
import type { ResolvedStreamsConfig } from './streams-config.ts';
import { taskStateLayout } from './task-factory.ts';
import { errorMessage } from './stream-task.ts';
import type { BuiltTopology } from './topology-graph.ts';

export interface StandbyContext {
  readonly port: Pick<KafkaPort, 'readPartitions' | 'admin'>;
  readonly topology: BuiltTopology;
  readonly config: Pick<ResolvedStreamsConfig, 'stateDir' | 'applicationId' | 'processingGuarantee' | 'restoreTimeoutMs' | 'logger'>;
  readonly metrics: StreamsMetrics;
  readonly clock: Clock;
  /** Pause between two catch-up reads of the changelogs. */
  readonly pollMs: number;
}

/** One task's stores kept warm in its own RocksDB directory, where the active task will open them. */
class StandbyTask {
  #running = true;
  #wake: (() => void) | undefined;
  readonly #loop: Promise<void>;
  /** Changelog records written by the active but not yet here, as of the last look. */
  lag = 0n;

  constructor(
    readonly id: string,
    private readonly ctx: StandbyContext,
  ) {
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    const { persistent, changelogs, dir } = taskStateLayout(this.id, this.ctx.topology, this.ctx.config);
    const logged = changelogs.filter((c) => persistent.includes(c.store));
    let db: TaskDb | undefined;
    let offsets = new Map<string, bigint>();
    // Restore's own progress lines would repeat every poll: a standby logs at debug.
    const quiet: StreamsLogger = { ...this.ctx.config.logger, info: (o, m) => this.ctx.config.logger.debug(o, m) };
    try {
      while (this.#running) {
        try {
          const ends = new Map<string, bigint>();
          for (const topic of new Set(logged.map((c) => c.topic))) {
            for (const [p, off] of await this.ctx.port.admin.endOffsets(topic)) ends.set(changelogOffsetKey(topic, p), off);
          }
          if (!db) ({ db, offsets } = await openTaskDb(dir, persistent, logged, ends, quiet));
          if (!this.#running) break;
          const progress: RestoreProgress = { total: 0n, restored: 0n, done: false };
          const targets: RestoreTarget[] = logged.map((c) => {
            const key = changelogOffsetKey(c.topic, c.partition);
            return { taskId: this.id, changelog: c, from: offsets.get(key) ?? 0n, to: ends.get(key) ?? 0n, db, memory: undefined, progress };
          });
          this.lag = targets.reduce((n, t) => n + (t.to > t.from ? t.to - t.from : 0n), 0n);
          this.ctx.metrics.standbyLag.set({ task: this.id }, Number(this.lag));
          await restore(targets, {
            port: this.ctx.port,
            readCommitted: this.ctx.config.processingGuarantee === 'exactly_once',
            logger: quiet,
            metrics: this.ctx.metrics,
            clock: this.ctx.clock,
            timeoutMs: this.ctx.config.restoreTimeoutMs,
            topology: this.ctx.topology,
          });
          for (const t of targets) if (t.to > t.from) offsets.set(changelogOffsetKey(t.changelog.topic, t.changelog.partition), t.to);
        } catch (err) {
          // A standby is an optimisation: an outage or a slow read is retried, never fatal.
          if (this.#running) this.ctx.config.logger.debug({ task: this.id, err: errorMessage(err) }, 'standby catch-up failed; retrying');
        }
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          setTimeout(resolve, this.ctx.pollMs);
        });
      }
    } finally {
      await db?.close();
      this.ctx.metrics.standbyLag.remove({ task: this.id });
    }
  }

  /** Stops tailing and closes the task's RocksDB (after the write under way), so the active can open it. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop.catch(() => undefined);
  }
}

/**
 * The standby replicas this instance keeps (Kafka Streams' standby tasks): each tails its task's changelogs
 * into the task's RocksDB directory, so when the task moves here the restore reads only the tail. The
 * leader's assignment names them; they never process input and never write to Kafka.
 */
export class StandbyTasks {
  readonly #tasks = new Map<string, StandbyTask>();

  constructor(private readonly ctx: StandbyContext) {}

  ids(): string[] {
    return [...this.#tasks.keys()].sort();
  }

  /** Changelog records each standby is behind, as of its last look. */
  lags(): Map<string, bigint> {
    return new Map([...this.#tasks].map(([id, t]) => [id, t.lag]));
  }

  /** Keeps exactly `wanted` running: stops the others, starts the missing ones. */
  async reconcile(wanted: ReadonlySet<string>): Promise<void> {
    await this.stop([...this.#tasks.keys()].filter((id) => !wanted.has(id)));
    for (const id of wanted) if (!this.#tasks.has(id)) this.#tasks.set(id, new StandbyTask(id, this.ctx));
  }

  /** Stops these standbys (e.g. tasks about to become active here); unknown ids are ignored. */
  async stop(ids: readonly string[]): Promise<void> {
    await Promise.all(
      ids.map(async (id) => {
        const t = this.#tasks.get(id);
        if (!t) return;
        this.#tasks.delete(id);
        await t.stop();
      }),
    );
  }

  async stopAll(): Promise<void> {
    await this.stop([...this.#tasks.keys()]);
  }
}
