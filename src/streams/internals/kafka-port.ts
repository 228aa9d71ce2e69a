import type { OutgoingRecord } from './record-collector.ts';
import type { RawRecord } from './stream-task.ts';

/**
 * The only Kafka the runtime sees. `platformatic/` implements it (`kafka-client.ts` creates it), and tests inject
 * their own (`test/unit/streams/fake-kafka.ts`, an in-memory cluster); nothing else imports a client, so it can be
 * replaced (or a call wrapped to inject a fault) in one place.
 */
export interface KafkaPort {
  readonly admin: AdminPort;
  /**
   * A connected producer; with `transactionalId` it is initialised before returning, which fences an
   * earlier producer with the same id and aborts its open transaction.
   */
  createProducer(options: { transactionalId?: string }): Promise<ProducerPort>;
  createGroupConsumer(options: GroupConsumerOptions): GroupConsumerPort;
  /** Reads partitions from given offsets up to given end offsets (restore); no group offsets kept. */
  readPartitions(request: ReadRequest): Promise<void>;
  /**
   * True when `err` (or one of its causes) says the brokers could not be reached or did not answer in
   * time: an outage the runtime waits out, as opposed to an error that no retry will fix.
   */
  isUnavailable(err: unknown): boolean;
  close(): Promise<void>;
}

export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
  readonly compacted: boolean;
}

/** A group member as the coordinator describes it: the user data of its join and of its assignment. */
export interface GroupMemberInfo {
  readonly memberId: string;
  readonly metadataUserData: Buffer;
  readonly assignmentUserData: Buffer;
}

export interface AdminPort {
  /** Partition count per existing topic; missing topics are absent from the map. */
  partitionCounts(topics: readonly string[]): Promise<Map<string, number>>;
  /** Creates the topics that do not exist yet. */
  createTopics(specs: readonly TopicSpec[]): Promise<void>;
  /** End offset per partition (last stable offset when read committed). */
  endOffsets(topic: string): Promise<Map<number, bigint>>;
  describeGroup(groupId: string): Promise<GroupMemberInfo[]>;
  /**
   * Resolves once the group's committed offsets of these partitions are stable (OffsetFetch with
   * require_stable): no open transaction still commits offsets for one of them. Rejects after `timeoutMs`.
   */
  waitForStableOffsets(groupId: string, partitions: readonly TopicPartitions[], timeoutMs: number): Promise<void>;
}

export interface ProduceResult {
  readonly topic: string;
  readonly partition: number;
  readonly baseOffset: bigint;
}

export interface OffsetToCommit {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

export interface ProducerPort {
  /** One produce call for all records; resolves when every partition acknowledged (acks=all). */
  send(records: readonly OutgoingRecord[]): Promise<ProduceResult[]>;
  /**
   * Exactly-once: produces inside the producer's open transaction (beginning one if none is open), so
   * outputs go out while processing continues; the next `sendTransactionally` commits them.
   */
  sendInTransaction(records: readonly OutgoingRecord[]): Promise<ProduceResult[]>;
  /**
   * (begin, unless open) → produce → sendOffsets with the group's generation → commit; aborts and rethrows
   * on any failure. One call commits everything sent in the transaction since the last one.
   */
  sendTransactionally(records: readonly OutgoingRecord[], groupId: string, offsets: readonly OffsetToCommit[]): Promise<ProduceResult[]>;
  close(): Promise<void>;
}

export interface TopicPartitions {
  readonly topic: string;
  readonly partitions: readonly number[];
}

export interface FetchedBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly RawRecord[];
  readonly highWatermark: bigint;
  /** Marks records up to `offset` (inclusive) as consumed so the next fetch starts after them. */
  resolveOffset(offset: string): void;
  /** False once a rebalance made this batch's partition stale; stop early. */
  isRunning(): boolean;
}

export interface GroupConsumerHandlers {
  onBatch(batch: FetchedBatch): Promise<void>;
  /** Synchronously after a join with the member's new assignment (before its first fetch). */
  onAssigned(assignment: readonly TopicPartitions[]): void;
  /** A rebalance begins; a client that can wait for the returned commit before rejoining should (eager revoke). */
  onRebalancing(): void | Promise<void>;
  onCrash(error: Error, willRestart: boolean): void;
}

export interface GroupAssignorPort {
  /** This member's metadata for the join (computed at each join). */
  memberMetadata(): Buffer;
  /** Leader only: partitions per member. */
  assign(members: ReadonlyArray<{ memberId: string; metadata: Buffer }>, partitionCounts: ReadonlyMap<string, number>): Map<string, { assignment: TopicPartitions[]; userData: Buffer }>;
}

export interface GroupConsumerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly readCommitted: boolean;
  readonly assignor: GroupAssignorPort;
  readonly protocolName: string;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
}

export interface GroupConsumerPort {
  run(handlers: GroupConsumerHandlers): Promise<void>;
  pause(tps: readonly TopicPartitions[]): void;
  resume(tps: readonly TopicPartitions[]): void;
  commit(offsets: readonly OffsetToCommit[]): Promise<void>;
  stop(): Promise<void>;
}

export interface ReadRequest {
  readonly readCommitted: boolean;
  /** `from` may be below a partition's log start (time retention, deleted records): read from the log start then. */
  readonly partitions: ReadonlyArray<{ topic: string; partition: number; from: bigint; to: bigint }>;
  /** Called per fetched batch, in order; `nextOffset` is the position after the batch. */
  onBatch(topic: string, partition: number, records: readonly RawRecord[], nextOffset: bigint): Promise<void>;
  /** Gives up after this long without reaching the end offsets. */
  timeoutMs: number;
}
