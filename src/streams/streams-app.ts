import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { StreamsError, isStreamsError, type StreamsErrorCode } from './errors.ts';
import type { ReadOnlyKeyValueStore } from './store.ts';
import type { Topology } from './topology.ts';
import { InteractiveQueries, type KeyQueryMetadata } from './internals/interactive-queries.ts';
import { resolveStreamsConfig, type ResolvedStreamsConfig, type StreamsConfig } from './internals/streams-config.ts';
import { ASSIGNOR_PROTOCOL, StickyTaskAssignor, hostMapFromGroup, standbysFromGroup } from './internals/assignor.ts';
import { StandbyTasks } from './internals/standby-tasks.ts';
import { beginCommit, sendOutputsEarly, type CommitUnit, type InFlightCommit } from './internals/commit.ts';
import { createKafkaPort, DEFAULT_KAFKA_CLIENT } from './internals/kafka-client.ts';
import type { FetchedBatch, GroupConsumerPort, GroupMemberInfo, KafkaPort, ProducerPort, TopicPartitions } from './internals/kafka-port.ts';
import { StreamsMetrics } from './internals/metrics.ts';
import { Mutex } from './internals/mutex.ts';
import { changelogOffsetKey, restore, type RestoreTarget } from './internals/restore.ts';
import { lockStateDir, type StateDirLock } from './internals/state-dir.ts';
import { groupInstanceId } from './internals/instance-id.ts';
import { DepartedProducers } from './internals/departed-producers.ts';
import { StateMachine } from './internals/state-machine.ts';
import { errorMessage } from './internals/stream-task.ts';
import { createTask, taskStateLayout, type OwnedTask } from './internals/task-factory.ts';
import { OutageRecovery, type Outage, type OutageHooks } from './internals/outage-recovery.ts';
import { taskIdOf, type BuiltTopology } from './internals/topology-graph.ts';
import { checkTopics } from './internals/topic-setup.ts';
import { kafkaSecurityFailure } from './internals/security-failure.ts';
import type { Serde } from './serdes.ts';

export type { KeyQueryMetadata } from './internals/interactive-queries.ts';
export type { StreamsConfig } from './internals/streams-config.ts';

export type StreamsState = 'CREATED' | 'REBALANCING' | 'RUNNING' | 'ERROR' | 'NOT_RUNNING';

/** Allowed app state changes (Kafka Streams' KafkaStreams.State, without the pending states). */
const APP_TRANSITIONS: { readonly [S in StreamsState]: readonly StreamsState[] } = {
  CREATED: ['REBALANCING', 'ERROR', 'NOT_RUNNING'],
  REBALANCING: ['RUNNING', 'REBALANCING', 'ERROR', 'NOT_RUNNING'],
  RUNNING: ['REBALANCING', 'ERROR', 'NOT_RUNNING'],
  ERROR: ['NOT_RUNNING'],
  NOT_RUNNING: [],
};

export interface TaskRestoreStatus {
  readonly taskId: string;
  readonly state: string;
  readonly restored: string;
  readonly total: string;
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
  readonly #config: ResolvedStreamsConfig;
  readonly #machine: StateMachine<StreamsState>;
  readonly #tasks = new Map<string, OwnedTask>();
  readonly #queries: InteractiveQueries;
  readonly #mutex = new Mutex();
  readonly #lastProcessed = new Map<string, string>();
  #partitionCounts = new Map<string, number>();
  #hostMap = new Map<string, string>();
  #port: KafkaPort | undefined;
  #consumer: GroupConsumerPort | undefined;
  /**
   * The instance's one producer. Exactly-once: transactional, with an id kept in the state directory, so a
   * restart after a crash fences its predecessor and aborts its open transaction at once (InitProducerId);
   * every task's outputs, changelog records and input offsets go into its one transaction (KIP-447).
   */
  #producer: ProducerPort | undefined;
  #transactionalId: string | undefined;
  #departed: DepartedProducers | undefined;
  #lock: StateDirLock | undefined;
  #ticker: NodeJS.Timeout | undefined;
  #lastCommit = 0;
  #closing = false;
  #rebalances: Promise<void> = Promise.resolve();
  #pendingAssignments = 0;
  #assignor: StickyTaskAssignor | undefined;
  readonly #recovery: OutageRecovery;
  /** Assignments received so far: tells whether a rebalance came after tasks were dropped. */
  #assignmentsSeen = 0;
  /** During an outage: tasks open for reads only, nothing processed or committed until the rejoin. */
  #suspended = false;
  /** Names this process in standby assignments (Kafka Streams' process id): new for every run. */
  readonly #processId = randomUUID();
  #standbys: StandbyTasks | undefined;
  /** The last commit while its acks and RocksDB write are pending (processing goes on meanwhile). */
  #inFlight: { readonly commit: InFlightCommit; readonly started: number; done: boolean } | undefined;

  constructor(topology: Topology, config: StreamsConfig) {
    super();
    this.#config = resolveStreamsConfig(config);
    this.#recovery = new OutageRecovery(this.#recoveryHooks());
    this.#topology = topology.build(config.applicationId);
    this.#queries = new InteractiveQueries({
      topology: this.#topology,
      partitionCounts: () => this.#partitionCounts,
      hostMap: () => this.#hostMap,
      task: (id) => this.#tasks.get(id)?.task,
      tasks: () => [...this.#tasks.values()].map((t) => t.task),
      state: () => this.state,
    });
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
      this.#port = await createKafkaPort(this.#config.kafkaClient ?? DEFAULT_KAFKA_CLIENT, { clientId: applicationId, brokers, logger, stateDir: this.#lock.dir, security: this.#config.security });
      this.#standbys = new StandbyTasks({ port: this.#port, topology: this.#topology, config: this.#config, metrics: this.metrics, clock: this.#config.clock, pollMs: this.#config.standbyPollMs });
      this.#partitionCounts = await checkTopics(this.#port.admin, this.#topology);
      // Not waited for: the look-ups run during the join and restore, and a first record that comes sooner
      // waits for the same look-up (the serde shares it), so start-up takes no longer for them.
      void this.#prepareSerdes();
      if (this.#exactlyOnce) {
        this.#transactionalId = await groupInstanceId(this.#lock.dir, applicationId);
        this.#departed = new DepartedProducers(this.#transactionalId);
      }
      this.#producer = await this.#newProducer();
      const subTopologies = this.#topology.subTopologies.map((s) => ({ id: s.id, topics: [...s.sourceTopics.keys()] }));
      this.#assignor = new StickyTaskAssignor(
        subTopologies,
        () => ({
          applicationServer: this.#config.applicationServer ?? '',
          ownedTasks: [...this.#tasks.keys()],
          processId: this.#processId,
          standbyTasks: this.#standbys?.ids() ?? [],
          ...(this.#transactionalId ? { transactionalId: this.#transactionalId } : {}),
        }),
        { replicas: this.#config.numStandbyReplicas, eligible: (id) => taskStateLayout(id, this.#topology, this.#config).changelogs.length > 0 },
      );
      this.#machine.moveTo('REBALANCING');
      this.#lastCommit = this.#config.clock.now();
      await this.#runConsumer();
      const tick = Math.max(10, Math.min(100, this.#config.commitIntervalMs));
      this.#ticker = setInterval(() => void this.#tick(), tick);
    } catch (err) {
      await this.#shutdown(false);
      if (this.#machine.canMoveTo('ERROR')) this.#machine.moveTo('ERROR');
      if (this.#machine.canMoveTo('NOT_RUNNING')) this.#machine.moveTo('NOT_RUNNING');
      throw kafkaSecurityFailure(err) ?? err;
    }
  }

  #newProducer(): Promise<ProducerPort> {
    return this.#port!.createProducer(this.#transactionalId ? { transactionalId: this.#transactionalId } : {});
  }

  /**
   * Exactly-once, after a failed commit: the transaction it ended was aborted, and the one opened after it
   * holds outputs of records whose tasks are dropped now. A new producer with the same transactional id
   * fences the old one and aborts that transaction (InitProducerId) before anything else is produced.
   */
  async #replaceProducer(): Promise<void> {
    const old = this.#producer;
    this.#producer = await this.#newProducer();
    await withDeadline(old?.close() ?? Promise.resolve(), CLOSE_STEP_DEADLINE_MS);
  }

  /**
   * Best effort: a serde that cannot prepare now (registry away) does it at its first record, as before,
   * where failures have their handling.
   */
  async #prepareSerdes(): Promise<void> {
    // Sinks with a fixed topic, and stores (their serdes are called with the changelog topic).
    const uses: Array<{ topic: string; serdes: ReadonlyArray<Serde<unknown>> }> = [];
    for (const st of this.#topology.subTopologies) {
      for (const def of st.nodes.values()) if (def.kind === 'sink' && typeof def.topic === 'string') uses.push({ topic: def.topic, serdes: [def.keySerde, def.valueSerde] });
    }
    for (const store of this.#topology.stores.values()) uses.push({ topic: store.changelogTopic, serdes: [store.builder.keySerde, store.builder.valueSerde] });
    const work = uses.flatMap(({ topic, serdes }) =>
      serdes.filter((serde) => serde.prepare).map((serde) => serde.prepare!(topic).catch((err: unknown) => this.#config.logger.warn({ err: (err as Error).message, topic }, 'could not prepare a serde before the first record; it will at its first record'))),
    );
    await Promise.all(work);
  }

  /** Joins the group with a new consumer; its handlers drive tasks from here on. */
  async #runConsumer(): Promise<void> {
    const topics = this.#topology.subTopologies.flatMap((s) => [...s.sourceTopics.keys()]);
    const consumer = this.#port!.createGroupConsumer({
      groupId: this.#config.applicationId,
      topics,
      readCommitted: this.#exactlyOnce,
      assignor: this.#assignor!,
      protocolName: ASSIGNOR_PROTOCOL,
      sessionTimeoutMs: this.#config.sessionTimeoutMs,
      rebalanceTimeoutMs: this.#config.rebalanceTimeoutMs,
      heartbeatIntervalMs: this.#config.heartbeatIntervalMs,
    });
    this.#consumer = consumer;
    await consumer.run({
      onBatch: (b) => (this.#consumer === consumer ? this.#onBatch(b) : Promise.resolve()),
      onAssigned: (a) => {
        if (this.#consumer === consumer) this.#onAssigned(a);
      },
      onRebalancing: () => {
        if (this.#consumer !== consumer) return;
        if (this.state === 'RUNNING') this.#machine.moveTo('REBALANCING');
        // Commit before the group moves partitions away, while our generation is still valid; a client
        // that can wait for it (platformatic) rejoins only after.
        return this.#mutex.run(() => this.#commitAll()).catch((err) => this.#fatal(err, 'commit before rebalance failed'));
      },
      onCrash: (err) => {
        if (this.#consumer === consumer) this.#fatal(err, 'Kafka consumer crashed');
      },
    });
  }

  /** Why the app is not processing although it was not asked to stop (a Kafka outage being waited out). */
  get outage(): Outage | undefined {
    return this.#recovery.outage;
  }

  #recoveryHooks(): OutageHooks {
    return {
      clock: this.#config.clock,
      logger: this.#config.logger,
      closing: () => this.#closing,
      isUnavailable: (err) => this.#port?.isUnavailable(err) ?? false,
      paused: () => {
        this.metrics.outages.inc();
        if (this.state === 'RUNNING') this.#machine.moveTo('REBALANCING');
      },
      stopProcessing: async () => {
        this.#suspended = true;
        const consumer = this.#consumer;
        this.#consumer = undefined;
        // A produce or transaction call the library keeps retrying while the brokers are away would hold the
        // lock (a commit in flight) until it gives up, ~17 s per call: closed producers fail such calls now.
        // The rejoin opens a new one; an exactly-once transaction left open is aborted when it fences this one.
        await withDeadline(this.#producer?.close() ?? Promise.resolve(), 5_000);
        await withDeadline(consumer?.stop() ?? Promise.resolve(), 10_000);
        await this.#rebalances.catch(() => undefined);
        await this.#mutex.run(async () => {
          await this.#inFlight?.commit.settled.catch(() => undefined);
          this.#inFlight = undefined;
        });
      },
      probe: async () => {
        await this.#port!.admin.partitionCounts(this.#topology.subTopologies.flatMap((s) => [...s.sourceTopics.keys()]));
      },
      rejoin: async () => {
        await this.#mutex.run(async () => {
          for (const o of [...this.#tasks.values()]) await this.#closeTask(o);
        });
        this.#suspended = false;
        // A fresh producer: the old one's idempotence state may be stale after the outage, and under
        // exactly-once its InitProducerId aborts the transaction the outage left open.
        await this.#replaceProducer();
        if (!this.#closing) await this.#runConsumer();
      },
      fatal: (err) => this.#fatal(err, 'recovering from a Kafka outage failed'),
    };
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
    // Not during an outage: nothing can be committed, and the tasks hold only what the rejoin would drop.
    const commit = this.state !== 'ERROR' && this.state !== 'CREATED' && !this.#suspended;
    await this.#shutdown(commit);
    this.#machine.moveTo('NOT_RUNNING');
  }

  /** Owner of `key` in `storeName`, from the partition → host map every member learns at assignment. */
  metadataForKey<K>(storeName: string, key: K): Promise<KeyQueryMetadata> {
    return this.#queries.metadataForKey(storeName, key);
  }

  /** task → applicationServer for the whole group, as of the last assignment. */
  hostMap(): ReadonlyMap<string, string> {
    return this.#hostMap;
  }

  /** Read-only view over this instance's tasks of `storeName`. */
  store<K, V>(storeName: string): ReadOnlyKeyValueStore<K, V> {
    return this.#queries.store(storeName);
  }

  /** Restore progress of every local task (for readiness). */
  restoreStatus(): TaskRestoreStatus[] {
    return [...this.#tasks.values()].map((t) => ({ taskId: t.task.id, state: t.task.state, restored: String(t.progress.restored), total: String(t.progress.total) }));
  }

  /** Last processed input offset per `topic:partition` (for a freshness header). */
  lastProcessedOffsets(): ReadonlyMap<string, string> {
    return this.#lastProcessed;
  }

  #taskIdFor(topic: string, partition: number): string | undefined {
    const st = this.#topology.subTopologies.find((s) => s.sourceTopics.has(topic));
    return st ? taskIdOf(st.id, partition) : undefined;
  }

  async #onBatch(batch: FetchedBatch): Promise<void> {
    if (this.#closing || this.#suspended || this.state === 'ERROR') return;
    const id = this.#taskIdFor(batch.topic, batch.partition);
    // A fetch can hold ~1 MiB per partition (hundreds of batches): processed whole, its first outputs
    // would wait for its last record, and a due commit for all of it. Steps of a few records bound both,
    // and between steps the mutex lets commits, punctuators and rebalances in.
    for (let from = 0; from < batch.records.length; from += RECORDS_PER_STEP) {
      if (!batch.isRunning()) return;
      const records = batch.records.slice(from, from + RECORDS_PER_STEP);
      const waiting = performance.now();
      const done = await this.#mutex.run(async () => {
        const owned = id === undefined ? undefined : this.#tasks.get(id);
        // Not ours yet (restoring) or any more: leave the offsets unresolved so the records are fetched again.
        if (!owned || owned.task.state !== 'RUNNING' || this.#closing || this.state === 'ERROR') return false;
        const started = performance.now();
        this.metrics.lockWait.observe((started - waiting) / 1000);
        const subtopology = String(owned.task.subTopologyId);
        this.#observeStage(records, 'fetched', subtopology);
        try {
          await owned.task.process(batch.topic, records);
        } catch (err) {
          this.#fatal(err, `processing failed in task ${owned.task.id}`);
          return false;
        }
        this.#observeStage(records, 'processed', subtopology);
        try {
          await sendOutputsEarly(owned.unit, {
            partitionsOf: (t: string) => this.#partitionCount(t),
            producer: this.#producer!,
            exactlyOnce: this.#exactlyOnce,
            onAcked: (sent) => this.#observeStage(sent, 'acked', subtopology),
          });
        } catch (err) {
          this.#fatal(err, `sending outputs of task ${owned.task.id} failed`);
          return false;
        }
        const last = records[records.length - 1]!.offset;
        batch.resolveOffset(last);
        this.#lastProcessed.set(`${batch.topic}:${batch.partition}`, last);
        this.metrics.recordsProcessed.inc({ task: owned.task.id }, records.length);
        this.metrics.processLatency.observe({ task: owned.task.id }, (performance.now() - started) / 1000);
        const lag = batch.highWatermark - BigInt(last) - 1n;
        this.metrics.consumerLag.set({ topic: batch.topic, partition: String(batch.partition) }, Number(lag > 0n ? lag : 0n));
        if (this.#overCacheBound()) await this.#commitAll(undefined, false);
        else await this.#maybeCommit();
        return true;
      });
      if (!done) return;
    }
  }

  #observeStage(records: ReadonlyArray<{ readonly timestamp: number }>, stage: 'fetched' | 'processed' | 'acked', subtopology: string): void {
    const now = this.#config.clock.now();
    const h = this.metrics.recordLatency.labels(stage, subtopology);
    for (const r of records) h.observe(Math.max(0, now - r.timestamp) / 1000);
  }

  async #tick(): Promise<void> {
    if (this.#closing || this.#suspended || this.state === 'ERROR' || this.state === 'NOT_RUNNING') return;
    await this.#mutex
      .run(async () => {
        // Checked again inside: an outage may have begun while this tick waited for the mutex.
        if (this.#closing || this.#suspended) return;
        const now = this.#config.clock.now();
        for (const t of this.#tasks.values()) if (t.task.state === 'RUNNING') await t.task.punctuate(now);
        await this.#maybeCommit();
      })
      .catch((err) => this.#fatal(err, 'punctuation or commit failed'));
  }

  /** True when the write caches hold more than `cacheMaxBytes` even without their clean entries. */
  #overCacheBound(): boolean {
    const tasks = [...this.#tasks.values()];
    const total = (): number => tasks.reduce((n, t) => n + t.task.cacheBytes(), 0);
    if (total() <= this.#config.cacheMaxBytes) return false;
    for (const t of tasks) t.task.dropCleanCaches();
    return total() > this.#config.cacheMaxBytes;
  }

  async #maybeCommit(): Promise<void> {
    if (this.#config.clock.now() - this.#lastCommit < this.#config.commitIntervalMs) return;
    // The commit interval is a least interval: while the last commit still waits for its acks, the next one
    // would only wait for it with the lock held, and every record behind it with it. It comes at the next
    // step or tick after the last one settled.
    if (this.#inFlight && !this.#inFlight.done) return;
    await this.#commitAll(undefined, false);
  }

  /**
   * Must run inside the mutex. Starts a commit of `units` (default: every running task) after the one
   * in flight settled; with `wait` (rebalance, revoke, close) it also waits until this one is durable,
   * otherwise processing goes on while its acks and RocksDB write are pending (`internals/commit.ts`).
   */
  async #commitAll(units?: readonly CommitUnit[], wait = true): Promise<void> {
    await this.#settleInFlight();
    this.#lastCommit = this.#config.clock.now();
    // Settling may have dropped tasks (a migrated commit): only units still owned are committed. Under
    // exactly-once every running task is: the open transaction holds all their early outputs.
    const live = (units && !this.#exactlyOnce ? units : [...this.#tasks.values()].map((t) => t.unit)).filter((u) => u.task.state === 'RUNNING' && this.#tasks.get(u.task.id)?.unit === u);
    if (live.length === 0 || !this.#consumer || !this.#producer) return;
    const blocking = performance.now();
    const commit = await beginCommit(live, {
      groupId: this.#config.applicationId,
      partitionsOf: (t) => this.#partitionCount(t),
      producer: this.#producer,
      exactlyOnce: this.#exactlyOnce,
      commitInputOffsets: (offsets) => this.#consumer!.commit(offsets),
    });
    this.metrics.commitBlocking.observe((performance.now() - blocking) / 1000);
    const inFlight = { commit, started: performance.now(), done: false };
    this.#inFlight = inFlight;
    commit.settled.then(
      () => {
        inFlight.done = true;
        // Observed when it settles, not when the next commit looks at it (an interval later).
        this.metrics.commits.inc();
        this.metrics.commitLatency.observe((performance.now() - inFlight.started) / 1000);
      },
      () => {
        inFlight.done = true;
      },
    );
    if (wait) return this.#settleInFlight();
    // A failure is handled as soon as it is known, not at the next commit interval.
    commit.settled.catch(() => {
      void this.#mutex.run(() => (this.#inFlight === inFlight ? this.#settleInFlight() : Promise.resolve())).catch((err) => this.#fatal(err, 'commit failed'));
    });
  }

  /**
   * Must run inside the mutex. Waits for the commit in flight; a migrated one drops its tasks, other failures
   * throw. Under exactly-once any failed commit drops its tasks (all running ones): its transaction was
   * aborted, and with it every task's outputs since the last commit, so no task may keep state built on them.
   */
  async #settleInFlight(): Promise<void> {
    const inFlight = this.#inFlight;
    if (!inFlight) return;
    try {
      await inFlight.commit.settled;
    } catch (err) {
      const migrated = causedBy(err, 'PS_ERR_TASK_MIGRATED');
      if (!migrated && !this.#exactlyOnce) throw err;
      // The tasks are dropped even when no new producer can be had now (brokers away): that failure is
      // then the one to handle, and the outage recovery's rejoin replaces the producer.
      const replaced = this.#exactlyOnce ? await this.#replaceProducer().then(() => undefined, (e: unknown) => ({ error: e })) : undefined;
      await this.#dropMigrated(inFlight.commit.tasks, err);
      if (replaced) throw replaced.error;
      if (!migrated) throw err;
    } finally {
      if (this.#inFlight === inFlight) this.#inFlight = undefined;
    }
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
    this.#assignmentsSeen++;
    if (this.#closing) return;
    if (this.state === 'RUNNING') this.#machine.moveTo('REBALANCING');
    // Synchronously, before the consumer fetches: new partitions stay paused until their task restored.
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
        // Looked up inside the mutex: a migrated commit settled meanwhile may have closed some already.
        const units = revoked.map((id) => this.#tasks.get(id)).filter((o): o is OwnedTask => o !== undefined);
        try {
          await this.#commitAll(units.map((u) => u.unit));
        } catch (err) {
          // The partitions moved on; under exactly-once the new owner fenced us. Nothing committed.
          this.#config.logger.warn({ err: errorMessage(err), tasks: revoked }, 'commit of revoked tasks failed; their uncommitted work is dropped');
        }
        for (const o of units) await this.#closeTask(o);
      });
    }
    const added = [...newIds].filter((id) => !this.#tasks.has(id)).sort();
    // One read of the group per assignment: the host map, the departed members, the standby assignment.
    const members = await this.#refreshHostMap();
    if (members !== undefined) await this.#fenceDeparted(members);
    // A standby of a task that became active here hands its RocksDB over: only the tail is left to restore.
    await this.#standbys?.stop(added);
    if (added.length > 0) await this.#createAndRestore(added);
    if (this.#config.numStandbyReplicas > 0 && members !== undefined && !this.#closing) {
      await this.#standbys?.reconcile(new Set(standbysFromGroup(members, this.#processId).filter((id) => !this.#tasks.has(id))));
    }
  }

  /**
   * Exactly-once: aborts the open transactions of members that left the group since the last assignment
   * (`departed-producers.ts`), before the restore waits for stable offsets. Best effort: without it (the
   * group could not be read, a fence failed) the wait lasts until the coordinator aborts them by their timeout.
   */
  async #fenceDeparted(members: readonly GroupMemberInfo[]): Promise<void> {
    if (!this.#departed) return;
    const departed = this.#departed.departed(members);
    await Promise.all(
      departed.map(async (transactionalId) => {
        try {
          const started = performance.now();
          // Initialising a producer with its id fences the departed one and aborts its open transaction.
          await (await this.#port!.createProducer({ transactionalId })).close();
          this.#config.logger.info({ transactionalId, ms: Math.round(performance.now() - started) }, 'aborted the open transaction of a member that left the group');
        } catch (err) {
          this.#config.logger.warn({ transactionalId, err: errorMessage(err) }, 'could not fence a member that left the group; its open transaction ends by its timeout');
        }
      }),
    );
  }

  /** Tasks this instance keeps warm as standby replicas, with the changelog records each is behind. */
  standbyStatus(): Array<{ taskId: string; lag: string }> {
    return [...(this.#standbys?.lags() ?? [])].map(([taskId, lag]) => ({ taskId, lag: String(lag) }));
  }

  async #createAndRestore(ids: readonly string[]): Promise<void> {
    const port = this.#port!;
    const created: OwnedTask[] = [];
    const targets: RestoreTarget[] = [];
    const ends = new Map<string, bigint>();
    const changelogTopics = new Set([...this.#topology.stores.values()].filter((s) => s.builder.loggingEnabled).map((s) => s.changelogTopic));
    // Exactly-once (KIP-447): a former owner's transaction may still be open, with input offsets of these
    // tasks in it (a crash between its offset commit and its end, an owner cut off from the group). Its
    // changelog records would land below the end read next, after the restore read past them. OffsetFetch
    // with require_stable answers once no such transaction is pending: committed, or aborted by its timeout
    // or by its producer's restart. Kafka Streams waits at the same point (task initialisation).
    if (this.#exactlyOnce) await port.admin.waitForStableOffsets(this.#config.applicationId, this.#assignor!.topicPartitions(ids), this.#config.restoreTimeoutMs);
    for (const topic of changelogTopics) for (const [p, off] of await port.admin.endOffsets(topic)) ends.set(changelogOffsetKey(topic, p), off);

    for (const id of ids) {
      const made = await createTask(id, {
        port,
        topology: this.#topology,
        config: this.#config,
        changelogEnds: ends,
        onDeadLetter: (err) => {
          this.metrics.deadLetters.inc({ task: id });
          this.#config.logger.warn({ task: id, err: errorMessage(err) }, 'record sent to the dead-letter topic');
        },
      });
      targets.push(...made.targets);
      created.push(made.owned);
      this.#tasks.set(id, made.owned);
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
    // The rebalance usually follows at once. When it does not (seen with a client whose group settled with this member
    // owning the same partitions, after another member had briefly fenced its producers), the partitions would
    // stay paused with no task forever: leave and join again, and the assignment recreates the tasks.
    const seen = this.#assignmentsSeen;
    const waitMs = Math.min(this.#config.sessionTimeoutMs, 10_000);
    setTimeout(() => {
      if (this.#assignmentsSeen !== seen || this.#closing || this.#suspended || this.state === 'ERROR' || this.state === 'NOT_RUNNING') return;
      const missing = ids.filter((id) => !this.#tasks.has(id));
      if (missing.length === 0) return;
      this.#recovery.report(new StreamsError('PS_ERR_TASK_MIGRATED', `tasks ${missing.join(', ')} were dropped after a refused commit and no rebalance gave them back within ${waitMs} ms`), 'rejoining the group', 'group membership');
    }, waitMs).unref();
  }

  async #closeTask(o: OwnedTask): Promise<void> {
    if (this.#tasks.get(o.task.id) !== o) return; // closed already (a migrated task, then revoked)
    this.#tasks.delete(o.task.id);
    await o.task.close();
    await o.db?.close();
  }

  /** Reads the group's assignment user data: the host map, and the members for the standby assignment. */
  async #refreshHostMap(): Promise<GroupMemberInfo[] | undefined> {
    try {
      const members = await this.#port!.admin.describeGroup(this.#config.applicationId);
      const map = hostMapFromGroup(members);
      if (map.size > 0) this.#hostMap = map;
      return members;
    } catch (err) {
      this.#config.logger.warn({ err: errorMessage(err) }, 'could not read the group host map');
      return undefined;
    }
  }

  #fatal(err: unknown, what: string): void {
    if (this.#closing || this.state === 'ERROR' || this.state === 'NOT_RUNNING') return;
    // During an outage, work that was under way when it began fails for want of a broker or a group member
    // (e.g. a commit with no live membership): part of the outage, not a new fatal error.
    // A decode that kept failing because the schema registry is away: waited out the same way, named as such.
    if (causedBy(err, 'PS_ERR_DESERIALIZATION_UNAVAILABLE')) return this.#recovery.report(err, what, 'schema registry');
    if (this.#suspended || this.#port?.isUnavailable(err)) return this.#recovery.report(err, what);
    const code = kafkaSecurityFailure(err)?.code ?? (err instanceof StreamsError ? err.code : 'PS_ERR_FATAL');
    this.#config.logger.error({ err: errorMessage(err), code, stack: (err as Error)?.stack }, `stream runtime stopped: ${what}: ${errorMessage(err)}`);
    this.#machine.moveTo('ERROR');
    void this.#shutdown(false);
  }

  async #shutdown(commit: boolean): Promise<void> {
    if (this.#closing) return this.#shuttingDown;
    this.#closing = true;
    this.#shuttingDown = (async () => {
      if (this.#ticker) clearInterval(this.#ticker);
      await this.#recovery.settled();
      await this.#rebalances.catch(() => undefined);
      await this.#mutex.run(async () => {
        if (commit) {
          // `#closing` stays set: the commit does not consult it, and clearing it would let an assignment, an
          // outage recovery or a fatal error start new work (or a second shutdown) while the commit waits.
          try {
            await this.#commitAll();
          } catch (err) {
            this.#config.logger.error({ err: errorMessage(err) }, 'final commit failed; uncommitted work will be reprocessed');
          }
        }
      });
      // Bounded: with the brokers gone a client can wait for answers that never come, and a close must end.
      await withDeadline(this.#consumer?.stop() ?? Promise.resolve(), CLOSE_STEP_DEADLINE_MS);
      await this.#standbys?.stopAll();
      await this.#mutex.run(async () => {
        // A commit still writing to a task's RocksDB must finish before the database closes.
        await this.#inFlight?.commit.settled.catch(() => undefined);
        this.#inFlight = undefined;
        for (const o of [...this.#tasks.values()]) await this.#closeTask(o);
      });
      await withDeadline(this.#producer?.close() ?? Promise.resolve(), CLOSE_STEP_DEADLINE_MS);
      await withDeadline(this.#port?.close() ?? Promise.resolve(), CLOSE_STEP_DEADLINE_MS);
      await this.#lock?.release();
    })();
    return this.#shuttingDown;
  }

  #shuttingDown: Promise<void> = Promise.resolve();
}

function withDeadline(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    p.catch(() => undefined).finally(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** How long each Kafka step of a close (leave the group, close the producers) may take. */
const CLOSE_STEP_DEADLINE_MS = 20_000;

/** Records processed between two chances for commits, punctuators and rebalances to run. */
const RECORDS_PER_STEP = 64;

/** `err` or one of its causes is a StreamsError with `code` (commitTasks wraps what failed inside it). */
function causedBy(err: unknown, code: StreamsErrorCode): boolean {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (isStreamsError(e, code)) return true;
  }
  return false;
}
