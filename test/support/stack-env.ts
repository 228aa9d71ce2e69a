import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';

/** Broker list from the global setup (or the user's KAFKA_BROKERS). */
export function kafkaBrokers(): string[] {
  const brokers = process.env.KAFKA_BROKERS || inject('kafkaBrokers');
  if (!brokers) throw new Error('No broker: run tests through vitest so test/support/global-setup.ts provides one');
  return brokers.split(',').map((b) => b.trim()).filter(Boolean);
}

/** Confluent-compatible schema registry URL (Apicurio's ccompat/v7 base). */
export function schemaRegistryUrl(): string {
  const url = process.env.SCHEMA_REGISTRY_URL || inject('schemaRegistryUrl');
  if (!url) throw new Error('No schema registry: run tests through vitest so test/support/global-setup.ts provides one');
  return url;
}

export const RUN_PREFIX_ENV = 'PROFILE_STREAM_TEST_RUN_PREFIX';

/** This test run's prefix: the global setup deletes every topic, group and subject starting with it at the end. */
export function runPrefix(): string {
  const prefix = process.env[RUN_PREFIX_ENV] || inject('runPrefix');
  if (!prefix) throw new Error('No run prefix: run tests through vitest so test/support/global-setup.ts provides one');
  return prefix;
}

/**
 * A name no other test file uses, so files can share one broker and run in parallel; it starts with the
 * run's prefix, so the run's clean-up finds what was made under it.
 */
export function uniqueName(prefix: string): string {
  return `${runPrefix()}-${prefix}-${randomUUID().slice(0, 8)}`;
}

/**
 * Event time for generated test batches: recent, because records keep their batch's timestamp and the
 * broker's time-based retention (7 days on raw and output topics) deletes older ones, active segment
 * included, on its first check 30 s after start — test data from months ago vanishes mid-test.
 */
export function recentStartTimeMs(batches: number, intervalMs = 1000): number {
  return Date.now() - (batches + 60) * intervalMs;
}

const TEST_CLIENTS = ['platformatic'] as const;
export type TestKafkaClient = (typeof TEST_CLIENTS)[number];

/** The Kafka client the runtime uses in tests: `KAFKA_CLIENT` when set, else the runtime's default. */
export function testKafkaClient(): TestKafkaClient | undefined {
  const raw = process.env.KAFKA_CLIENT;
  if (raw === undefined || raw === '') return undefined;
  if (!(TEST_CLIENTS as readonly string[]).includes(raw)) throw new Error(`KAFKA_CLIENT=${raw}: expected ${TEST_CLIENTS.join(' or ')}`);
  return raw as TestKafkaClient;
}

/**
 * Clients a test must pass with whatever the default is (crash and rebalance behaviour differs most
 * between them): the one `KAFKA_CLIENT` names, else every client.
 */
export function everyKafkaClient(): TestKafkaClient[] {
  const chosen = testKafkaClient();
  return chosen ? [chosen] : [...TEST_CLIENTS];
}

/** `KAFKA_CLIENT` for a `readRuntimeEnv({...})` built in a test, so the service follows the test run's client. */
export function kafkaClientEnv(): { KAFKA_CLIENT?: string } {
  const client = testKafkaClient();
  return client ? { KAFKA_CLIENT: client } : {};
}
