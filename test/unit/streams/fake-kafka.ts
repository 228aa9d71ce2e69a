import { StreamsError, isStreamsError } from '../../../src/streams/errors.ts';
import type { KafkaPortContext, KafkaPortFactory } from '../../../src/streams/internals/kafka-client.ts';
import type {
  AdminPort,
  FetchedBatch,
  GroupConsumerHandlers,
  GroupConsumerOptions,
  GroupConsumerPort,
  GroupMemberInfo,
  KafkaPort,
  OffsetToCommit,
  ProduceResult,
  ProducerPort,
  ReadRequest,
  TopicPartitions,
  TopicSpec,
} from '../../../src/streams/internals/kafka-port.ts';
import type { OutgoingRecord } from '../../../src/streams/internals/record-collector.ts';
import type { RawRecord } from '../../../src/streams/internals/stream-task.ts';

/**
 * Records one partition hands out per fetch. Small, so a fetched batch is about one processing step of the app
 * and its commits, rebalances and revokes fall between batches, as they do with a busy broker.
 */
const FETCH_RECORDS = 50;
/** How long a fetch that found nothing waits for new data (the broker's max wait). */
const FETCH_WAIT_MS = 50;
/** Longest a refused transactional commit waits for the producer's next transaction before it is answered. */
const REFUSAL_ANSWER_MAX_MS = 1000;

/** A request's round trip: other work (the app's steps, other members) gets its turn, as on a network. */
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const tpKey = (topic: string, partition: number): string => `${topic}:${partition}`;

/**
 * A refusal as the real port reports it (`platformatic/errors.ts` `commitError`): PS_ERR_TASK_MIGRATED, with
 * the broker's error id kept in the cause where `brokerErrorIds` finds it.
 */
function migrated(message: string, brokerError: string): StreamsError {
  return new StreamsError('PS_ERR_TASK_MIGRATED', message, { cause: Object.assign(new Error(brokerError), { apiId: brokerError }) });
}

interface Transaction {
  readonly transactionalId: string;
  state: 'open' | 'committed' | 'aborted';
  /** Partitions written in it: each gets a marker when it ends. */
  readonly logs: Set<PartitionLog>;
  /** Group offsets it commits when it commits (TxnOffsetCommit); until then they are unstable. */
  readonly offsets: Array<{ readonly groupId: string; readonly topic: string; readonly partition: number; readonly offset: bigint }>;
}

interface LogEntry {
  /** Undefined for a transaction marker, which takes an offset as in Kafka but is never handed out. */
  readonly record: Omit<RawRecord, 'offset'> | undefined;
  readonly txn: Transaction | undefined;
}

class PartitionLog {
  readonly entries: LogEntry[] = [];

  get end(): bigint {
    return BigInt(this.entries.length);
  }

  /** Last stable offset: a read-committed reader stops at the first record of a transaction still open. */
  get stable(): bigint {
    const open = this.entries.findIndex((e) => e.txn?.state === 'open');
    return open < 0 ? this.end : BigInt(open);
  }

  /** Records from `from`; `next` is the position after what was looked at (markers and aborted records included). */
  read(from: bigint, readCommitted: boolean, max: number): { records: RawRecord[]; next: bigint } {
    const end = readCommitted ? this.stable : this.end;
    const records: RawRecord[] = [];
    let at = from;
    for (; at < end && records.length < max; at++) {
      const e = this.entries[Number(at)]!;
      if (e.record === undefined || (readCommitted && e.txn?.state === 'aborted')) continue;
      records.push({ ...e.record, offset: at.toString() });
    }
    return { records, next: at };
  }
}

class Group {
  generation = 0;
  /** In join order: the first is the leader, whose assignor assigns. */
  readonly members: FakeGroupConsumer[] = [];
  readonly committed = new Map<string, bigint>();
  readonly lateCommits: Array<{ readonly member: string; readonly topic: string; readonly partition: number; readonly offset: bigint }> = [];
  refuseNextCommit = false;
  rebalancing = false;
  again = false;
}

/**
 * An in-memory Kafka cluster shared by every port `port()` makes, so several StreamsApps can form one group.
 * It mirrors what the runtime relies on of `internals/platformatic/`, simply:
 *
 *  - topics of partitions of append-only logs (offsets from 0); transactional records sit in the log while their
 *    transaction is open, hold the last stable offset below them, and get a marker (one offset) when it ends;
 *  - producers: a plain one appends at once; a transactional one writes into its open transaction, commits it with
 *    the group's input offsets (refused for a member whose generation is over), and is fenced (its open
 *    transactions aborted, its later calls refused) by the next producer initialised with its transactional id;
 *  - a group coordinator with the eager protocol: on every join or leave each member's `onRebalancing` is awaited
 *    (the revoke commit), then the leader's assignor assigns and each member gets `onAssigned`; a member's fetch
 *    loop hands out batches of its assigned, unpaused partitions from the committed offset (or 0);
 *  - the restore reader and the admin calls the runtime makes.
 *
 * Not modelled: the transaction timeout (a transaction stays open until its producer's id is initialised again),
 * retention and compaction, static membership, outages (`isUnavailable` is always false).
 */
export class FakeKafka {
  readonly #topics = new Map<string, PartitionLog[]>();
  readonly #groups = new Map<string, Group>();
  readonly #producerIds = new Map<string, { epoch: number; inits: number; readonly open: Set<Transaction> }>();
  readonly #consumers = new Set<FakeGroupConsumer>();
  readonly #watchers = new Set<() => void>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #closed = false;
  #members = 0;
  #refused = 0;

  /** A port factory for `StreamsConfig.kafkaClient`: each app gets its own port on this cluster. */
  port(): KafkaPortFactory {
    return (context) => new FakePort(this, context);
  }

  // Test hooks.

  createTopic(topic: string, partitions: number): void {
    if (!this.#topics.has(topic)) this.#topics.set(topic, Array.from({ length: partitions }, () => new PartitionLog()));
  }

  /** Appends records as a plain producer would; returns the offset of each record. */
  produce(topic: string, records: ReadonlyArray<{ readonly partition: number; readonly key: string | null; readonly value: string | null }>): bigint[] {
    return records.map((r) => {
      const [result] = this.append([{ topic, partition: r.partition, key: r.key === null ? null : Buffer.from(r.key), value: r.value === null ? null : Buffer.from(r.value), timestamp: Date.now(), headers: {} }], undefined);
      return result!.baseOffset;
    });
  }

  /** What a reader from the beginning sees, partition by partition (read committed unless asked otherwise). */
  records(topic: string, options: { readCommitted?: boolean } = {}): RawRecord[] {
    return (this.#topics.get(topic) ?? []).flatMap((log) => log.read(0n, options.readCommitted ?? true, Infinity).records);
  }

  /** Log end offset of every partition of `topic`. */
  ends(topic: string): bigint[] {
    return (this.#topics.get(topic) ?? []).map((log) => log.end);
  }

  /** The group's committed offsets, keyed `topic:partition`. */
  committed(groupId: string): Map<string, bigint> {
    return new Map(this.#group(groupId).committed);
  }

  members(groupId: string): string[] {
    return this.#group(groupId).members.map((m) => m.id);
  }

  /**
   * The group moves to a new generation just before the next offset commit (plain or transactional) of
   * `groupId`, as when a rebalance completed without its members noticing: that commit is refused, and the
   * members rejoin at their next heartbeat. A refused transactional commit is answered late (see FakeProducer).
   */
  refuseNextCommit(groupId: string): void {
    this.#group(groupId).refuseNextCommit = true;
  }

  /**
   * Offsets a member committed for a partition no longer assigned to it: the coordinator accepts them (it
   * checks generation and member only), but the partition's new owner may have read from the older offset
   * already. The eager revoke commit exists so that there are none.
   */
  lateCommits(groupId: string): Array<{ member: string; topic: string; partition: number; offset: bigint }> {
    return [...this.#group(groupId).lateCommits];
  }

  /** Commits refused because the member's generation was over or it was not in the group. */
  get refusedCommits(): number {
    return this.#refused;
  }

  /** How many producers were initialised with each transactional id (each one fenced the one before). */
  producerInits(): Map<string, number> {
    return new Map([...this.#producerIds].map(([id, s]) => [id, s.inits]));
  }

  get openTransactions(): number {
    return [...this.#producerIds.values()].reduce((n, s) => n + s.open.size, 0);
  }

  /** Stops every member's loop and every timer; apps should be closed first. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await Promise.all([...this.#consumers].map((c) => c.halt()));
    this.#changed();
  }

  // The brokers, as the ports use them.

  partitionCounts(topics: readonly string[]): Map<string, number> {
    const out = new Map<string, number>();
    for (const t of topics) {
      const logs = this.#topics.get(t);
      if (logs) out.set(t, logs.length);
    }
    return out;
  }

  createTopics(specs: readonly TopicSpec[]): void {
    for (const s of specs) this.createTopic(s.topic, s.partitions);
  }

  endOffsets(topic: string): Map<number, bigint> {
    return new Map(this.#topicLogs(topic).map((log, p) => [p, log.stable]));
  }

  read(topic: string, partition: number, from: bigint, readCommitted: boolean): { records: RawRecord[]; next: bigint; highWatermark: bigint } {
    const log = this.#log(topic, partition);
    return { ...log.read(from, readCommitted, FETCH_RECORDS), highWatermark: log.end };
  }

  /** Appends a whole produce call at once (per partition its records get consecutive offsets); the first offset per partition. */
  append(records: readonly OutgoingRecord[], txn: Transaction | undefined): ProduceResult[] {
    for (const r of records) this.#log(r.topic, r.partition); // all or nothing
    const out = new Map<string, ProduceResult>();
    for (const r of records) {
      const log = this.#log(r.topic, r.partition);
      const offset = log.end;
      const headers: { [k: string]: Buffer } = {};
      for (const [k, v] of Object.entries(r.headers)) if (v !== undefined) headers[k] = typeof v === 'string' ? Buffer.from(v) : v;
      log.entries.push({ record: { topic: r.topic, partition: r.partition, key: r.key, value: r.value, timestamp: r.timestamp, headers }, txn });
      txn?.logs.add(log);
      const k = tpKey(r.topic, r.partition);
      if (!out.has(k)) out.set(k, { topic: r.topic, partition: r.partition, baseOffset: offset });
    }
    if (records.length > 0) this.#changed();
    return [...out.values()];
  }

  /** InitProducerId: aborts every open transaction of the id and fences the producer that had it. */
  initProducer(transactionalId: string): number {
    let s = this.#producerIds.get(transactionalId);
    if (!s) this.#producerIds.set(transactionalId, (s = { epoch: 0, inits: 0, open: new Set() }));
    for (const txn of [...s.open]) this.endTransaction(txn, false);
    s.epoch++;
    s.inits++;
    return s.epoch;
  }

  isFenced(transactionalId: string, epoch: number): boolean {
    return this.#producerIds.get(transactionalId)?.epoch !== epoch;
  }

  beginTransaction(transactionalId: string): Transaction {
    const txn: Transaction = { transactionalId, state: 'open', logs: new Set(), offsets: [] };
    this.#producerIds.get(transactionalId)!.open.add(txn);
    return txn;
  }

  /** TxnOffsetCommit: checked against the member's generation now, committed with the transaction. */
  addOffsets(txn: Transaction, member: FakeGroupConsumer | undefined, groupId: string, offsets: readonly OffsetToCommit[]): void {
    if (!member) throw new StreamsError('PS_ERR_TASK_MIGRATED', `transaction commit refused: this process has no live membership of group ${groupId} (rejoining)`);
    this.#checkGeneration(member, 'transaction commit');
    this.#noteLate(member, offsets);
    for (const o of offsets) txn.offsets.push({ groupId, topic: o.topic, partition: o.partition, offset: o.offset });
    this.#changed();
  }

  /** EndTxn: markers in every partition it wrote; on commit its group offsets become the committed ones. */
  endTransaction(txn: Transaction, commit: boolean): void {
    if (txn.state !== 'open') return;
    txn.state = commit ? 'committed' : 'aborted';
    for (const log of txn.logs) log.entries.push({ record: undefined, txn });
    if (commit) for (const o of txn.offsets) this.#group(o.groupId).committed.set(tpKey(o.topic, o.partition), o.offset);
    this.#producerIds.get(txn.transactionalId)?.open.delete(txn);
    this.#changed();
  }

  /** OffsetCommit of an at-least-once member. */
  commitOffsets(member: FakeGroupConsumer, offsets: readonly OffsetToCommit[]): void {
    this.#checkGeneration(member, 'offset commit');
    this.#noteLate(member, offsets);
    const group = this.#group(member.options.groupId);
    for (const o of offsets) group.committed.set(tpKey(o.topic, o.partition), o.offset);
    this.#changed();
  }

  committedOffset(groupId: string, topic: string, partition: number): bigint | undefined {
    return this.#group(groupId).committed.get(tpKey(topic, partition));
  }

  describeGroup(groupId: string): GroupMemberInfo[] {
    return this.#group(groupId).members.filter((m) => m.joined).map((m) => ({ memberId: m.id, metadataUserData: m.metadata, assignmentUserData: m.assignmentUserData }));
  }

  /** OffsetFetch with require_stable, retried while an open transaction holds offsets of these partitions. */
  async waitForStableOffsets(groupId: string, partitions: readonly TopicPartitions[], timeoutMs: number): Promise<void> {
    const wanted = new Set(partitions.flatMap((tp) => tp.partitions.map((p) => tpKey(tp.topic, p))));
    const started = Date.now();
    for (;;) {
      await tick();
      const held = [...this.#producerIds.values()].some((s) => [...s.open].some((t) => t.offsets.some((o) => o.groupId === groupId && wanted.has(tpKey(o.topic, o.partition)))));
      if (!held || this.#closed) return;
      if (Date.now() - started > timeoutMs) throw new StreamsError('PS_ERR_RESTORE_FAILED', `committed offsets of group ${groupId} stayed unstable for ${timeoutMs} ms`);
      await this.waitForChange(FETCH_WAIT_MS);
    }
  }

  /** The restore reader: direct reads from each partition's position until it reached its `to`. */
  async readPartitions(req: ReadRequest): Promise<void> {
    const positions = req.partitions.filter((p) => p.from < p.to).map((p) => ({ ...p, at: p.from < 0n ? 0n : p.from }));
    const deadline = Date.now() + req.timeoutMs;
    for (;;) {
      const open = positions.filter((p) => p.at < p.to);
      if (open.length === 0 || this.#closed) return;
      if (Date.now() > deadline) throw new Error(`restore did not reach the end offsets within ${req.timeoutMs} ms`);
      await tick();
      let moved = false;
      for (const p of open) {
        // Like a real fetch, not cut at `to`: whatever the log holds past it comes along.
        const { records, next } = this.read(p.topic, p.partition, p.at, req.readCommitted);
        if (next <= p.at) continue;
        await req.onBatch(p.topic, p.partition, records, next);
        p.at = next;
        moved = true;
      }
      if (!moved) await this.waitForChange(FETCH_WAIT_MS);
    }
  }

  // The group coordinator.

  newMember(options: GroupConsumerOptions, clientId: string): FakeGroupConsumer {
    const consumer = new FakeGroupConsumer(this, options, `${clientId}-${++this.#members}`);
    this.#consumers.add(consumer);
    return consumer;
  }

  join(member: FakeGroupConsumer): void {
    const group = this.#group(member.options.groupId);
    if (!group.members.includes(member)) group.members.push(member);
    this.rebalance(group);
  }

  leave(member: FakeGroupConsumer): void {
    const group = this.#group(member.options.groupId);
    const i = group.members.indexOf(member);
    if (i < 0) return;
    group.members.splice(i, 1);
    if (group.members.length > 0) this.rebalance(group);
  }

  rebalanceGroupOf(member: FakeGroupConsumer): void {
    this.rebalance(this.#group(member.options.groupId));
  }

  /** Starts a rebalance, or asks the one under way for another round (a member joined or left meanwhile). */
  rebalance(group: Group): void {
    if (this.#closed) return;
    group.again = true;
    if (group.rebalancing) return;
    group.rebalancing = true;
    void (async () => {
      try {
        await tick();
        while (group.again && !this.#closed) {
          group.again = false;
          await this.#round(group);
        }
      } catch (err) {
        for (const m of group.members) m.crash(err as Error);
      } finally {
        group.rebalancing = false;
      }
    })();
  }

  async #round(group: Group): Promise<void> {
    const before = [...group.members];
    for (const m of before) m.revoking();
    // Eager protocol: each member gives up its partitions (the runtime commits them) before anything is reassigned.
    // One that does not rejoin within its rebalance timeout is left out, and joins again at its next heartbeat.
    await Promise.all(
      before.filter((m) => m.joined).map(async (m) => {
        if (await this.#within(m.revoke(), m.options.rebalanceTimeoutMs)) return;
        const i = group.members.indexOf(m);
        if (i >= 0) group.members.splice(i, 1);
        this.#later(m.options.heartbeatIntervalMs, () => {
          if (m.running) this.join(m);
        });
      }),
    );
    const members = [...group.members];
    if (members.length === 0 || this.#closed) return;
    // The member metadata (owned tasks) is taken after the revoke, as the real client asks for it before its JoinGroup.
    const subscriptions = members.map((m) => ({ memberId: m.id, metadata: m.options.assignor.memberMetadata() }));
    const topics = [...new Set(members.flatMap((m) => m.options.topics))];
    const assignment = members[0]!.options.assignor.assign(subscriptions, this.partitionCounts(topics));
    group.generation++;
    members.forEach((m, i) => {
      const mine = assignment.get(m.id);
      m.assign(group.generation, subscriptions[i]!.metadata, mine?.assignment ?? [], mine?.userData ?? Buffer.alloc(0));
    });
  }

  #checkGeneration(member: FakeGroupConsumer, what: string): void {
    const group = this.#group(member.options.groupId);
    if (group.refuseNextCommit) {
      group.refuseNextCommit = false;
      this.#moveOn(group);
    }
    if (!group.members.includes(member)) {
      this.#refused++;
      throw migrated(`${what} refused, the group moved to a new generation: UNKNOWN_MEMBER_ID`, 'UNKNOWN_MEMBER_ID');
    }
    if (member.generation !== group.generation) {
      this.#refused++;
      throw migrated(`${what} refused, the group moved to a new generation: ILLEGAL_GENERATION`, 'ILLEGAL_GENERATION');
    }
  }

  #noteLate(member: FakeGroupConsumer, offsets: readonly OffsetToCommit[]): void {
    const group = this.#group(member.options.groupId);
    for (const o of offsets) if (!member.owns(o.topic, o.partition)) group.lateCommits.push({ member: member.id, topic: o.topic, partition: o.partition, offset: o.offset });
  }

  /** A new generation the members have not seen: their heartbeats find out, and they rejoin. */
  #moveOn(group: Group): void {
    group.generation++;
    if (group.members.length === 0) return;
    const heartbeat = Math.min(...group.members.map((m) => m.options.heartbeatIntervalMs));
    this.#later(heartbeat, () => {
      if (group.members.some((m) => m.generation !== group.generation)) this.rebalance(group);
    });
  }

  #within(work: Promise<unknown>, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      timer.unref();
      void work.finally(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  #later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (!this.#closed) fn();
    }, ms);
    timer.unref();
    this.#timers.add(timer);
  }

  /** Resolves at the next change of any log, transaction or committed offset, or after `ms`. */
  waitForChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#watchers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#watchers.add(done);
    });
  }

  #changed(): void {
    for (const w of [...this.#watchers]) w();
  }

  #group(groupId: string): Group {
    let g = this.#groups.get(groupId);
    if (!g) this.#groups.set(groupId, (g = new Group()));
    return g;
  }

  #topicLogs(topic: string): PartitionLog[] {
    const logs = this.#topics.get(topic);
    if (!logs) throw Object.assign(new Error(`UNKNOWN_TOPIC_OR_PARTITION: ${topic}`), { apiId: 'UNKNOWN_TOPIC_OR_PARTITION' });
    return logs;
  }

  #log(topic: string, partition: number): PartitionLog {
    const log = this.#topicLogs(topic)[partition];
    if (!log) throw Object.assign(new Error(`UNKNOWN_TOPIC_OR_PARTITION: ${topic}/${partition}`), { apiId: 'UNKNOWN_TOPIC_OR_PARTITION' });
    return log;
  }
}

/** One app's connection to the cluster, as `platformatic/port.ts` wires it. */
class FakePort implements KafkaPort {
  readonly admin: AdminPort;
  readonly #groups = new Map<string, FakeGroupConsumer>();
  readonly #producers: FakeProducer[] = [];

  constructor(
    private readonly cluster: FakeKafka,
    private readonly context: KafkaPortContext,
  ) {
    const answer = async <T>(work: () => T): Promise<T> => {
      await tick();
      return work();
    };
    this.admin = {
      partitionCounts: (topics) => answer(() => cluster.partitionCounts(topics)),
      createTopics: (specs) => answer(() => cluster.createTopics(specs)),
      endOffsets: (topic) => answer(() => cluster.endOffsets(topic)),
      describeGroup: (groupId) => answer(() => cluster.describeGroup(groupId)),
      waitForStableOffsets: (groupId, partitions, timeoutMs) => cluster.waitForStableOffsets(groupId, partitions, timeoutMs),
    };
  }

  async createProducer({ transactionalId }: { transactionalId?: string }): Promise<ProducerPort> {
    await tick();
    const producer = new FakeProducer(this.cluster, this, transactionalId === undefined ? undefined : { id: transactionalId, epoch: this.cluster.initProducer(transactionalId) });
    this.#producers.push(producer);
    return producer;
  }

  createGroupConsumer(options: GroupConsumerOptions): GroupConsumerPort {
    const consumer = this.cluster.newMember(options, this.context.clientId);
    this.#groups.set(options.groupId, consumer);
    return consumer;
  }

  /** The membership a transactional offset commit carries (KIP-447); none before the first join. */
  member(groupId: string): FakeGroupConsumer | undefined {
    const c = this.#groups.get(groupId);
    return c?.joined ? c : undefined;
  }

  /** As the real port does when a transaction commit finds the tasks migrated: the member rejoins. */
  rejoin(groupId: string): void {
    this.#groups.get(groupId)?.rejoin();
  }

  readPartitions(req: ReadRequest): Promise<void> {
    return this.cluster.readPartitions(req);
  }

  isUnavailable(): boolean {
    return false;
  }

  async close(): Promise<void> {
    for (const p of this.#producers.splice(0)) await p.close();
  }
}

class FakeProducer implements ProducerPort {
  #closed = false;
  /** The transaction early sends go into; a commit takes it, and the next send begins another. */
  #txn: Transaction | undefined;

  constructor(
    private readonly cluster: FakeKafka,
    private readonly port: FakePort,
    private readonly transactional: { readonly id: string; readonly epoch: number } | undefined,
  ) {}

  async send(records: readonly OutgoingRecord[]): Promise<ProduceResult[]> {
    if (this.#closed) throw new Error('producer is closed');
    if (this.transactional) throw new Error('a transactional producer sends inside transactions');
    const results = this.cluster.append(records, undefined);
    await tick();
    return results;
  }

  async sendInTransaction(records: readonly OutgoingRecord[]): Promise<ProduceResult[]> {
    const id = this.#usable('produce in transaction');
    if (records.length === 0) return [];
    this.#txn ??= this.cluster.beginTransaction(id);
    const results = this.cluster.append(records, this.#txn);
    await tick();
    return results;
  }

  async sendTransactionally(records: readonly OutgoingRecord[], groupId: string, offsets: readonly OffsetToCommit[]): Promise<ProduceResult[]> {
    let txn: Transaction | undefined;
    try {
      const id = this.#usable('transaction commit');
      txn = this.#txn ?? this.cluster.beginTransaction(id);
      // Sends from now on go into the next transaction, whatever becomes of this one.
      this.#txn = undefined;
      const results = this.cluster.append(records, txn);
      if (offsets.length > 0) {
        try {
          this.cluster.addOffsets(txn, this.port.member(groupId), groupId, offsets);
        } catch (err) {
          await this.#nextTransactionBegun(REFUSAL_ANSWER_MAX_MS);
          throw err;
        }
      }
      // EndTxn is a round trip of its own: meanwhile the transaction holds its offsets (unstable), and a
      // producer initialised with the same id can still fence it.
      await tick();
      this.#usable('transaction commit');
      this.cluster.endTransaction(txn, true);
      return results;
    } catch (err) {
      if (txn) this.cluster.endTransaction(txn, false);
      if (isStreamsError(err, 'PS_ERR_TASK_MIGRATED')) this.port.rejoin(groupId);
      throw err;
    }
  }

  async close(): Promise<void> {
    // An open transaction stays open, as a closed client leaves it: the next producer with its id aborts it.
    this.#closed = true;
  }

  /**
   * A refusal answered late, as by a loaded coordinator: the commit is in flight while processing goes on, so
   * the records processed meanwhile send their outputs into the next transaction, which the runtime must then
   * abort too (`test/integration/streams/eos-commit-failure.test.ts`).
   */
  async #nextTransactionBegun(maxMs: number): Promise<void> {
    const deadline = Date.now() + maxMs;
    while (this.#txn === undefined && !this.#closed && Date.now() < deadline) await this.cluster.waitForChange(FETCH_WAIT_MS);
  }

  #usable(what: string): string {
    if (this.#closed) throw new Error('producer is closed');
    if (!this.transactional) throw new Error('not a transactional producer');
    if (this.cluster.isFenced(this.transactional.id, this.transactional.epoch)) throw migrated(`${what} refused, a newer producer with the same transactional id fenced this one`, 'PRODUCER_FENCED');
    return this.transactional.id;
  }
}

/**
 * A group member, its positions and fetch loop as `platformatic/group-consumer.ts` keeps them: a partition that
 * stays assigned and consumed keeps its position across a rebalance; a new one, or one the runtime keeps paused,
 * starts again from the committed offset (else 0), read when it is resumed.
 */
class FakeGroupConsumer implements GroupConsumerPort {
  generation = -1;
  joined = false;
  metadata: Buffer = Buffer.alloc(0);
  assignmentUserData: Buffer = Buffer.alloc(0);
  #handlers: GroupConsumerHandlers | undefined;
  readonly #assigned = new Map<string, { readonly topic: string; readonly partition: number }>();
  readonly #positions = new Map<string, bigint>();
  readonly #paused = new Set<string>();
  /** Bumped at every assignment: a batch or an offset lookup of an older one is stale. */
  #epoch = 0;
  #rebalancing = true;
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #firstAssignment: (() => void) | undefined;

  constructor(
    private readonly cluster: FakeKafka,
    readonly options: GroupConsumerOptions,
    readonly id: string,
  ) {}

  get running(): boolean {
    return this.#running;
  }

  owns(topic: string, partition: number): boolean {
    return this.#assigned.has(tpKey(topic, partition));
  }

  async run(handlers: GroupConsumerHandlers): Promise<void> {
    this.#handlers = handlers;
    this.#running = true;
    const assigned = new Promise<void>((resolve) => (this.#firstAssignment = resolve));
    this.cluster.join(this);
    await assigned;
    if (!this.#running) return;
    this.#loop = this.#fetchLoop().catch((err: unknown) => {
      if (this.#running) handlers.onCrash(err as Error, false);
    });
  }

  pause(tps: readonly TopicPartitions[]): void {
    for (const tp of tps) for (const p of tp.partitions) this.#paused.add(tpKey(tp.topic, p));
  }

  resume(tps: readonly TopicPartitions[]): void {
    const again: Array<{ topic: string; partition: number }> = [];
    for (const tp of tps) {
      for (const p of tp.partitions) {
        const k = tpKey(tp.topic, p);
        if (this.#paused.delete(k) && this.#assigned.has(k)) {
          this.#positions.delete(k);
          again.push({ topic: tp.topic, partition: p });
        }
      }
    }
    if (again.length > 0) void this.#resolvePositions(again, this.#epoch);
    this.#poke();
  }

  async commit(offsets: readonly OffsetToCommit[]): Promise<void> {
    if (offsets.length === 0) return;
    this.cluster.commitOffsets(this, offsets);
    await tick();
  }

  async stop(): Promise<void> {
    const wasRunning = this.#running;
    await this.halt();
    if (wasRunning) this.cluster.leave(this);
  }

  // Called by the cluster.

  /** A rebalance began: nothing more is handed out until the next assignment. */
  revoking(): void {
    this.#rebalancing = true;
  }

  /** The eager revoke: resolves when the runtime's commit before the rebalance settled. */
  revoke(): Promise<void> {
    return Promise.resolve()
      .then(() => this.#handlers?.onRebalancing())
      .catch(() => undefined);
  }

  assign(generation: number, metadata: Buffer, assignment: readonly TopicPartitions[], userData: Buffer): void {
    this.generation = generation;
    this.metadata = metadata;
    this.assignmentUserData = userData;
    this.joined = true;
    this.#epoch++;
    const next = new Map<string, { topic: string; partition: number }>();
    for (const a of assignment) for (const p of a.partitions) next.set(tpKey(a.topic, p), { topic: a.topic, partition: p });
    const before = new Set(this.#assigned.keys());
    this.#assigned.clear();
    for (const [k, v] of next) this.#assigned.set(k, v);
    for (const k of [...this.#positions.keys()]) if (!next.has(k)) this.#positions.delete(k);
    for (const k of [...this.#paused]) if (!next.has(k)) this.#paused.delete(k);
    // Synchronously, before any fetch of the new generation: the runtime pauses what must restore first.
    this.#handlers?.onAssigned(assignment.map((a) => ({ topic: a.topic, partitions: [...a.partitions] })));
    const lookup = [...next].filter(([k]) => !before.has(k) || this.#paused.has(k) || !this.#positions.has(k)).map(([, tp]) => tp);
    for (const tp of lookup) this.#positions.delete(tpKey(tp.topic, tp.partition));
    this.#rebalancing = false;
    if (lookup.length > 0) void this.#resolvePositions(lookup, this.#epoch);
    this.#firstAssignment?.();
    this.#firstAssignment = undefined;
    this.#poke();
  }

  /** After a commit found this member migrated: it joins again, and so the whole group rebalances. */
  rejoin(): void {
    if (!this.#running || this.#rebalancing) return;
    this.#rebalancing = true;
    this.cluster.rebalanceGroupOf(this);
  }

  crash(err: Error): void {
    if (this.#running) this.#handlers?.onCrash(err, false);
  }

  async halt(): Promise<void> {
    this.#running = false;
    this.#firstAssignment?.();
    this.#firstAssignment = undefined;
    this.#poke();
    await this.#loop;
  }

  async #resolvePositions(tps: ReadonlyArray<{ topic: string; partition: number }>, at: number): Promise<void> {
    await tick();
    if (!this.#running || at !== this.#epoch) return;
    for (const tp of tps) this.#positions.set(tpKey(tp.topic, tp.partition), this.cluster.committedOffset(this.options.groupId, tp.topic, tp.partition) ?? 0n);
    this.#poke();
  }

  async #fetchLoop(): Promise<void> {
    while (this.#running) {
      const wanted = this.#rebalancing ? [] : [...this.#assigned].filter(([k]) => !this.#paused.has(k) && this.#positions.has(k)).map(([k, tp]) => ({ key: k, ...tp, from: this.#positions.get(k)! }));
      if (wanted.length === 0) {
        await this.#idle();
        continue;
      }
      const at = this.#epoch;
      await tick();
      const fetched = wanted.map((w) => ({ ...w, ...this.cluster.read(w.topic, w.partition, w.from, this.options.readCommitted) }));
      let moved = false;
      for (const f of fetched) {
        if (!this.#running) return;
        // Dropped, to be fetched again: a rebalance began or happened, the partition was paused, or its position moved.
        if (at !== this.#epoch || this.#rebalancing || this.#paused.has(f.key) || this.#positions.get(f.key) !== f.from) continue;
        if (f.records.length === 0) {
          if (f.next > f.from) {
            this.#positions.set(f.key, f.next);
            moved = true;
          }
          continue;
        }
        let resolved: bigint | undefined;
        const lastOffset = BigInt(f.records[f.records.length - 1]!.offset);
        const batch: FetchedBatch = {
          topic: f.topic,
          partition: f.partition,
          records: f.records,
          highWatermark: f.highWatermark,
          resolveOffset: (offset) => {
            resolved = BigInt(offset);
          },
          isRunning: () => this.#running && at === this.#epoch && !this.#rebalancing && !this.#paused.has(f.key),
        };
        await this.#handlers!.onBatch(batch);
        if (resolved === undefined || at !== this.#epoch || this.#positions.get(f.key) !== f.from) continue;
        this.#positions.set(f.key, resolved >= lastOffset ? f.next : resolved + 1n);
        moved = true;
      }
      // Nothing new, or nothing the runtime took: wait for data instead of fetching the same again at once.
      if (!moved) await this.#idle();
    }
  }

  #idle(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.#wake = undefined;
        resolve();
      };
      this.#wake = done;
      void this.cluster.waitForChange(FETCH_WAIT_MS).then(done);
    });
  }

  #poke(): void {
    this.#wake?.();
  }
}
