import { join } from 'node:path';
import type { CommitUnit } from './commit.ts';
import type { KafkaPort } from './kafka-port.ts';
import { InMemoryBytesStore } from './memory-store.ts';
import { changelogOffsetKey, openTaskDb, type ChangelogPartition, type RestoreProgress, type RestoreTarget } from './restore.ts';
import type { TaskDb } from './rocksdb-task-db.ts';
import { StreamTask } from './stream-task.ts';
import type { ResolvedStreamsConfig } from './streams-config.ts';
import { parseTaskId, type BuiltTopology } from './topology-graph.ts';

/** A task this instance owns, with what its commits and restore need. */
export interface OwnedTask {
  readonly task: StreamTask;
  readonly db: TaskDb | undefined;
  readonly unit: CommitUnit;
  readonly progress: RestoreProgress;
}

export interface TaskFactoryOptions {
  readonly port: Pick<KafkaPort, 'admin'>;
  readonly topology: BuiltTopology;
  readonly config: ResolvedStreamsConfig;
  /** End offset of every changelog partition (`changelogOffsetKey`), read once for all new tasks. */
  readonly changelogEnds: ReadonlyMap<string, bigint>;
  readonly onDeadLetter: (err: unknown) => void;
}

/** Where a task's state lives: its RocksDB stores, their changelog partitions, its directory. */
export function taskStateLayout(id: string, topology: BuiltTopology, config: Pick<ResolvedStreamsConfig, 'stateDir' | 'applicationId'>): {
  persistent: string[];
  changelogs: ChangelogPartition[];
  dir: string;
} {
  const { subTopology, partition } = parseTaskId(id);
  const st = topology.subTopologies[subTopology]!;
  const defs = st.storeNames.map((n) => ({ name: n, def: topology.stores.get(n)! }));
  return {
    persistent: defs.filter((d) => d.def.builder.kind === 'rocksdb').map((d) => d.name),
    changelogs: defs.filter((d) => d.def.builder.loggingEnabled).map((d) => ({ store: d.name, topic: d.def.changelogTopic, partition })),
    dir: join(config.stateDir, config.applicationId, id),
  };
}

/**
 * Builds one assigned task in RESTORING: its RocksDB opened at the stored changelog offsets (or wiped when
 * they are beyond the changelog's end), in-memory stores empty, and the changelog ranges the restore must
 * replay. Under exactly-once the caller has waited for the task's input offsets to be stable first
 * (`StreamsApp`), so no transaction of a former owner can still add to the changelog below its end.
 */
export async function createTask(id: string, o: TaskFactoryOptions): Promise<{ owned: OwnedTask; targets: RestoreTarget[] }> {
  const targets: RestoreTarget[] = [];
  const { subTopology, partition } = parseTaskId(id);
  const st = o.topology.subTopologies[subTopology]!;
  const { persistent, changelogs, dir } = taskStateLayout(id, o.topology, o.config);
  const opened = persistent.length > 0
    ? await openTaskDb(dir, persistent, changelogs.filter((c) => persistent.includes(c.store)), o.changelogEnds, o.config.logger, async (topic, partition) => (await o.port.admin.endOffsets(topic)).get(partition) ?? 0n)
    : undefined;
  const memory = new Map<string, InMemoryBytesStore>();
  const task = new StreamTask({
    topology: o.topology,
    subTopology: st,
    partition,
    clock: o.config.clock,
    bytesStoreFor: (def, name) => {
      if (def.builder.kind === 'rocksdb') return opened!.db.store(name);
      const m = new InMemoryBytesStore(name);
      memory.set(name, m);
      return m;
    },
    deadLetterTopic: o.config.deadLetterTopic,
    onDeadLetter: o.onDeadLetter,
  });
  task.moveTo('RESTORING');
  const progress: RestoreProgress = { total: 0n, restored: 0n, done: false };
  const offsets = opened?.offsets ?? new Map<string, bigint>();
  for (const c of changelogs) {
    const key = changelogOffsetKey(c.topic, c.partition);
    const from = memory.has(c.store) ? 0n : (offsets.get(key) ?? 0n);
    const to = opened?.ends.get(key) ?? o.changelogEnds.get(key) ?? 0n;
    progress.total += to > from ? to - from : 0n;
    targets.push({ taskId: id, changelog: c, from, to, db: memory.has(c.store) ? undefined : opened!.db, memory: memory.get(c.store), progress });
  }
  const unit: CommitUnit = { task, db: opened?.db, changelogOffsets: offsets, committedInput: new Map(), inFlight: [] };
  const owned: OwnedTask = { task, db: opened?.db, unit, progress };
  return { owned, targets };
}
