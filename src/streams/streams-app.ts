import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { systemClock, type Clock } from './clock.ts';
import { StreamsError, isStreamsError, type StreamsErrorCode } from './errors.ts';
import { partitionForKey } from './partitioner.ts';
import type { KeyValueStore, ReadOnlyKeyValueStore, KeyValue } from './store.ts';
import type { Topology } from './topology.ts';
import { ASSIGNOR_PROTOCOL, StickyTaskAssignor, hostMapFromGroup } from './internals/assignor.ts';
import { commitTasks, sendOutputsEarly, type CommitUnit } from './internals/commit.ts';
import { createKafkaPort, DEFAULT_KAFKA_CLIENT, type KafkaClientName, type KafkaPortFactory } from './internals/kafka-client.ts';
import type { FetchedBatch, GroupConsumerPort, KafkaPort, ProducerPort, TopicPartitions } from './internals/kafka-port.ts';
import { stderrLogger, type StreamsLogger } from './internals/logger.ts';
import { InMemoryBytesStore } from './internals/memory-store.ts';
import { StreamsMetrics } from './internals/metrics.ts';
import { Mutex } from './internals/mutex.ts';
import { changelogOffsetKey, openTaskDb, restore, type RestoreProgress, type RestoreTarget } from './internals/restore.ts';
import { lockStateDir, type StateDirLock } from './internals/state-dir.ts';
import { StateMachine } from './internals/state-machine.ts';
import { StreamTask, errorMessage } from './internals/stream-task.ts';
import { parseTaskId, taskIdOf, type BuiltTopology } from './internals/topology-graph.ts';
import { checkTopics } from './internals/topic-setup.ts';
import type { TaskDb } from './internals/rocksdb-task-db.ts';

export type StreamsState = 'CREATED' | 'REBALANCING' | 'RUNNING' | 'ERROR' | 'NOT_RUNNING';

/** Allowed app state changes (Kafka Streams' KafkaStreams.State, without the pending states). */
const APP_TRANSITIONS: { readonly [S in StreamsState]: readonly StreamsState[] } = {
  CREATED: ['REBALANCING', 'ERROR', 'NOT_RUNNING'],
  REBALANCING: ['RUNNING', 'REBALANCING', 'ERROR', 'NOT_RUNNING'],
  RUNNING: ['REBALANCING', 'ERROR', 'NOT_RUNNING'],
  ERROR: ['NOT_RUNNING'],
  NOT_RUNNING: [],
};

export interface StreamsConfig {
  applicationId: string;
  brokers: readonly string[];
  stateDir: string;
  processingGuarantee?: 'at_least_once' | 'exactly_once';
  /** Default 1000 ms (at-least-once) or 200 ms (exactly-once: outputs are visible only after commit). */
  commitIntervalMs?: number;
  /** `host:port` other instances forward queries to; shared through the group assignment. */
  applicationServer?: string;
  deadLetterTopic?: string;
  logger?: StreamsLogger;
  clock?: Clock;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  restoreTimeoutMs?: number;
  /** Kafka client behind the runtime's port: a client name, or a factory (tests inject one). */
  kafkaClient?: KafkaClientName | KafkaPortFactory;
}

export interface KeyQueryMetadata {
  readonly applicationServer: string | undefined;
  readonly partition: number;
  readonly taskId: string;
  /** True when this instance owns the key's task now. */
  readonly local: boolean;
}

export interface TaskRestoreStatus {
  readonly taskId: string;
  readonly state: string;
  readonly restored: string;
  readonly total: string;
}

interface OwnedTask {
  readonly task: StreamTask;
  readonly db: TaskDb | undefined;
  readonly unit: CommitUnit;
  readonly progress: RestoreProgress;
  readonly producer: ProducerPort | undefined;
}

/**
 * Runs a topology against Kafka: one task per (sub-topology, partition) this member is assigned,
 * stores in RocksDB under `<stateDir>/<applicationId>/<taskId>/`, commits in the order of
 * `internals/commit.ts`, restores as `internals/restore.ts` says.
 *
 * Events: `state` (next, previous), `error` is never emitted (fatal errors move to ERROR and are logged).
 *
 * @example safe: `await app.start(); await app.waitForState('RUNNING'); ...; await app.close()`
 * @example unsafe: two apps with the same stateDir: the second start fails with PS_ERR_STATE_DIR_LOCKED.
 */
export class StreamsApp extends EventEmitter<{ state: [StreamsState, StreamsState] }> {
  readonly metrics = new StreamsMetrics();
  readonly #topology: BuiltTopology;
  readonly #config: Required<Omit<StreamsConfig, 'deadLetterTopic' | 'applicationServer' | 'kafkaClient'>> & Pick<StreamsConfig, 'deadLetterTopic' | 'applicationServer' | 'kafkaClient'>;
  readonly #machine: StateMachine<StreamsState>;
  readonly #tasks = new Map<string, OwnedTask>();
  readonly #mutex = new Mutex();
  readonly #lastProcessed = new Map<string, string>();
  #partitionCounts = new Map<string, number>();
  #hostMap = new Map<string, string>();
  #port: KafkaPort | undefined;
  #consumer: GroupConsumerPort | undefined;
  #producer: ProducerPort | undefined;
  #lock: StateDirLock | undefined;
  #ticker: NodeJS.Timeout | undefined;
  #lastCommit = 0;
  #closing = false;
  #rebalances: Promise<void> = Promise.resolve();
  #pendingAssignments = 0;
  #assignor: StickyTaskAssignor | undefined;

  constructor(topology: Topology, config: StreamsConfig) {
    super();
    if (!config.applicationId || !/^[A-Za-z0-9._-]+$/.test(config.applicationId)) {
      throw new StreamsError('PS_ERR_CONFIG_INVALID', `applicationId "${config.applicationId}" must be non-empty and match [A-Za-z0-9._-]+`);
    }
    if (!config.brokers?.length) throw new StreamsError('PS_ERR_CONFIG_INVALID', 'brokers must list at least one host:port');
    if (!config.stateDir) throw new StreamsError('PS_ERR_CONFIG_INVALID', 'stateDir is required');
    const eos = config.processingGuarantee === 'exactly_once';
    this.#config = {
      processingGuarantee: 'at_least_once',
      commitIntervalMs: eos ? 200 : 1000,
      logger: stderrLogger,
      clock: systemClock,
      sessionTimeoutMs: 30_000,
      rebalanceTimeoutMs: 60_000,
      heartbeatIntervalMs: 3_000,
      restoreTimeoutMs: 300_000,
      ...config,
    };
    this.#topology = topology.build(config.applicationId);
    this.#machine = new StateMachine<StreamsState>(`app ${config.applicationId}`, 'CREATED', APP_TRANSITIONS, (next, prev) => {
      this.metrics.state.reset();
      this.metrics.state.set({ state: next }, 1);
      this.#config.logger.info({ from: prev, to: next }, `streams state ${prev} -> ${next}`);
      this.emit('state', next, prev);
    });
  }

  get state(): StreamsState {
    return this.#machine.state;
  }

  get #exactlyOnce(): boolean {
    return this.#config.processingGuarantee === 'exactly_once';
  }

  /** Checks topics, creates internal ones, joins the group. Resolves once consuming started (not yet RUNNING). */
  async start(): Promise<void> {
    if (this.state !== 'CREATED') throw new StreamsError('PS_ERR_INVALID_STATE_TRANSITION', `start() called in state ${this.state}`);
    const { applicationId, brokers, logger } = this.#config;
    this.#lock = await lockStateDir(join(this.#config.stateDir, applicationId));
    try {
      this.#port = await createKafkaPort(this.#config.kafkaClient ?? DEFAULT_KAFKA_CLIENT, { clientId: applicationId, brokers, logger, stateDir: this.#lock.dir });
      this.#partitionCounts = await checkTopics(this.#port.admin, this.#topology);
      if (!this.#exactlyOnce) this.#producer = await this.#port.createProducer({});
      const subTopologies = this.#topology.subTopologies.map((s) => ({ id: s.id, topics: [...s.sourceTopics.keys()] }));
      this.#assignor = new StickyTaskAssignor(subTopologies, () => ({ applicationServer: this.#config.applicationServer ?? '', ownedTasks: [...this.#tasks.keys()] }));
      this.#consumer = this.#port.createGroupConsumer({
        groupId: applicationId,
        topics: subTopologies.flatMap((s) => s.topics),
        readCommitted: this.#exactlyOnce,
        assignor: this.#assignor,
        protocolName: ASSIGNOR_PROTOCOL,
        sessionTimeoutMs: this.#config.sessionTimeoutMs,
        rebalanceTimeoutMs: this.#config.rebalanceTimeoutMs,
        heartbeatIntervalMs: this.#config.heartbeatIntervalMs,
      });
      this.#machine.moveTo('REBALANCING');
      this.#lastCommit = this.#config.clock.now();
      await this.#consumer.run({
        onBatch: (b) => this.#onBatch(b),
        onAssigned: (a) => this.#onAssigned(a),
        onRebalancing: () => {
          if (this.state === 'RUNNING') this.#machine.moveTo('REBALANCING');
          // Commit before the group moves partitions away, while our generation is still valid.
          return this.#mutex.run(() => this.#commitAll()).catch((err) => this.#fatal(err, 'commit before rebalance failed'));
        },
        onCrash: (err) => this.#fatal(err, 'Kafka consumer crashed'),
      });
      const tick = Math.max(10, Math.min(100, this.#config.commitIntervalMs));
      this.#ticker = setInterval(() => void this.#tick(), tick);
    } catch (err) {
      await this.#shutdown(false);
      if (this.#machine.canMoveTo('ERROR')) this.#machine.moveTo('ERROR');
      if (this.#machine.canMoveTo('NOT_RUNNING')) this.#machine.moveTo('NOT_RUNNING');
      throw err;
    }
  }

  /** Resolves when the app reaches `state`; rejects on ERROR/NOT_RUNNING (unless asked for) or timeout. */
  waitForState(state: StreamsState, timeoutMs = 60_000): Promise<void> {
    if (this.state === state) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('state', on);
        reject(new StreamsError('PS_ERR_APP_NOT_RUNNING', `app did not reach ${state} within ${timeoutMs} ms (state ${this.state})`));
      }, timeoutMs);
      const on = (next: StreamsState): void => {
        if (next === state || next === 'ERROR' || next === 'NOT_RUNNING') {
          clearTimeout(timer);
          this.off('state', on);
          if (next === state) resolve();
          else reject(new StreamsError('PS_ERR_APP_NOT_RUNNING', `app moved to ${next} while waiting for ${state}`));
        }
      };
      this.on('state', on);
    });
  }

  /** Graceful: finishes the batch in flight, commits, writes RocksDB, leaves the group, releases the lock. */
  async close(): Promise<void> {
    if (this.state === 'NOT_RUNNING') return;
    const commit = this.state !== 'ERROR' && this.state !== 'CREATED';
    await this.#shutdown(commit);
    this.#machine.moveTo('NOT_RUNNING');
  }

  /** Owner of `key` in `storeName`, from the partition → host map every member learns at assignment. */
  async metadataForKey<K>(storeName: string, key: K): Promise<KeyQueryMetadata> {
    const def = this.#topology.stores.get(storeName);
    if (!def) throw new StreamsError('PS_ERR_STORE_NOT_FOUND', `no store "${storeName}" in this topology`);
    const st = this.#topology.subTopologies[def.subTopology]!;
    const partitions = this.#partitionCounts.get([...st.sourceTopics.keys()][0]!) ?? 0;
    if (partitions === 0) throw new StreamsError('PS_ERR_APP_NOT_RUNNING', 'partition counts are not known before start()');
    const bytes = await (def.builder.keySerde as { serialize(t: string, k: K): Buffer | Promise<Buffer> }).serialize(def.changelogTopic, key);
    const partition = partitionForKey(bytes, partitions);
    const taskId = taskIdOf(def.subTopology, partition);
    return { applicationServer: this.#hostMap.get(taskId), partition, taskId, local: this.#tasks.has(taskId) };
  }

  /** task → applicationServer for the whole group, as of the last assignment. */
  hostMap(): ReadonlyMap<string, string> {
    return this.#hostMap;
  }

  /** Read-only view over this instance's tasks of `storeName`. */
  store<K, V>(storeName: string): ReadOnlyKeyValueStore<K, V> {
    const def = this.#topology.stores.get(storeName);
    if (!def) throw new StreamsError('PS_ERR_STORE_NOT_FOUND', `no store "${storeName}" in this topology`);
    const owned = async (key: K): Promise<KeyValueStore<K, V>> => {
      this.#requireQueryable();
      const md = await this.metadataForKey(storeName, key);
      const t = this.#tasks.get(md.taskId);
      if (!t) throw new StreamsError('PS_ERR_KEY_NOT_OWNED', `key of store "${storeName}" belongs to task ${md.taskId} on ${md.applicationServer ?? 'an unknown instance'}, not this one`);
      if (t.task.state !== 'RUNNING') throw new StreamsError('PS_ERR_STORE_RESTORING', `task ${md.taskId} of store "${storeName}" is restoring`);
      return t.task.store(storeName) as KeyValueStore<K, V>;
    };
    const running = (): KeyValueStore<K, V>[] => {
      this.#requireQueryable();
      const all = [...this.#tasks.values()].filter((t) => t.task.subTopologyId === def.subTopology);
      if (all.some((t) => t.task.state !== 'RUNNING')) throw new StreamsError('PS_ERR_STORE_RESTORING', `a task of store "${storeName}" is restoring`);
      return all.map((t) => t.task.store(storeName) as KeyValueStore<K, V>);
    };
    async function* concat(its: AsyncIterableIterator<KeyValue<K, V>>[]): AsyncIterableIterator<KeyValue<K, V>> {
      for (const it of its) yield* it;
    }
    return {
      name: storeName,
      get: async (key) => (await owned(key)).get(key),
      getMany: async (keys) => Promise.all(keys.map(async (k) => (await owned(k)).get(k))),
      range: (from, to) => concat(running().map((s) => s.range(from, to))),
      prefix: (p) => concat(running().map((s) => s.prefix(p))),
    };
  }

  /** Restore progress of every local task (for readiness). */
  restoreStatus(): TaskRestoreStatus[] {
    return [...this.#tasks.values()].map((t) => ({ taskId: t.task.id, state: t.task.state, restored: String(t.progress.restored), total: String(t.progress.total) }));
  }

  /** Last processed input offset per `topic:partition` (for a freshness header). */
  lastProcessedOffsets(): ReadonlyMap<string, string> {
    return this.#lastProcessed;
  }

  #requireQueryable(): void {
    if (this.state !== 'RUNNING' && this.state !== 'REBALANCING') throw new StreamsError('PS_ERR_APP_NOT_RUNNING', `app is ${this.state}`);
  }

  #taskIdFor(topic: string, partition: number): string | undefined {
    const st = this.#topology.subTopologies.find((s) => s.sourceTopics.has(topic));
    return st ? taskIdOf(st.id, partition) : undefined;
  }

  async #onBatch(batch: FetchedBatch): Promise<void> {
    if (this.#closing || this.state === 'ERROR') return;
    const id = this.#taskIdFor(batch.topic, batch.partition);
    await this.#mutex.run(async () => {
      const owned = id === undefined ? undefined : this.#tasks.get(id);
      // Not ours yet (restoring) or any more: leave the offsets unresolved so the records are fetched again.
      if (!owned || owned.task.state !== 'RUNNING' || this.#closing || batch.records.length === 0) return;
      const started = performance.now();
      try {
        await owned.task.process(batch.topic, batch.records);
      } catch (err) {
        this.#fatal(err, `processing failed in task ${owned.task.id}`);
        return;
      }
      try {
        await sendOutputsEarly(owned.unit, { partitionsOf: (t: string) => this.#partitionCount(t), producer: this.#producer, exactlyOnce: this.#exactlyOnce });
      } catch (err) {
        this.#fatal(err, `sending outputs of task ${owned.task.id} failed`);
        return;
      }
      const last = batch.records[batch.records.length - 1]!.offset;
      batch.resolveOffset(last);
      this.#lastProcessed.set(`${batch.topic}:${batch.partition}`, last);
      this.metrics.recordsProcessed.inc({ task: owned.task.id }, batch.records.length);
      this.metrics.processLatency.observe({ task: owned.task.id }, (performance.now() - started) / 1000);
      const lag = batch.highWatermark - BigInt(last) - 1n;
      this.metrics.consumerLag.set({ topic: batch.topic, partition: String(batch.partition) }, Number(lag > 0n ? lag : 0n));
      await this.#maybeCommit();
    });
  }

  async #tick(): Promise<void> {
    if (this.#closing || this.state === 'ERROR' || this.state === 'NOT_RUNNING') return;
    await this.#mutex
      .run(async () => {
        if (this.#closing) return;
        const now = this.#config.clock.now();
        for (const t of this.#tasks.values()) if (t.task.state === 'RUNNING') await t.task.punctuate(now);
        await this.#maybeCommit();
      })
      .catch((err) => this.#fatal(err, 'punctuation or commit failed'));
  }

  async #maybeCommit(): Promise<void> {
    if (this.#config.clock.now() - this.#lastCommit < this.#config.commitIntervalMs) return;
    await this.#commitAll();
  }

  /** Must run inside the mutex. */
  async #commitAll(units = [...this.#tasks.values()].filter((t) => t.task.state === 'RUNNING').map((t) => t.unit)): Promise<void> {
    this.#lastCommit = this.#config.clock.now();
    if (units.length === 0 || !this.#consumer) return;
    const started = performance.now();
    try {
      await commitTasks(units, {
        groupId: this.#config.applicationId,
        partitionsOf: (t) => this.#partitionCount(t),
        producer: this.#producer,
        exactlyOnce: this.#exactlyOnce,
        commitInputOffsets: (offsets) => this.#consumer!.commit(offsets),
      });
    } catch (err) {
      if (!causedBy(err, 'PS_ERR_TASK_MIGRATED')) throw err;
      await this.#dropMigrated(units.map((u) => u.task.id), err);
      return;
    }
    this.metrics.commits.inc();
    this.metrics.commitLatency.observe((performance.now() - started) / 1000);
  }

  async #partitionCount(topic: string): Promise<number> {
    const n = this.#partitionCounts.get(topic);
    if (n !== undefined) return n;
    // An output topic first seen now (a sink may compute topic names per record): ask once, remember.
    const counts = await this.#port!.admin.partitionCounts([topic]);
    const found = counts.get(topic);
    if (found === undefined) throw new StreamsError('PS_ERR_SOURCE_TOPIC_MISSING', `output topic "${topic}" does not exist; create it before producing to it`);
    this.#partitionCounts.set(topic, found);
    return found;
  }

  #onAssigned(assignment: readonly TopicPartitions[]): void {
    if (this.#closing) return;
    if (this.state === 'RUNNING') this.#machine.moveTo('REBALANCING');
    // Synchronously, before kafkajs fetches: new partitions stay paused until their task restored.
    const newIds = new Set<string>();
    const toPause: TopicPartitions[] = [];
    for (const tp of assignment) {
      const paused = tp.partitions.filter((p) => {
        const id = this.#taskIdFor(tp.topic, p)!;
        newIds.add(id);
        return this.#tasks.get(id)?.task.state !== 'RUNNING';
      });
      toPause.push({ topic: tp.topic, partitions: paused });
    }
    this.#consumer?.pause(toPause);
    this.#pendingAssignments++;
    this.#rebalances = this.#rebalances
      .then(() => this.#applyAssignment(newIds))
      .catch((err) => this.#fatal(err, 'task assignment failed'))
      .finally(() => {
        this.#pendingAssignments--;
        if (this.#pendingAssignments === 0 && this.state === 'REBALANCING' && !this.#closing) this.#machine.moveTo('RUNNING');
      });
  }

  async #applyAssignment(newIds: ReadonlySet<string>): Promise<void> {
    const revoked = [...this.#tasks.keys()].filter((id) => !newIds.has(id));
    if (revoked.length > 0) {
      await this.#mutex.run(async () => {
        const units = revoked.map((id) => this.#tasks.get(id)!);
        try {
          await this.#commitAll(units.filter((u) => u.task.state === 'RUNNING').map((u) => u.unit));
        } catch (err) {
          // The partitions moved on; under exactly-once the new owner fenced us. Nothing committed.
          this.#config.logger.warn({ err: errorMessage(err), tasks: revoked }, 'commit of revoked tasks failed; their uncommitted work is dropped');
        }
        for (const o of units) await this.#closeTask(o);
      });
    }
    const added = [...newIds].filter((id) => !this.#tasks.has(id)).sort();
    if (added.length > 0) await this.#createAndRestore(added);
    await this.#refreshHostMap();
  }

  async #createAndRestore(ids: readonly string[]): Promise<void> {
    const port = this.#port!;
    const created: OwnedTask[] = [];
    const targets: RestoreTarget[] = [];
    const ends = new Map<string, bigint>();
    const changelogTopics = new Set([...this.#topology.stores.values()].filter((s) => s.builder.loggingEnabled).map((s) => s.changelogTopic));
    for (const topic of changelogTopics) for (const [p, off] of await port.admin.endOffsets(topic)) ends.set(changelogOffsetKey(topic, p), off);

    for (const id of ids) {
      const { subTopology, partition } = parseTaskId(id);
      const st = this.#topology.subTopologies[subTopology]!;
      const defs = st.storeNames.map((n) => ({ name: n, def: this.#topology.stores.get(n)! }));
      const persistent = defs.filter((d) => d.def.builder.kind === 'rocksdb').map((d) => d.name);
      const changelogs = defs.filter((d) => d.def.builder.loggingEnabled).map((d) => ({ store: d.name, topic: d.def.changelogTopic, partition }));
      // Exactly-once: fence a zombie owner of this task before reading its changelog (see adapter).
      const producer = this.#exactlyOnce ? await port.createProducer({ transactionalId: `${this.#config.applicationId}-${id}` }) : undefined;
      const opened = persistent.length > 0
        ? await openTaskDb(join(this.#config.stateDir, this.#config.applicationId, id), persistent, changelogs.filter((c) => persistent.includes(c.store)), ends, this.#config.logger)
        : undefined;
      const memory = new Map<string, InMemoryBytesStore>();
      const task = new StreamTask({
        topology: this.#topology,
        subTopology: st,
        partition,
        clock: this.#config.clock,
        bytesStoreFor: (def, name) => {
          if (def.builder.kind === 'rocksdb') return opened!.db.store(name);
          const m = new InMemoryBytesStore(name);
          memory.set(name, m);
          return m;
        },
        deadLetterTopic: this.#config.deadLetterTopic,
        onDeadLetter: (err) => {
          this.metrics.deadLetters.inc({ task: id });
          this.#config.logger.warn({ task: id, err: errorMessage(err) }, 'record sent to the dead-letter topic');
        },
      });
      task.moveTo('RESTORING');
      const progress: RestoreProgress = { total: 0n, restored: 0n, done: false };
      const offsets = opened?.offsets ?? new Map<string, bigint>();
      for (const c of changelogs) {
        const key = changelogOffsetKey(c.topic, c.partition);
        const from = memory.has(c.store) ? 0n : (offsets.get(key) ?? 0n);
        const to = ends.get(key) ?? 0n;
        progress.total += to > from ? to - from : 0n;
        targets.push({ taskId: id, changelog: c, from, to, db: memory.has(c.store) ? undefined : opened!.db, memory: memory.get(c.store), progress });
      }
      const unit: CommitUnit = { task, db: opened?.db, changelogOffsets: offsets, committedInput: new Map(), producer, inFlight: [] };
      const owned: OwnedTask = { task, db: opened?.db, unit, progress, producer };
      created.push(owned);
      this.#tasks.set(id, owned);
    }
    await restore(targets, {
      port,
      readCommitted: this.#exactlyOnce,
      logger: this.#config.logger,
      metrics: this.metrics,
      clock: this.#config.clock,
      timeoutMs: this.#config.restoreTimeoutMs,
      topology: this.#topology,
    });
    await this.#mutex.run(async () => {
      for (const o of created) {
        // Offsets restored up to the end are what RocksDB reflects now.
        for (const t of targets.filter((x) => x.taskId === o.task.id && x.db)) o.unit.changelogOffsets.set(changelogOffsetKey(t.changelog.topic, t.changelog.partition), t.to > t.from ? t.to : t.from);
        o.progress.done = true;
        await o.task.init();
        o.task.moveTo('RUNNING');
        this.#consumer?.resume(this.#assignor!.topicPartitions([o.task.id]));
      }
    });
  }

  /**
   * The group refused a commit because it moved to a new generation without this member: a rebalance is
   * under way (a loaded machine answers its heartbeat late) or the session expired. Kafka Streams treats
   * this as "task migrated", not as a failure: the tasks close without committing and the member rejoins.
   * Their input offsets were not committed, so whoever owns the partitions next (this member, if the
   * rebalance gives them back: `#onAssigned` recreates them from RocksDB and the changelog) re-reads
   * from the last committed offsets. At-least-once may then apply some records twice, as after a crash;
   * exactly-once loses nothing, its transaction was never committed.
   */
  async #dropMigrated(ids: readonly string[], err: unknown): Promise<void> {
    this.#config.logger.warn({ err: errorMessage(err), tasks: ids }, 'commit refused: the group moved on without this member; closing these tasks uncommitted until the rebalance assigns them again');
    // Until then, no batch of theirs may be processed on top of the dropped state.
    this.#consumer?.pause(this.#assignor!.topicPartitions([...ids]));
    for (const id of ids) {
      const o = this.#tasks.get(id);
      if (o) await this.#closeTask(o);
    }
  }

  async #closeTask(o: OwnedTask): Promise<void> {
    if (this.#tasks.get(o.task.id) !== o) return; // closed already (a migrated task, then revoked)
    this.#tasks.delete(o.task.id);
    await o.task.close();
    await o.db?.close();
    await o.producer?.close().catch(() => undefined);
  }

  async #refreshHostMap(): Promise<void> {
    try {
      const members = await this.#port!.admin.describeGroup(this.#config.applicationId);
      const map = hostMapFromGroup(members);
      if (map.size > 0) this.#hostMap = map;
    } catch (err) {
      this.#config.logger.warn({ err: errorMessage(err) }, 'could not read the group host map');
    }
  }

  #fatal(err: unknown, what: string): void {
    if (this.#closing || this.state === 'ERROR' || this.state === 'NOT_RUNNING') return;
    const code = err instanceof StreamsError ? err.code : 'PS_ERR_FATAL';
    this.#config.logger.error({ err: errorMessage(err), code, stack: (err as Error)?.stack }, `stream runtime stopped: ${what}: ${errorMessage(err)}`);
    this.#machine.moveTo('ERROR');
    void this.#shutdown(false);
  }

  async #shutdown(commit: boolean): Promise<void> {
    if (this.#closing) return this.#shuttingDown;
    this.#closing = true;
    this.#shuttingDown = (async () => {
      if (this.#ticker) clearInterval(this.#ticker);
      await this.#rebalances.catch(() => undefined);
      await this.#mutex.run(async () => {
        if (commit) {
          try {
            this.#closing = false; // let the commit see tasks as live
            await this.#commitAll();
          } catch (err) {
            this.#config.logger.error({ err: errorMessage(err) }, 'final commit failed; uncommitted work will be reprocessed');
          } finally {
            this.#closing = true;
          }
        }
      });
      await this.#consumer?.stop();
      await this.#mutex.run(async () => {
        for (const o of [...this.#tasks.values()]) await this.#closeTask(o);
      });
      await this.#producer?.close().catch(() => undefined);
      await this.#port?.close().catch(() => undefined);
      await this.#lock?.release();
    })();
    return this.#shuttingDown;
  }

  #shuttingDown: Promise<void> = Promise.resolve();
}

/** `err` or one of its causes is a StreamsError with `code` (commitTasks wraps what failed inside it). */
function causedBy(err: unknown, code: StreamsErrorCode): boolean {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (isStreamsError(e, code)) return true;
  }
  return false;
}
