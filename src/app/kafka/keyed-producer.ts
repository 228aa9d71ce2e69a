import { CompressionTypes, Partitioners, type Message, type Producer } from 'kafkajs';
import { kafkajsClient, type KafkaClientOptions } from './kafkajs-client.ts';

/** One record to produce: keyed (the key picks the partition, as any Java producer would), optionally timestamped. */
export interface KeyedRecord {
  readonly key: string;
  readonly value: Buffer | string;
  /** Epoch ms; the producer's clock when absent. */
  readonly timestamp?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Where Kafka stored one record; the offset as a decimal string (64-bit). */
export interface RecordPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/**
 * What the app produces with outside the stream runtime (ingested batches, seeds, erasure requests): an
 * idempotent producer whose `send` resolves once every record is acknowledged by all in-sync replicas,
 * with where each one landed.
 */
export interface KeyedProducer {
  connect(): Promise<void>;
  send(topic: string, records: readonly KeyedRecord[]): Promise<RecordPosition[]>;
  disconnect(): Promise<void>;
}

/**
 * kafkajs behind `KeyedProducer`. kafkajs 2.x's default partitioner is murmur2 like Java's, so a record
 * lands on the partition any Java producer (and the stream runtime) picks for the same key.
 */
export function createKeyedProducer(options: KafkaClientOptions): KeyedProducer {
  // Kafka's answer gives one base offset per partition; to tell each record its own offset we need to know
  // which partition the default partitioner picked for each message.
  const partitionOf = new WeakMap<Message, number>();
  const createPartitioner = () => {
    const partitioner = Partitioners.DefaultPartitioner();
    return (args: Parameters<typeof partitioner>[0]) => {
      const partition = partitioner(args);
      partitionOf.set(args.message, partition);
      return partition;
    };
  };
  const producer: Producer = kafkajsClient(options).producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner });
  return {
    connect: () => producer.connect(),
    disconnect: () => producer.disconnect(),
    async send(topic, records) {
      if (records.length === 0) return [];
      const messages: Message[] = records.map((r) => ({ key: r.key, value: r.value, ...(r.timestamp === undefined ? {} : { timestamp: String(r.timestamp) }), ...(r.headers ? { headers: { ...r.headers } } : {}) }));
      const acked = await producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages });
      // One produce request carries one record batch per partition, so a partition's messages got
      // consecutive offsets from its base offset, in the order they were given.
      const next = new Map(acked.map((m) => [m.partition, BigInt(m.baseOffset ?? '-1')]));
      return messages.map((m) => {
        const partition = partitionOf.get(m) ?? -1;
        const offset = next.get(partition) ?? -1n;
        next.set(partition, offset + 1n);
        return { topic, partition, offset: offset.toString() };
      });
    },
  };
}
