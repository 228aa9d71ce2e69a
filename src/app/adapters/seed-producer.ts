import { Kafka, logLevel, type Producer } from 'kafkajs';
import type { SeedSink } from '../../api/seed-sink.ts';
import type { SeedMessage } from '../../audiences/seed-message.ts';
import { kafkajsSecurityOptions } from '../../streams/index.ts';
import type { ClientSecurity } from '../client-security.ts';

/**
 * Writes seeds to the seeding topic as JSON keyed by MPID. kafkajs 2.x's default partitioner is Java's
 * murmur2, as for raw batches, so a seed lands on the partition of the task that owns the user.
 */
export class SeedProducer implements SeedSink {
  private readonly producer: Producer;

  constructor(brokers: string[], private readonly seedsTopic: string, clientId = 'profile-stream-seeds', security?: ClientSecurity) {
    process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
    this.producer = new Kafka({ clientId, brokers, ...kafkajsSecurityOptions(security?.kafka), logLevel: logLevel.ERROR, retry: { retries: 3 } }).producer({ idempotent: true, maxInFlightRequests: 1 });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }

  async sendSeeds(seeds: readonly SeedMessage[]): Promise<void> {
    if (seeds.length === 0) return;
    await this.producer.send({ topic: this.seedsTopic, acks: -1, messages: seeds.map((s) => ({ key: s.mpid, value: JSON.stringify(s) })) });
  }
}
