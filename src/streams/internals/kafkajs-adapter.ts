import { randomUUID } from 'node:crypto';
import { OpenTransaction } from './open-transaction.ts';
import { Mutex } from './mutex.ts';
import kafkajs from 'kafkajs';
import type { Consumer, Producer, Message, EachBatchPayload, PartitionAssigner, Transaction } from 'kafkajs';
import type { Headers } from '../record.ts';
import type {
  AdminPort,
  GroupConsumerOptions,
  GroupConsumerPort,
  GroupConsumerHandlers,
  KafkaPort,
  OffsetToCommit,
  ProduceResult,
  ProducerPort,
  ReadRequest,
  TopicPartitions,
  TopicSpec,
} from './kafka-port.ts';
import type { OutgoingRecord } from './record-collector.ts';
import { chunksBySize } from './produce-chunks.ts';
import type { RawRecord } from './stream-task.ts';
import type { StreamsLogger } from './logger.ts';
import { StreamsError } from '../errors.ts';
import type { KafkaSecurity } from '../kafka-security.ts';
import { kafkajsSecurityOptions } from './kafkajs-security.ts';

const { Kafka, logLevel, AssignerProtocol } = kafkajs;

export interface KafkajsPortOptions {
  readonly clientId: string;
  readonly brokers: readonly string[];
  readonly logger: StreamsLogger;
  /** TLS and SASL; PLAINTEXT without. */
  readonly security?: KafkaSecurity;
}

/**
 * kafkajs reports these at WARN/ERROR although nothing is wrong: it retries coordinator moves and
 * rebalances by itself, and it warns about bounded retries on idempotent producers, which we bound on
 * purpose (a dead broker must surface as an error, not an endless retry; a failed transaction aborts).
 */
// Retried by kafkajs or by us: coordinators loading, rebalances, a just-created partition's leader not
// known yet, and CONCURRENT_TRANSACTIONS while the previous transaction's markers are being written.
// Connection failures: during an outage kafkajs logs one per attempt; the runtime logs the outage once.
const EXPECTED_NOISE = /ECONNREFUSED|Connection error|Failed to connect to seed broker|Connection timeout|Closed connection|Limiting retries for the idempotent producer|coordinator is loading|coordinator is not available|not the correct coordinator|group is rebalancing|rebalance in progress|not the leader for that topic-partition|another concurrent operation on the same transaction/i;

/** kafkajs behind the KafkaPort. Its own logs go to the app logger at WARN and above. */
export function createKafkajsPort(options: KafkajsPortOptions): KafkaPort {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
  const log = options.logger;
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    ...kafkajsSecurityOptions(options.security),
    logLevel: logLevel.WARN,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 2000 },
    logCreator: () => ({ namespace, level, log: entry }) => {
      const { message, ...extra } = entry;
      const obj = { kafkajs: namespace, ...extra };
      if (EXPECTED_NOISE.test(`${message} ${String(extra.error ?? '')}`)) log.debug(obj, message);
      else if (level === logLevel.ERROR || level === logLevel.NOTHING) log.error(obj, message);
      else if (level === logLevel.WARN) log.warn(obj, message);
      else log.debug(obj, message);
    },
  });
  const admin = kafka.admin();
  const adminReady = admin.connect();
  const closers: Array<() => Promise<void>> = [];

  const adminPort: AdminPort = {
    async partitionCounts(topics) {
      await adminReady;
      const existing = new Set(await admin.listTopics());
      const present = topics.filter((t) => existing.has(t));
      const out = new Map<string, number>();
      if (present.length === 0) return out;
      const md = await admin.fetchTopicMetadata({ topics: [...new Set(present)] });
      for (const t of md.topics) out.set(t.name, t.partitions.length);
      return out;
    },
    async createTopics(specs: readonly TopicSpec[]) {
      await adminReady;
      if (specs.length === 0) return;
      await admin.createTopics({
        // kafkajs' own wait for leaders retries only LEADER_NOT_AVAILABLE, but a KRaft broker also answers
        // a just-created topic's metadata with UNKNOWN_TOPIC_OR_PARTITION for a moment: wait here instead.
        waitForLeaders: false,
        topics: specs.map((s) => ({
          topic: s.topic,
          numPartitions: s.partitions,
          configEntries: s.compacted ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
        })),
      });
      const topics = specs.map((s) => s.topic);
      const deadline = Date.now() + 30_000;
      for (;;) {
        try {
          const md = await admin.fetchTopicMetadata({ topics });
          if (md.topics.length === topics.length && md.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
        } catch (error) {
          const retriable = (error as { retriable?: boolean }).retriable === true || /leader|unknown topic or partition|does not host/i.test((error as Error).message);
          if (!retriable) throw error;
        }
        if (Date.now() > deadline) throw new Error(`created topics have no leader after 30 s: ${topics.join(', ')}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async endOffsets(topic) {
      await adminReady;
      // A topic created a moment ago may not have its leaders yet ("not the leader for that
      // topic-partition", unknown partition): the broker says so with a retriable error. Wait it out
      // for a bounded time, refreshing metadata, rather than failing the app at start.
      const deadline = Date.now() + 30_000;
      for (let attempt = 0; ; attempt++) {
        try {
          const offs = await admin.fetchTopicOffsets(topic);
          return new Map(offs.map((o) => [o.partition, BigInt(o.high)]));
        } catch (error) {
          const retriable = (error as { retriable?: boolean }).retriable === true || /leader|unknown topic or partition/i.test((error as Error).message);
          if (!retriable || Date.now() > deadline) throw error;
          log.debug({ topic, attempt, err: (error as Error).message }, 'end offsets not available yet; retrying');
          await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 100 * 2 ** attempt)));
          await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
        }
      }
    },
    async describeGroup(groupId) {
      await adminReady;
      const { groups } = await admin.describeGroups([groupId]);
      return (groups[0]?.members ?? []).map((m) => ({
        memberId: m.memberId,
        metadataUserData: (m.memberMetadata.length > 0 ? AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.userData : undefined) ?? Buffer.alloc(0),
        assignmentUserData: (m.memberAssignment.length > 0 ? AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.userData : undefined) ?? Buffer.alloc(0),
      }));
    },
  };

  return {
    admin: adminPort,
    async createProducer({ transactionalId }) {
      const producer = kafka.producer(
        transactionalId
          ? { transactionalId, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 30_000 }
          : { idempotent: true, maxInFlightRequests: 1 },
      );
      await producer.connect();
      if (transactionalId) {
        // InitProducerId now, not at the first commit: it fences a zombie with the same id and aborts
        // its open transaction, so read-committed restore and input reads are not held back by it.
        const t = await producer.transaction();
        await t.abort();
      }
      const port = producerPort(producer);
      closers.push(() => port.close());
      return port;
    },
    createGroupConsumer: (opts) => groupConsumer(kafka, opts, log),
    readPartitions: (req) => readPartitions(kafka, options.clientId, req),
    isUnavailable: kafkaUnavailable,
    async close() {
      for (const c of closers.splice(0)) await c().catch(() => undefined);
      await adminReady.catch(() => undefined);
      await admin.disconnect();
    },
  };
}

async function sendInChunks(
  records: readonly OutgoingRecord[],
  sendBatch: (topicMessages: Array<{ topic: string; messages: Message[] }>) => Promise<ReadonlyArray<{ topicName: string; partition: number; baseOffset?: string }>>,
): Promise<Array<{ topicName: string; partition: number; baseOffset?: string }>> {
  const out: Array<{ topicName: string; partition: number; baseOffset?: string }> = [];
  for (const chunk of chunksBySize(records)) out.push(...(await sendBatch(toMessages(chunk))));
  return out;
}

function toMessages(records: readonly OutgoingRecord[]): Array<{ topic: string; messages: Message[] }> {
  const byTopic = new Map<string, Message[]>();
  for (const r of records) {
    if (!byTopic.has(r.topic)) byTopic.set(r.topic, []);
    byTopic.get(r.topic)!.push({ key: r.key, value: r.value, partition: r.partition, timestamp: String(r.timestamp), headers: cleanHeaders(r.headers) });
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

function cleanHeaders(h: Headers): { [k: string]: Buffer | string } {
  const out: { [k: string]: Buffer | string } = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = v;
  return out;
}

function toResults(md: ReadonlyArray<{ topicName: string; partition: number; baseOffset?: string }>): ProduceResult[] {
  return md.map((m) => ({ topic: m.topicName, partition: m.partition, baseOffset: BigInt(m.baseOffset ?? '-1') }));
}

function producerPort(producer: Producer): ProducerPort {
  let closed = false;
  /** The transaction early outputs went into, ended by the next `sendTransactionally`. */
  const open = new OpenTransaction<Transaction>(() => producer.transaction());
  /**
   * Every produce of this producer, one after another: outputs sent early and the commit's records keep
   * their order per partition, and a transaction never has two requests adding partitions at once.
   */
  const queue = new Mutex();
  const serially = <T>(work: () => Promise<T>): Promise<T> => queue.run(work);
  return {
    send(records) {
      if (records.length === 0) return Promise.resolve([]);
      return serially(async () => toResults(await sendInChunks(records, (topicMessages) => producer.sendBatch({ topicMessages, acks: -1 }))));
    },
    sendInTransaction(records) {
      if (records.length === 0) return Promise.resolve([]);
      return serially(async () => {
        try {
          const txn = await open.current();
          return toResults(await sendInChunks(records, (topicMessages) => txn.sendBatch({ topicMessages, acks: -1 })));
        } catch (err) {
          open.sendFailed(err);
          throw asMigrated(err);
        }
      });
    },
    sendTransactionally(records, groupId, offsets: readonly OffsetToCommit[]) {
      return serially(async () => {
        const { transaction, failure } = open.take();
        const txn = await transaction;
        try {
          if (failure) throw failure.error;
          const md = records.length === 0 ? [] : await sendInChunks(records, (topicMessages) => txn.sendBatch({ topicMessages, acks: -1 }));
          if (offsets.length > 0) {
            const byTopic = new Map<string, Array<{ partition: number; offset: string }>>();
            for (const o of offsets) {
              if (!byTopic.has(o.topic)) byTopic.set(o.topic, []);
              byTopic.get(o.topic)!.push({ partition: o.partition, offset: o.offset.toString() });
            }
            await txn.sendOffsets({ consumerGroupId: groupId, topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) });
          }
          await txn.commit();
          return toResults(md);
        } catch (err) {
          await txn.abort().catch(() => undefined);
          throw asMigrated(err);
        }
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      await producer.disconnect();
    },
  };
}

function toRaw(topic: string, partition: number, m: EachBatchPayload['batch']['messages'][number]): RawRecord {
  const headers: { [k: string]: Buffer | string | undefined } = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) headers[k] = Array.isArray(v) ? v[v.length - 1] : v;
  return { topic, partition, offset: m.offset, key: m.key ?? null, value: m.value ?? null, timestamp: Number(m.timestamp), headers };
}

function groupConsumer(kafka: InstanceType<typeof Kafka>, opts: GroupConsumerOptions, log: StreamsLogger): GroupConsumerPort {
  const assigner: PartitionAssigner = ({ cluster }) => ({
    name: opts.protocolName,
    version: 1,
    protocol: ({ topics }) => ({
      name: opts.protocolName,
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: opts.assignor.memberMetadata() }),
    }),
    async assign({ members, topics }) {
      const counts = new Map(topics.map((t) => [t, cluster.findTopicPartitionMetadata(t).length]));
      const decoded = members.map((m) => ({
        memberId: m.memberId,
        metadata: AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.userData ?? Buffer.alloc(0),
      }));
      const result = opts.assignor.assign(decoded, counts);
      return members.map(({ memberId }) => {
        const a = result.get(memberId);
        const assignment: { [topic: string]: number[] } = {};
        for (const tp of a?.assignment ?? []) assignment[tp.topic] = [...tp.partitions];
        return {
          memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment, userData: a?.userData ?? Buffer.alloc(0) }),
        };
      });
    },
  });
  const consumer: Consumer = kafka.consumer({
    groupId: opts.groupId,
    partitionAssigners: [assigner],
    sessionTimeout: opts.sessionTimeoutMs,
    rebalanceTimeout: opts.rebalanceTimeoutMs,
    heartbeatInterval: opts.heartbeatIntervalMs,
    readUncommitted: !opts.readCommitted,
    maxWaitTimeInMs: 250,
    // The runtime decides what a crash means (ERROR state); kafkajs must not restart behind its back.
    retry: { retries: 5, restartOnFailure: async () => false },
  });
  let stopped = false;
  return {
    async run(handlers: GroupConsumerHandlers) {
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        const assignment = Object.entries(e.payload.memberAssignment).map(([topic, partitions]) => ({ topic, partitions: partitions as number[] }));
        handlers.onAssigned(assignment);
      });
      consumer.on(consumer.events.REBALANCING, () => handlers.onRebalancing());
      consumer.on(consumer.events.CRASH, (e) => {
        if (!stopped) handlers.onCrash(e.payload.error, e.payload.restart);
      });
      await consumer.connect();
      await consumer.subscribe({ topics: [...opts.topics], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 1,
        eachBatch: async ({ batch, resolveOffset, isRunning, isStale }) => {
          await handlers.onBatch({
            topic: batch.topic,
            partition: batch.partition,
            records: batch.messages.map((m) => toRaw(batch.topic, batch.partition, m)),
            highWatermark: BigInt(batch.highWatermark),
            resolveOffset,
            isRunning: () => isRunning() && !isStale(),
          });
        },
      });
    },
    pause: (tps: readonly TopicPartitions[]) => {
      if (tps.length > 0) consumer.pause(tps.map((t) => ({ topic: t.topic, partitions: [...t.partitions] })));
    },
    resume: (tps: readonly TopicPartitions[]) => {
      if (tps.length > 0) consumer.resume(tps.map((t) => ({ topic: t.topic, partitions: [...t.partitions] })));
    },
    async commit(offsets) {
      if (offsets.length === 0) return;
      try {
        await consumer.commitOffsets(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset.toString() })));
      } catch (err) {
        if (groupMovedOn(err)) throw new StreamsError('PS_ERR_TASK_MIGRATED', `offset commit refused, the group moved to a new generation: ${(err as Error).message}`, { cause: err });
        throw err;
      }
    },
    async stop() {
      stopped = true;
      await consumer.disconnect().catch((err: unknown) => log.warn({ err }, 'consumer disconnect failed'));
    },
  };
}

/** kafkajs' names for "could not reach or hear from a broker"; a retries-exceeded error wraps one of them. */
const UNAVAILABLE_NAMES = new Set(['KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSRequestTimeoutError', 'KafkaJSBrokerNotFound', 'KafkaJSLockTimeout', 'KafkaJSNoBrokerAvailableError']);
const UNAVAILABLE_MESSAGE = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|EPIPE|connection (error|timeout|closed)|closed connection|request timed out|broker not (found|connected)|failed to connect|no brokers? (available|found)|there is no leader|not the leader|coordinator is not available|leader not available|failed to find group coordinator|fewer in-sync replicas/i;

export function kafkaUnavailable(err: unknown): boolean {
  for (let e = err as { name?: unknown; message?: unknown; cause?: unknown; originalError?: unknown } | undefined, depth = 0; e && depth < 6; depth++) {
    if (typeof e.name === 'string' && UNAVAILABLE_NAMES.has(e.name)) return true;
    // A broker error Kafka marks retriable (coordinator loading or moved, leader not elected yet after a
    // restart, not enough replicas) that outlasted kafkajs' own retries: still a state to wait out.
    if (e.name === 'KafkaJSProtocolError' && (e as { retriable?: unknown }).retriable === true) return true;
    if (typeof e.message === 'string' && UNAVAILABLE_MESSAGE.test(e.message)) return true;
    e = (e.cause ?? e.originalError) as typeof e;
  }
  return false;
}

/**
 * The coordinator refused an offset commit because this member's generation is over (a rebalance
 * started or finished without it, or its session expired). Nothing is wrong with the data: the member
 * rejoins, and the partitions' new owner (maybe this member again) resumes from the last committed offsets.
 */
const GENERATION_OVER = new Set(['ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS', 'UNKNOWN_MEMBER_ID', 'FENCED_INSTANCE_ID']);

/**
 * Another producer with this task's transactional id took over (the task's new owner initialised it):
 * this one is a zombie. Kafka Streams treats it as the task having migrated, not as a failure.
 */
const FENCED = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'INVALID_PRODUCER_ID_MAPPING']);

export function producerFenced(err: unknown): boolean {
  for (let e = err as { type?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.type === 'string' && FENCED.has(e.type)) return true;
  }
  return false;
}

function asMigrated(err: unknown): unknown {
  if (producerFenced(err)) return new StreamsError('PS_ERR_TASK_MIGRATED', `transactional producer fenced, another member owns the task now: ${(err as Error).message}`, { cause: err });
  if (groupMovedOn(err)) return new StreamsError('PS_ERR_TASK_MIGRATED', `transaction refused, the group moved to a new generation: ${(err as Error).message}`, { cause: err });
  return err;
}

export function groupMovedOn(err: unknown): boolean {
  for (let e = err as { type?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.type === 'string' && GENERATION_OVER.has(e.type)) return true;
  }
  return false;
}

/**
 * kafkajs has no manual partition assignment, so a restore reads through a throwaway single-member
 * group whose assigner hands it exactly the requested partitions; it seeks them at join and stops
 * once every partition reached its end offset (control records included, via END_BATCH_PROCESS).
 */
async function readPartitions(kafka: InstanceType<typeof Kafka>, clientId: string, req: ReadRequest): Promise<void> {
  const wanted = req.partitions.filter((p) => p.from < p.to);
  if (wanted.length === 0) return;
  const key = (t: string, p: number): string => `${t}:${p}`;
  const positions = new Map(wanted.map((w) => [key(w.topic, w.partition), w.from]));
  const ends = new Map(wanted.map((w) => [key(w.topic, w.partition), w.to]));
  const topics = [...new Set(wanted.map((w) => w.topic))];
  const name = 'profile-stream-restore';
  const assigner: PartitionAssigner = () => ({
    name,
    version: 1,
    protocol: ({ topics: ts }) => ({ name, metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics: ts, userData: Buffer.alloc(0) }) }),
    async assign({ members }) {
      const assignment: { [t: string]: number[] } = {};
      for (const w of wanted) (assignment[w.topic] ??= []).push(w.partition);
      return members.map((m, i) => ({
        memberId: m.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: i === 0 ? assignment : {}, userData: Buffer.alloc(0) }),
      }));
    },
  });
  const consumer = kafka.consumer({
    groupId: `${clientId}-restore-${randomUUID()}`,
    partitionAssigners: [assigner],
    readUncommitted: !req.readCommitted,
    maxWaitTimeInMs: 100,
    maxBytesPerPartition: 8 * 1024 * 1024,
    maxBytes: 32 * 1024 * 1024,
    retry: { retries: 5, restartOnFailure: async () => false },
  });
  let resolveDone!: () => void;
  let rejectDone!: (e: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  const advance = (topic: string, partition: number, next: bigint): void => {
    const k = key(topic, partition);
    if (next > (positions.get(k) ?? 0n)) positions.set(k, next);
    if ([...positions].every(([pk, pos]) => pos >= ends.get(pk)!)) resolveDone();
  };
  consumer.on(consumer.events.GROUP_JOIN, () => {
    for (const w of wanted) consumer.seek({ topic: w.topic, partition: w.partition, offset: w.from.toString() });
  });
  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
    if (e.payload.lastOffset !== undefined && e.payload.lastOffset !== null) advance(e.payload.topic, e.payload.partition, BigInt(e.payload.lastOffset) + 1n);
  });
  consumer.on(consumer.events.CRASH, (e) => rejectDone(e.payload.error));
  const timer = setTimeout(() => rejectDone(new Error(`restore did not reach the end offsets within ${req.timeoutMs} ms`)), req.timeoutMs);
  try {
    await consumer.connect();
    // A changelog with time retention (a topic a store logs to by `withChangelogTopic`) may start after the
    // stored offset: the seek is then out of range, and kafkajs resets to its subscription's default. From
    // the beginning, so the read starts at the log start; the default (latest) never reached the end offsets.
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const records = batch.messages.map((m) => toRaw(batch.topic, batch.partition, m));
        const next = BigInt(batch.lastOffset()) + 1n;
        await req.onBatch(batch.topic, batch.partition, records, next);
        advance(batch.topic, batch.partition, next);
      },
    });
    await done;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
  }
}
