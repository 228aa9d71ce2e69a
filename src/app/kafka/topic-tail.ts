import type { Admin, Consumer } from 'kafkajs';
import { kafkajsClient, type KafkaClientOptions } from './kafkajs-client.ts';

/** One fetched record, client-neutral. */
export interface TailRecord {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp: string;
  readonly headers: Readonly<Record<string, string | null>>;
}

/** The records of one fetch from one partition. */
export interface TailBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly TailRecord[];
  readonly highWatermark: string;
  /** Offset of the last record fetched, control records (transaction markers) included. */
  readonly lastOffset: string;
  /** Records between the end of this batch and the high watermark. */
  readonly offsetLag: string;
}

export interface TailHandlers {
  /**
   * Called per fetched batch, one at a time. With `resolveManually`, the next fetch of the partition starts
   * after the offset last passed to `resolve` (or at a `seek`); otherwise after the batch.
   */
  onBatch(batch: TailBatch, resolve: (offset: string) => void): Promise<void>;
  /** After each join, with the partitions this member reads. */
  onJoin?(assignment: Readonly<Record<string, number[]>>): void;
  /** After each batch was handled (also one that held only control records), with its last offset. */
  onBatchEnd?(topic: string, partition: number, lastOffset: string): void;
  /** The consumer failed; it restarts by itself when `willRestart`, else it is stopped. */
  onCrash?(error: Error, willRestart: boolean): void;
}

export interface TopicTailOptions extends KafkaClientOptions {
  /** A group of the tail's own: it never commits, and `stop` deletes it. */
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Where a partition with no committed offset starts (always the case: nothing is committed). */
  readonly fromBeginning: boolean;
  readonly resolveManually?: boolean;
  readonly sessionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  readonly maxWaitMs?: number;
  readonly maxBytesPerPartition?: number;
  readonly maxBytes?: number;
}

export interface PartitionOffsets {
  readonly partition: number;
  readonly low: string;
  readonly high: string;
}

/**
 * Reading topics outside the stream runtime (the Live Stream, the Audiences page, `profile-stream consume`):
 * a consumer in a throwaway group, read committed, that commits nothing and removes its group when stopped.
 */
export interface TopicTail {
  topicExists(topic: string): Promise<boolean>;
  /** Log start (`low`) and end (`high`) offset of each partition. */
  offsets(topic: string): Promise<PartitionOffsets[]>;
  run(handlers: TailHandlers): Promise<void>;
  /** The partition's next fetch starts at `offset`. */
  seek(topic: string, partition: number, offset: string): void;
  /** Disconnects and deletes the group; never throws. */
  stop(): Promise<void>;
}

/** kafkajs behind `TopicTail`. */
export function createTopicTail(options: TopicTailOptions): TopicTail {
  const kafka = kafkajsClient(options);
  let admin: Promise<Admin> | undefined;
  const adminClient = (): Promise<Admin> => {
    admin ??= (async () => {
      const a = kafka.admin();
      await a.connect();
      return a;
    })();
    return admin;
  };
  let consumer: Consumer | undefined;
  return {
    async topicExists(topic) {
      return (await (await adminClient()).listTopics()).includes(topic);
    },
    async offsets(topic) {
      const a = await adminClient();
      // A topic created a moment ago (or whose leader just moved) answers NOT_LEADER_OR_FOLLOWER until the
      // metadata settles, and kafkajs' admin retries it with the stale metadata: refresh and ask again.
      for (let attempt = 1; ; attempt++) {
        try {
          return (await a.fetchTopicOffsets(topic)).map((o) => ({ partition: o.partition, low: o.low, high: o.high }));
        } catch (error) {
          if (attempt >= 10 || (error as { retriable?: boolean }).retriable !== true) throw error;
          await new Promise((r) => setTimeout(r, 200 * attempt));
          await a.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
        }
      }
    },
    async run(handlers) {
      const c = kafka.consumer({
        groupId: options.groupId,
        readUncommitted: false,
        allowAutoTopicCreation: false,
        ...(options.sessionTimeoutMs === undefined ? {} : { sessionTimeout: options.sessionTimeoutMs }),
        ...(options.heartbeatIntervalMs === undefined ? {} : { heartbeatInterval: options.heartbeatIntervalMs }),
        ...(options.maxWaitMs === undefined ? {} : { maxWaitTimeInMs: options.maxWaitMs }),
        ...(options.maxBytesPerPartition === undefined ? {} : { maxBytesPerPartition: options.maxBytesPerPartition }),
        ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
      });
      consumer = c;
      if (handlers.onJoin) {
        const onJoin = handlers.onJoin;
        c.on(c.events.GROUP_JOIN, (e) => onJoin(e.payload.memberAssignment));
      }
      if (handlers.onCrash) {
        const onCrash = handlers.onCrash;
        c.on(c.events.CRASH, (e) => onCrash(e.payload.error, e.payload.restart));
      }
      if (handlers.onBatchEnd) {
        const onBatchEnd = handlers.onBatchEnd;
        // kafkajs's batch event, not the last record: a fetch that ends in a transaction marker delivers no record for it.
        c.on(c.events.END_BATCH_PROCESS, (e) => onBatchEnd(e.payload.topic, e.payload.partition, e.payload.lastOffset));
      }
      await c.connect();
      await c.subscribe({ topics: [...options.topics], fromBeginning: options.fromBeginning });
      await c.run({
        autoCommit: false,
        eachBatchAutoResolve: options.resolveManually !== true,
        eachBatch: async ({ batch, resolveOffset }) => {
          const records = batch.messages.map((m): TailRecord => ({
            offset: m.offset,
            key: m.key,
            value: m.value,
            timestamp: m.timestamp,
            headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, v === undefined ? null : v.toString()])),
          }));
          await handlers.onBatch(
            { topic: batch.topic, partition: batch.partition, records, highWatermark: batch.highWatermark, lastOffset: batch.lastOffset(), offsetLag: batch.offsetLag() },
            resolveOffset,
          );
        },
      });
    },
    seek(topic, partition, offset) {
      consumer?.seek({ topic, partition, offset });
    },
    async stop() {
      const c = consumer;
      consumer = undefined;
      if (c) await c.disconnect().catch(() => {});
      // The group committed nothing; removing it leaves the broker as it was.
      const a = await adminClient().catch(() => undefined);
      if (c) await a?.deleteGroups([options.groupId]).catch(() => {});
      await a?.disconnect().catch(() => {});
      admin = undefined;
    },
  };
}
