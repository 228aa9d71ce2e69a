import { ensureTopics } from '../../../src/app/kafka/topic-admin.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { eventually as pollUntil } from '../../support/eventually.ts';
import { kafkaBrokers, uniqueName } from '../../support/stack-env.ts';
import { partitionForKey, type StreamsApp } from '../../../src/streams/index.ts';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const { Kafka, logLevel } = kafkajs;

export const quietLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (obj: object, msg?: string) => console.error(msg, obj),
};

export function kafka(): InstanceType<typeof Kafka> {
  return new Kafka({ clientId: 'streams-test', brokers: kafkaBrokers(), logLevel: logLevel.ERROR });
}

export async function createTopics(topics: ReadonlyArray<[string, number]>): Promise<void> {
  // ensureTopics waits for leaders itself: kafkajs' waitForLeaders gives up on the UNKNOWN_TOPIC_OR_PARTITION a
  // KRaft broker answers for a moment after creation, which failed these suites on a loaded machine.
  await ensureTopics(kafkaBrokers(), topics.map(([topic, partitions]) => ({ topic, partitions, purpose: 'test', config: {} })));
}

/** Produces string records keyed as Java would partition them. */
export async function produce(topic: string, partitions: number, records: ReadonlyArray<[string, string]>): Promise<void> {
  const producer = kafka().producer();
  await producer.connect();
  try {
    await producer.send({
      topic,
      acks: -1,
      messages: records.map(([k, v]) => ({ key: k, value: v, partition: partitionForKey(Buffer.from(k), partitions) })),
    });
  } finally {
    await producer.disconnect();
  }
}

export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Polls `check` until it returns true: the shared `eventually` of test/support, in the argument order these suites use. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 30_000, what = 'condition'): Promise<void> {
  await pollUntil(what, check, { timeoutMs });
}

/** Every key/value of a store across the app's local tasks. */
export async function storeContents<V>(app: StreamsApp, store: string): Promise<Map<string, V>> {
  const out = new Map<string, V>();
  for await (const { key, value } of app.store<string, V>(store).range()) out.set(key, value);
  return out;
}

/** Reads a topic from the beginning until `count` records arrived (read committed). */
export async function readTopic(topic: string, count: number, timeoutMs = 30_000): Promise<Array<{ key: string; value: Buffer | null; headers: { [k: string]: string } }>> {
  const consumer = kafka().consumer({ groupId: uniqueName('reader'), readUncommitted: false, maxWaitTimeInMs: 100 });
  const out: Array<{ key: string; value: Buffer | null; headers: { [k: string]: string } }> = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers: { [k: string]: string } = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
        out.push({ key: message.key?.toString() ?? '', value: message.value, headers });
        if (out.length >= count) resolve();
      },
    });
    await Promise.race([done, new Promise((_, rej) => setTimeout(() => rej(new Error(`read ${out.length}/${count} records of ${topic}`)), timeoutMs))]);
  } finally {
    await consumer.disconnect();
  }
  return out;
}

export const fastGroup = { sessionTimeoutMs: 6000, rebalanceTimeoutMs: 6000, heartbeatIntervalMs: 500 };
