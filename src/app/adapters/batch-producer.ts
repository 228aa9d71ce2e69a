import { SCHEMAS } from '../../schema/schema-catalog.ts';
import { createAvroSerde, createSchemaRegistry, type AvroSerde } from '../../schema/avro-serde.ts';
import type { Batch } from '../../schema/batch.ts';
import pino from 'pino';
import { createKeyedProducer, type KeyedProducer, type RecordPosition } from '../kafka/keyed-producer.ts';

/**
 * Produces batches to raw topics in the form profile-stream reads: Confluent-framed Avro, subject
 * `<topic>-value`, key = MPID as a decimal string, so a batch lands on the partition any Java producer
 * would pick for the same MPID (`KeyedProducer`).
 */
export class BatchProducer {
  private readonly producer: KeyedProducer;
  private readonly serde: AvroSerde<Batch>;

  constructor(brokers: string[], schemaRegistryUrl: string, clientId = 'profile-stream-producer') {
    // kafkajs's own logger prints retried coordinator errors at ERROR on a fresh broker; ours keeps them at debug.
    this.producer = createKeyedProducer({ brokers, clientId, logger: pino({ level: 'warn' }, pino.destination(2)) });
    this.serde = createAvroSerde<Batch>({ registry: createSchemaRegistry(schemaRegistryUrl), schema: SCHEMAS.batch });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  /**
   * Sends the batches and resolves once Kafka acknowledged every one (acks=all), with where each landed,
   * in the order of `batches`: what the Profile API's `x-profile-stream-offsets` header is compared with.
   */
  async send(topic: string, batches: readonly Batch[]): Promise<RecordPosition[]> {
    if (batches.length === 0) return [];
    const withoutMpid = batches.findIndex((b) => b.mpid === null);
    if (withoutMpid >= 0) {
      // The MPID is the partition key that gives one task each user; resolving identities to a new MPID
      // is not part of profile-stream yet, so such a batch cannot be placed.
      throw new MissingMpidError(withoutMpid);
    }
    const values = await Promise.all(batches.map((b) => this.serde.serialize(topic, b)));
    return this.producer.send(topic, batches.map((b, i) => ({ key: b.mpid as string, value: values[i]!, timestamp: b.timestamp_unixtime_ms ?? Date.now() })));
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
