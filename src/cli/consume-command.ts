import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { createSchemaRegistry } from '../schema/avro-serde.ts';
import type { CliOutput } from './cli-output.ts';
import type { Connection } from './connection.ts';

export interface ConsumeOptions {
  count?: string | undefined;
  timeout?: string | undefined;
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (Buffer.isBuffer(value)) return value.toString('base64');
  return value;
}

/**
 * `profile-stream consume TOPIC`: prints records from the beginning as JSON lines (Avro decoded with the
 * writer's schema from the registry; anything else shown as text, with its headers), read-committed.
 * Stops after --count records or --timeout seconds without a new one.
 */
export async function consumeCommand(conn: Connection, topic: string | undefined, options: ConsumeOptions, out: CliOutput): Promise<number> {
  if (!topic) {
    out.error('consume needs a topic, e.g. profile-stream consume profile-stream.enriched.analytics --count 10');
    return 2;
  }
  const count = options.count !== undefined ? Number(options.count) : Infinity;
  const idleSeconds = options.timeout !== undefined ? Number(options.timeout) : 10;
  if (!(count > 0) || !(idleSeconds > 0)) {
    out.error('--count and --timeout take positive numbers');
    return 2;
  }
  const registry = createSchemaRegistry(conn.schemaRegistryUrl);
  const kafka = new Kafka({ clientId: 'profile-stream-consume', brokers: conn.brokers, logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  await admin.connect();
  const exists = (await admin.listTopics()).includes(topic);
  await admin.disconnect();
  if (!exists) {
    out.error(`topic ${topic} does not exist (profile-stream topics lists and creates the declared ones)`);
    return 1;
  }
  // A throwaway group: reading must not move the offsets of any real consumer.
  const consumer = kafka.consumer({ groupId: `profile-stream-consume-${randomUUID()}`, readUncommitted: false });
  let seen = 0;
  let lastActivity = Date.now();
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      if (seen >= count) return;
      lastActivity = Date.now();
      let value: unknown = null;
      if (message.value) {
        try {
          value = message.value[0] === 0 ? await registry.decode(message.value) : message.value.toString('utf8');
        } catch (error) {
          value = { undecodable: (error as Error).message, base64: message.value.toString('base64') };
        }
      }
      const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, v?.toString() ?? null]));
      out.info(JSON.stringify({ partition, offset: message.offset, key: message.key?.toString() ?? null, headers, value }, jsonReplacer));
      seen += 1;
      if (seen >= count) finish();
    },
  });
  const idle = setInterval(() => {
    if (Date.now() - lastActivity > idleSeconds * 1000) finish();
  }, 250);
  await done;
  clearInterval(idle);
  await consumer.disconnect();
  out.error(`${seen} record(s) from ${topic}`);
  return count !== Infinity && seen < count ? 1 : 0;
}
