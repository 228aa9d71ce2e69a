import { Producer, type MessageToProduce } from '@platformatic/kafka';
import { partitionForKey } from '../../streams/index.ts';
import { kafkaClientError } from './kafka-client-error.ts';
import { clientOptions, type KafkaClientOptions } from './kafka-client.ts';

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
 * with where each one landed. A failed send rejects with a `KafkaClientError` (or the runtime's
 * `PS_ERR_KAFKA_AUTHENTICATION` / `PS_ERR_KAFKA_TLS` error); none of its records counts as accepted.
 */
export interface KeyedProducer {
  connect(): Promise<void>;
  send(topic: string, records: readonly KeyedRecord[]): Promise<RecordPosition[]>;
  disconnect(): Promise<void>;
}

type Message = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;

/**
 * Sends waiting while one is in flight go out together, up to this many bytes (the broker refuses a
 * partition's record batch over `message.max.bytes`, 1 MiB by default; the runtime's chunks are this size
 * too). A single send larger than this still goes out alone, as it came.
 */
const MAX_COALESCED_BYTES = 512 * 1024;
/** Per-record overhead in a v2 record batch, rounded up (varints, attributes, deltas, header framing). */
const RECORD_OVERHEAD = 64;

/**
 * The messages one send produces: each record on the partition Kafka's Java producer (and Kafka Streams,
 * and the stream runtime) picks for its key, `toPositive(murmur2(utf8 key)) % partitions`. Set here
 * rather than left to the client: @platformatic/kafka's default partitioner takes murmur2 as unsigned
 * (`>>> 0`), which puts every key whose hash is negative on another partition unless the count is a
 * power of two.
 */
export function keyedMessages(topic: string, records: readonly KeyedRecord[], partitions: number): Message[] {
  return records.map((r) => {
    const key = Buffer.from(r.key, 'utf8');
    const headers = new Map<Buffer, Buffer>();
    for (const [k, v] of Object.entries(r.headers ?? {})) headers.set(Buffer.from(k), Buffer.from(v));
    return {
      topic,
      key,
      value: typeof r.value === 'string' ? Buffer.from(r.value, 'utf8') : r.value,
      partition: partitionForKey(key, partitions),
      timestamp: BigInt(r.timestamp ?? Date.now()),
      headers,
    };
  });
}

interface PendingSend {
  readonly topic: string;
  readonly records: readonly KeyedRecord[];
  readonly bytes: number;
  resolve(positions: RecordPosition[]): void;
  reject(error: unknown): void;
}

function sizeOf(records: readonly KeyedRecord[]): number {
  let bytes = 0;
  for (const r of records) {
    bytes += Buffer.byteLength(r.key) + (typeof r.value === 'string' ? Buffer.byteLength(r.value) : r.value.length) + RECORD_OVERHEAD;
    for (const [k, v] of Object.entries(r.headers ?? {})) bytes += k.length + v.length;
  }
  return bytes;
}

/**
 * @platformatic/kafka behind `KeyedProducer`: idempotent, acks=all, and one produce request in flight
 * at a time. The one request matters for exactly-once across a leader change: the client retries a
 * request with the same producer id and sequence numbers, which the new leader recognises as already
 * written; with several in flight, a retried request the broker no longer remembers (it keeps the last
 * five per partition) or one overtaken by its successor comes back OUT_OF_ORDER_SEQUENCE_NUMBER, and the
 * client then resends it under a new producer id, which a broker cannot tell from a new record. Sends
 * made while one is in flight wait and go out together in the next request, so concurrent callers
 * (HTTP requests) share round trips instead of queueing one by one.
 */
export function createKeyedProducer(options: KafkaClientOptions): KeyedProducer {
  const producer = new Producer<Buffer, Buffer, Buffer, Buffer>({
    ...clientOptions(options),
    idempotent: true,
    acks: -1,
    // "No producer yet" in InitProducerId is -1/-1 (the library's default is 0/0).
    producerId: -1n,
    producerEpoch: -1,
    autocreateTopics: false,
  });
  const waiting: PendingSend[] = [];
  let pumping: Promise<void> | undefined;
  let closed = false;

  const sendTogether = async (group: readonly PendingSend[]): Promise<RecordPosition[][]> => {
    const topics = [...new Set(group.map((p) => p.topic))];
    // Cached by the client for a few seconds; the partition count of each topic picks each record's partition.
    const metadata = await producer.metadata({ topics });
    const perSend = group.map((p) => {
      const partitions = metadata.topics.get(p.topic)?.partitionsCount;
      if (!partitions) throw new Error(`no partitions known for topic ${p.topic}`);
      return keyedMessages(p.topic, p.records, partitions);
    });
    const result = await producer.send({ messages: perSend.flat(), acks: -1 });
    // One request carries one record batch per partition, in the order given, so a partition's messages
    // got consecutive offsets from its base offset.
    const next = new Map((result.offsets ?? []).map((o) => [`${o.topic}:${o.partition}`, o.offset]));
    return perSend.map((messages) =>
      messages.map((m) => {
        const at = `${m.topic}:${m.partition!}`;
        const offset = next.get(at);
        if (offset === undefined) throw new Error(`Kafka acknowledged no offset for ${at}`);
        next.set(at, offset + 1n);
        return { topic: m.topic, partition: m.partition!, offset: offset.toString() };
      }),
    );
  };

  const pump = async (): Promise<void> => {
    while (waiting.length > 0) {
      const group = [waiting.shift()!];
      let bytes = group[0]!.bytes;
      while (waiting.length > 0 && bytes + waiting[0]!.bytes <= MAX_COALESCED_BYTES) {
        const p = waiting.shift()!;
        bytes += p.bytes;
        group.push(p);
      }
      try {
        const positions = await sendTogether(group);
        group.forEach((p, i) => p.resolve(positions[i]!));
      } catch (error) {
        const failure = kafkaClientError(error, `producing to ${[...new Set(group.map((p) => p.topic))].join(', ')}`);
        for (const p of group) p.reject(failure);
      }
    }
  };

  const kick = (): void => {
    if (pumping) return;
    pumping = pump().finally(() => {
      pumping = undefined;
      // A send queued after the loop's last look, before this ran, would wait forever otherwise.
      if (waiting.length > 0) kick();
    });
  };

  return {
    async connect() {
      try {
        // Takes a producer id now, which connects and authenticates: bad credentials or no broker fail here, at start.
        await producer.initIdempotentProducer({});
      } catch (error) {
        throw kafkaClientError(error, 'connecting the producer');
      }
    },
    send(topic, records) {
      if (records.length === 0) return Promise.resolve([]);
      if (closed) return Promise.reject(new Error('the producer is disconnected'));
      return new Promise<RecordPosition[]>((resolve, reject) => {
        waiting.push({ topic, records, bytes: sizeOf(records), resolve, reject });
        kick();
      });
    },
    async disconnect() {
      if (closed) return;
      closed = true;
      while (pumping) await pumping;
      await producer.close();
    },
  };
}
