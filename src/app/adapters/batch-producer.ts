import { CompressionTypes, Kafka, logLevel, Partitioners, type Message, type Producer } from 'kafkajs';
import { SCHEMAS } from '../../schema/schema-catalog.ts';
import { createAvroSerde, createSchemaRegistry, type AvroSerde } from '../../schema/avro-serde.ts';
import type { Batch } from '../../schema/batch.ts';
import { batchIdentities, DEFAULT_IDENTITY_STRATEGY } from '../../identity/identity-strategy.ts';
import pino from 'pino';
import { kafkajsLogCreator } from '../kafka/kafkajs-logger.ts';
import { kafkajsSecurityOptions } from '../../streams/index.ts';
import { registryEndpoint, type ClientSecurity } from '../client-security.ts';

/**
 * Produces batches to raw topics in the form profile-stream reads: Confluent-framed Avro, subject
 * `<topic>-value`, key = MPID as a decimal string. kafkajs 2.x's default partitioner is murmur2 like
 * Java's, so a batch lands on the partition any Java producer would pick for the same MPID.
 */
export class BatchProducer {
  private readonly producer: Producer;
  private readonly serde: AvroSerde<Batch>;
  readonly #partitionOf = new WeakMap<Message, number>();

  constructor(brokers: string[], schemaRegistryUrl: string, clientId = 'profile-stream-producer', security?: ClientSecurity) {
    process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
    // kafkajs's own logger prints retried coordinator errors at ERROR on a fresh broker; ours keeps them at debug.
    const kafka = new Kafka({ clientId, brokers, ...kafkajsSecurityOptions(security?.kafka), logLevel: logLevel.WARN, logCreator: kafkajsLogCreator(pino({ level: 'warn' }, pino.destination(2))), retry: { retries: 3 } });
    // Kafka's answer gives one base offset per partition; to tell each batch its own offset we need to know
    // which partition the (murmur2, Java-compatible) default partitioner picked for each message.
    const chosen = this.#partitionOf;
    const createPartitioner = () => {
      const partitioner = Partitioners.DefaultPartitioner();
      return (args: Parameters<typeof partitioner>[0]) => {
        const partition = partitioner(args);
        chosen.set(args.message, partition);
        return partition;
      };
    };
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner });
    this.serde = createAvroSerde<Batch>({ registry: createSchemaRegistry(registryEndpoint(schemaRegistryUrl, security)), schema: SCHEMAS.batch });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  /**
   * Sends the batches and resolves once Kafka acknowledged every one (acks=all), with where each landed,
   * in the order of `batches`: what the Profile API's `x-profile-stream-offsets` header is compared with.
   */
  async send(topic: string, batches: readonly Batch[], headers?: Readonly<Record<string, string>>): Promise<RecordPosition[]> {
    if (batches.length === 0) return [];
    const keys = batches.map(keyOf);
    const withoutKey = keys.findIndex((k) => k === undefined);
    if (withoutKey >= 0) throw new MissingMpidError(withoutKey);
    const values = await Promise.all(batches.map((b) => this.serde.serialize(topic, b)));
    const messages: Message[] = batches.map((b, i) => ({ key: keys[i]!, value: values[i]!, timestamp: String(b.timestamp_unixtime_ms ?? Date.now()), ...(headers ? { headers: { ...headers } } : {}) }));
    const acked = await this.producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages });
    // One produce request carries one record batch per partition, so a partition's messages got
    // consecutive offsets from its base offset, in the order they were given.
    const next = new Map(acked.map((m) => [m.partition, BigInt(m.baseOffset ?? '-1')]));
    return messages.map((m) => {
      const partition = this.#partitionOf.get(m) ?? -1;
      const offset = next.get(partition) ?? -1n;
      next.set(partition, offset + 1n);
      return { topic, partition, offset: offset.toString() };
    });
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }
}

/** Where Kafka stored one record; the offset as a decimal string (64-bit). */
export interface RecordPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/**
 * The record key: the MPID, or for a batch without one its highest-priority identity (`type:value`), which
 * identity resolution re-keys by the deployment's strategy; the same identity keeps one partition's order.
 */
function keyOf(batch: Batch): string | undefined {
  return batch.mpid ?? batchIdentities(batch, DEFAULT_IDENTITY_STRATEGY)[0]?.key;
}

export class MissingMpidError extends Error {
  readonly code = 'PS_ERR_MISSING_MPID' as const;
  readonly statusCode = 400;
  constructor(readonly index: number) {
    super(`batch ${index} has no mpid and no identity: profile-stream keys every batch by MPID or resolves it by an identity`);
    this.name = 'MissingMpidError';
  }
}
