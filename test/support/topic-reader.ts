import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';

export interface ReadRecord {
  readonly partition: number;
  readonly message: KafkaMessage;
}

/**
 * Reads a topic from the beginning (read-committed) until `count` records arrived or `timeoutMs` passed;
 * returns what it saw, so a test can assert on the exact count rather than hang.
 */
export async function readTopic(brokers: string[], topic: string, count: number, timeoutMs = 60_000): Promise<ReadRecord[]> {
  const kafka = new Kafka({ clientId: 'test-reader', brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `test-reader-${randomUUID()}`, readUncommitted: false });
  const records: ReadRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          records.push({ partition, message });
          if (records.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}
