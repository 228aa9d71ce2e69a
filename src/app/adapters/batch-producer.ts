import { SCHEMAS } from '../../schema/schema-catalog.ts';
import { createAvroSerde, createSchemaRegistry, type AvroSerde } from '../../schema/avro-serde.ts';
import type { Batch } from '../../schema/batch.ts';
import { batchIdentities, DEFAULT_IDENTITY_STRATEGY } from '../../identity/identity-strategy.ts';
import { registryEndpoint, type ClientSecurity } from '../client-security.ts';
import { createKeyedProducer, type KeyedProducer, type RecordPosition } from '../kafka/keyed-producer.ts';

/**
 * Produces batches to raw topics in the form profile-stream reads: Confluent-framed Avro, subject
 * `<topic>-value`, key = MPID as a decimal string, so a batch lands on the partition any Java producer
 * would pick for the same MPID (`KeyedProducer`).
 */
export class BatchProducer {
  private readonly producer: KeyedProducer;
  private readonly serde: AvroSerde<Batch>;

  constructor(brokers: string[], schemaRegistryUrl: string, clientId = 'profile-stream-producer', security?: ClientSecurity) {
    this.producer = createKeyedProducer({ brokers, clientId, security: security?.kafka });
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
    return this.producer.send(topic, batches.map((b, i) => ({ key: keys[i]!, value: values[i]!, timestamp: b.timestamp_unixtime_ms ?? Date.now(), ...(headers ? { headers } : {}) })));
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }
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
