import { Kafka, logLevel } from 'kafkajs';
import { uniqueName } from '../../support/stack-env.ts';

export interface ChangelogEntry {
  readonly key: string;
  /** null for a tombstone. */
  readonly value: Buffer | null;
}

/** Reads every partition of `topic` from the beginning to its current end (read-committed), in offset order per partition. */
export async function readToEnd(brokers: string[], topic: string, timeoutMs = 30_000): Promise<ChangelogEntry[]> {
  const kafka = new Kafka({ clientId: 'test-changelog-reader', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
  const starts = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.low)]));
  await admin.disconnect();
  const remaining = new Set([...ends].filter(([p, end]) => end > starts.get(p)!).map(([p]) => p));
  const entries: ChangelogEntry[] = [];
  if (remaining.size === 0) return entries;
  const consumer = kafka.consumer({ groupId: uniqueName('changelog-reader'), readUncommitted: false });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${topic} not read to its end within ${timeoutMs} ms`)), timeoutMs);
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          entries.push({ key: message.key?.toString('utf8') ?? '', value: message.value });
          if (BigInt(message.offset) + 1n >= ends.get(partition)!) remaining.delete(partition);
          if (remaining.size === 0) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return entries;
}

/** The value each key ends with, as compaction will leave it. */
export function latestByKey(entries: readonly ChangelogEntry[]): Map<string, Buffer | null> {
  const out = new Map<string, Buffer | null>();
  for (const e of entries) out.set(e.key, e.value);
  return out;
}
