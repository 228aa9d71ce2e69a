import { Admin, Consumer, ListOffsetTimestamps } from '@platformatic/kafka';
import { brokerErrorIds, isStreamsError } from '../../streams/index.ts';
import { kafkaClientError } from './kafka-client-error.ts';
import { clientOptions, type KafkaClientOptions } from './kafka-client.ts';
import { fetchFromLeaders, type FetchedPartition, type TailPosition, type TailRecord } from './tail-fetch.ts';

export type { TailRecord } from './tail-fetch.ts';

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
   * Called per fetched batch with records, one at a time. With `resolveManually`, the next fetch of the
   * partition starts after the offset last passed to `resolve` (the same batch again when none was), or at
   * a `seek` made meanwhile; otherwise after the batch.
   */
  onBatch(batch: TailBatch, resolve: (offset: string) => void): Promise<void>;
  /** Once, when reading starts, with the partitions read (every partition of every topic). */
  onJoin?(assignment: Readonly<Record<string, number[]>>): void;
  /** After each batch was handled (also one that held only control records), with its last offset. */
  onBatchEnd?(topic: string, partition: number, lastOffset: string): void;
  /**
   * A fetch failed (`willRestart`: the tail retries by itself, after a pause), or a handler threw or Kafka
   * refused the credentials (`willRestart` false: the tail stopped reading).
   */
  onCrash?(error: Error, willRestart: boolean): void;
}

export interface TopicTailOptions extends KafkaClientOptions {
  readonly topics: readonly string[];
  /** Where each partition starts: its first offset, or its end (the last stable offset) when reading starts. */
  readonly fromBeginning: boolean;
  readonly resolveManually?: boolean;
  /** How long a fetch waits for records; default 500 ms. */
  readonly maxWaitMs?: number;
  /** Default 1 MiB. */
  readonly maxBytesPerPartition?: number;
  /** Default 10 MiB. */
  readonly maxBytes?: number;
}

export interface PartitionOffsets {
  readonly partition: number;
  readonly low: string;
  readonly high: string;
}

/**
 * Reading topics outside the stream runtime (the Live Stream, the Audiences page, `profile-stream consume`):
 * every partition of the topics by direct assignment, read committed, from the beginning or the end. It
 * joins no consumer group and commits nothing, so it leaves nothing on the broker and never touches the
 * pipeline's group, offsets or assignment.
 */
export interface TopicTail {
  topicExists(topic: string): Promise<boolean>;
  /** Log start (`low`) and last stable (`high`) offset of each partition. */
  offsets(topic: string): Promise<PartitionOffsets[]>;
  /** Resolves once reading started (after `onJoin`); a missing topic or no broker rejects. */
  run(handlers: TailHandlers): Promise<void>;
  /** The partition's next fetch starts at `offset`. */
  seek(topic: string, partition: number, offset: string): void;
  /** Stops reading and disconnects; never throws. */
  stop(): Promise<void>;
}

/** A fetch the brokers leave unanswered this long counts as failed (the library can hold one for minutes when a broker vanishes). */
const FETCH_DEADLINE_MS = 15_000;
/** `stop` waits at most this long for a batch handler still running. */
const STOP_WAIT_MS = 5_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function withinDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`fetch got no answer from the brokers within ${ms} ms`), { code: 'PS_ERR_KAFKA_UNAVAILABLE' })), ms);
  });
  work.catch(() => undefined); // an answer after the deadline is dropped, not an unhandled rejection
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

const keyOf = (topic: string, partition: number): string => `${topic}:${partition}`;

/** @platformatic/kafka behind `TopicTail`: a Consumer that never joins a group, reading with our own fetch loop. */
export function createTopicTail(options: TopicTailOptions): TopicTail {
  const base = clientOptions(options);
  const topics = [...options.topics];
  const what = `reading ${topics.join(', ')}`;
  // The library wants a group id for a Consumer; this one is never joined, so no group is ever created.
  const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({ ...base, clientId: `${base.clientId}-tail`, groupId: `${base.clientId}-tail-unjoined`, autocommit: false });
  let admin: Admin | undefined;
  const positions = new Map<string, TailPosition>();
  /** Bumped by every `seek`: a fetch or handler result for an older one must not move the position. */
  const seeks = new Map<string, number>();
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;

  const offsetsAt = async (topic: string, timestamp: bigint): Promise<bigint[]> => {
    const listed = await consumer.listOffsets({ topics: [topic], timestamp, isolationLevel: 1 });
    return listed.get(topic) ?? [];
  };

  /** A position below the log start (retention) or past the end (a topic recreated) moves to the nearest end. */
  const clampPositions = async (): Promise<void> => {
    for (const topic of new Set([...positions.values()].map((p) => p.topic))) {
      const [low, high] = await Promise.all([offsetsAt(topic, ListOffsetTimestamps.EARLIEST), offsetsAt(topic, ListOffsetTimestamps.LATEST)]);
      for (const p of positions.values()) {
        if (p.topic !== topic) continue;
        const lo = low[p.partition] ?? 0n;
        const hi = high[p.partition] ?? lo;
        if (p.offset < lo) p.offset = lo;
        else if (p.offset > hi) p.offset = hi;
      }
    }
  };

  const deliver = async (handlers: TailHandlers, fetched: readonly FetchedPartition[], seekAt: ReadonlyMap<string, number>): Promise<void> => {
    for (const f of fetched) {
      if (!running) return;
      const key = keyOf(f.topic, f.partition);
      const position = positions.get(key);
      // Seeked since the fetch went out, or an answer for an older position: the next fetch reads the right place.
      if (!position || seekAt.get(key) !== (seeks.get(key) ?? 0) || position.offset !== f.from || f.nextOffset <= f.from) continue;
      const lastOffset = f.nextOffset - 1n;
      if (f.records.length > 0) {
        let resolved: bigint | undefined;
        const lag = f.highWatermark - 1n - lastOffset;
        await handlers.onBatch(
          { topic: f.topic, partition: f.partition, records: f.records, highWatermark: f.highWatermark.toString(), lastOffset: lastOffset.toString(), offsetLag: (lag > 0n ? lag : 0n).toString() },
          (offset) => {
            resolved = BigInt(offset);
          },
        );
        if (seekAt.get(key) === (seeks.get(key) ?? 0)) {
          if (options.resolveManually !== true) position.offset = f.nextOffset;
          else if (resolved !== undefined) position.offset = resolved + 1n;
        }
      } else {
        // Only transaction markers (or aborted records): nothing to hand over, nothing to resolve.
        position.offset = f.nextOffset;
      }
      handlers.onBatchEnd?.(f.topic, f.partition, lastOffset.toString());
    }
  };

  const fetchLoop = async (handlers: TailHandlers): Promise<void> => {
    let failures = 0;
    while (running) {
      const wanted = [...positions.values()].map((p) => ({ ...p }));
      if (wanted.length === 0) {
        // No topics given: nothing to fetch, and no reason to spin.
        await sleep(options.maxWaitMs ?? 500);
        continue;
      }
      const seekAt = new Map(wanted.map((p) => [keyOf(p.topic, p.partition), seeks.get(keyOf(p.topic, p.partition)) ?? 0]));
      try {
        const fetched = await withinDeadline(
          fetchFromLeaders(consumer, topics, wanted, {
            maxWaitTime: options.maxWaitMs ?? 500,
            maxBytes: options.maxBytes ?? 10 * 1024 * 1024,
            maxBytesPerPartition: options.maxBytesPerPartition ?? 1024 * 1024,
          }),
          FETCH_DEADLINE_MS,
        );
        failures = 0;
        // Partitions added to a topic after reading started: everything in them is new, read from their start.
        for (const p of fetched.newPartitions) if (!positions.has(keyOf(p.topic, p.partition))) positions.set(keyOf(p.topic, p.partition), { ...p });
        try {
          await deliver(handlers, fetched.partitions, seekAt);
        } catch (error) {
          running = false;
          options.logger?.warn({ err: error }, 'topic tail: a batch handler failed; reading stopped');
          handlers.onCrash?.(error as Error, false);
          return;
        }
      } catch (error) {
        if (!running) return;
        const failure = kafkaClientError(error, what);
        if (isStreamsError(failure)) {
          // Refused credentials or an untrusted certificate: waiting does not change them.
          running = false;
          handlers.onCrash?.(failure, false);
          return;
        }
        failures++;
        const level = failure.retriable ? 'debug' : 'warn';
        options.logger?.[level]({ err: failure.message, failures }, 'topic tail: fetch failed; retrying');
        handlers.onCrash?.(failure, true);
        consumer.clearMetadata();
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, Math.min(2_000, 100 * 2 ** Math.min(failures, 5)));
        });
        if (running && brokerErrorIds(error).has('OFFSET_OUT_OF_RANGE')) await clampPositions().catch(() => undefined);
      }
    }
  };

  return {
    async topicExists(topic) {
      admin ??= new Admin({ ...base, clientId: `${base.clientId}-admin` });
      try {
        return (await admin.listTopics()).includes(topic);
      } catch (error) {
        throw kafkaClientError(error, 'listing topics');
      }
    },
    async offsets(topic) {
      try {
        const [low, high] = await Promise.all([offsetsAt(topic, ListOffsetTimestamps.EARLIEST), offsetsAt(topic, ListOffsetTimestamps.LATEST)]);
        return high.map((h, partition) => ({ partition, low: (low[partition] ?? 0n).toString(), high: h.toString() }));
      } catch (error) {
        throw kafkaClientError(error, `reading the offsets of ${topic}`);
      }
    },
    async run(handlers) {
      const assignment: Record<string, number[]> = {};
      try {
        const metadata = await consumer.metadata({ topics });
        for (const topic of topics) {
          const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
          assignment[topic] = Array.from({ length: count }, (_, i) => i);
          const start = await offsetsAt(topic, options.fromBeginning ? ListOffsetTimestamps.EARLIEST : ListOffsetTimestamps.LATEST);
          for (const partition of assignment[topic]) {
            // A seek made before reading started wins.
            if (!positions.has(keyOf(topic, partition))) positions.set(keyOf(topic, partition), { topic, partition, offset: start[partition] ?? 0n });
          }
        }
      } catch (error) {
        throw kafkaClientError(error, what);
      }
      running = true;
      handlers.onJoin?.(assignment);
      // The first fetch waits for the caller's seeks right after `run` resolves (as `consume` makes them).
      loop = sleep(0).then(() => fetchLoop(handlers));
    },
    seek(topic, partition, offset) {
      const key = keyOf(topic, partition);
      seeks.set(key, (seeks.get(key) ?? 0) + 1);
      positions.set(key, { topic, partition, offset: BigInt(offset) });
    },
    async stop() {
      running = false;
      wake?.();
      // A fetch in flight is aborted by the close; a handler still running is given a moment to end.
      await consumer.close(true).catch(() => undefined);
      if (loop) await Promise.race([loop.catch(() => undefined), sleep(STOP_WAIT_MS)]);
      await admin?.close().catch(() => undefined);
      admin = undefined;
    },
  };
}
