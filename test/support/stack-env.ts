import { randomUUID } from 'node:crypto';

/** Broker list the global setup made available (or the user gave through KAFKA_BROKERS). */
export function kafkaBrokers(): string[] {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) throw new Error('KAFKA_BROKERS is not set: run tests through vitest so the global setup starts the stack');
  return brokers.split(',').map((b) => b.trim()).filter(Boolean);
}

/** Confluent-compatible schema registry URL (Apicurio's ccompat/v7 base). */
export function schemaRegistryUrl(): string {
  const url = process.env.SCHEMA_REGISTRY_URL;
  if (!url) throw new Error('SCHEMA_REGISTRY_URL is not set: run tests through vitest so the global setup starts the stack');
  return url;
}

/** A name no other test file uses, so files can share one broker and run in parallel. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
