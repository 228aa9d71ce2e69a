import { CompressionTypes, Kafka, logLevel, type Producer } from 'kafkajs';
import { SCHEMAS } from '../schema/schema-catalog.ts';
import { createAvroSerde, createSchemaRegistry, type AvroSerde } from '../schema/avro-serde.ts';
import type { Batch } from '../schema/batch.ts';
import pino from 'pino';
import { kafkajsLogCreator } from './kafkajs-logger.ts';

/**
 * Produces batches to raw topics in the form profile-stream reads: Confluent-framed Avro, subject
 * `<topic>-value`, key = MPID as a decimal string. kafkajs 2.x's default partitioner is murmur2 like
 * Java's, so a batch lands on the partition any Java producer would pick for the same MPID.
 */
export class BatchProducer {
  private readonly producer: Producer;
  private readonly serde: AvroSerde<Batch>;

  constructor(brokers: string[], schemaRegistryUrl: string, clientId = 'profile-stream-producer') {
    process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
    // kafkajs's own logger prints retried coordinator errors at ERROR on a fresh broker; ours keeps them at debug.
    const kafka = new Kafka({ clientId, brokers, logLevel: logLevel.WARN, logCreator: kafkajsLogCreator(pino({ level: 'warn' }, pino.destination(2))), retry: { retries: 3 } });
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    this.serde = createAvroSerde<Batch>({ registry: createSchemaRegistry(schemaRegistryUrl), schema: SCHEMAS.batch });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  /** Sends the batches and resolves once Kafka acknowledged every one (acks=all). */
  async send(topic: string, batches: readonly Batch[]): Promise<void> {
    if (batches.length === 0) return;
    const withoutMpid = batches.findIndex((b) => b.mpid === null);
    if (withoutMpid >= 0) {
      // The MPID is the partition key that gives one task each user; resolving identities to a new MPID
      // is not part of profile-stream yet, so such a batch cannot be placed.
      throw new MissingMpidError(withoutMpid);
    }
    const values = await Promise.all(batches.map((b) => this.serde.serialize(topic, b)));
    await this.producer.send({
      topic,
      acks: -1,
      compression: CompressionTypes.None,
      messages: batches.map((b, i) => ({ key: b.mpid as string, value: values[i]!, timestamp: String(b.timestamp_unixtime_ms ?? Date.now()) })),
    });
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }
}

export class MissingMpidError extends Error {
  readonly code = 'PS_ERR_MISSING_MPID' as const;
  readonly statusCode = 400;
  constructor(readonly index: number) {
    super(`batch ${index} has no mpid: profile-stream keys every batch by MPID, so send "mpid" with the batch`);
    this.name = 'MissingMpidError';
  }
}
