import type { KafkaSecurity } from '../../kafka-security.ts';
import type { KafkaPort } from '../kafka-port.ts';
import type { StreamsLogger } from '../logger.ts';
import { createAdmin } from './admin.ts';
import { isKafkaUnavailable } from './errors.ts';
import { baseClientOptions } from './client-options.ts';
import { createGroupConsumer, type PlatformaticGroupConsumer } from './group-consumer.ts';
import { createProducerPort } from './producer.ts';
import { readPartitions } from './restore-reader.ts';

export interface PlatformaticPortOptions {
  readonly clientId: string;
  readonly brokers: readonly string[];
  readonly logger: StreamsLogger;
  /** TLS and SASL; PLAINTEXT without. */
  readonly security?: KafkaSecurity;
  /** Static group membership; see `instance-id.ts`. */
  readonly groupInstanceId?: string;
}

/**
 * @platformatic/kafka behind the KafkaPort: admin, producers (transactional ones commit offsets with
 * the group's generation, KIP-447), the group consumer and the restore reader, one file each.
 */
export function createPlatformaticPort(options: PlatformaticPortOptions): KafkaPort {
  const base = baseClientOptions(options.clientId, options.brokers, options.security);
  const admin = createAdmin(base, options.logger);
  const groups = new Map<string, PlatformaticGroupConsumer>();
  const closers: Array<() => Promise<void>> = [];
  return {
    admin,
    async createProducer({ transactionalId }) {
      const producer = await createProducerPort({
        base,
        ...(transactionalId ? { transactionalId } : {}),
        groupMetadata: (groupId) => groups.get(groupId)?.groupMetadata(),
        onMigrated: (groupId) => groups.get(groupId)?.rejoin(),
      });
      closers.push(() => producer.close());
      return producer;
    },
    createGroupConsumer(opts) {
      const consumer = createGroupConsumer({ ...opts, base, groupInstanceId: options.groupInstanceId, logger: options.logger });
      groups.set(opts.groupId, consumer);
      return consumer;
    },
    readPartitions: (req) => readPartitions(base, req),
    isUnavailable: isKafkaUnavailable,
    async close() {
      for (const c of closers.splice(0)) await c().catch(() => undefined);
      await admin.close().catch(() => undefined);
    },
  };
}
