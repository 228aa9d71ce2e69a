import type { SeedSink } from '../../api/seed-sink.ts';
import type { SeedMessage } from '../../audiences/seed-message.ts';
import { createKeyedProducer, type KeyedProducer } from '../kafka/keyed-producer.ts';
import type { ClientSecurity } from '../client-security.ts';

/**
 * Writes seeds to the seeding topic as JSON keyed by MPID, partitioned as raw batches are, so a seed
 * lands on the partition of the task that owns the user.
 */
export class SeedProducer implements SeedSink {
  private readonly producer: KeyedProducer;

  constructor(brokers: string[], private readonly seedsTopic: string, clientId = 'profile-stream-seeds', security?: ClientSecurity) {
    this.producer = createKeyedProducer({ brokers, clientId, security: security?.kafka });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }

  async sendSeeds(seeds: readonly SeedMessage[]): Promise<void> {
    if (seeds.length === 0) return;
    await this.producer.send(this.seedsTopic, seeds.map((s) => ({ key: s.mpid, value: JSON.stringify(s) })));
  }
}
