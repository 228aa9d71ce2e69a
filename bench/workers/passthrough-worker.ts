/**
 * The kafkajs ceiling: consume the raw topic and produce the same bytes to one output topic (no decode,
 * no state), committing the input offsets after each produced batch is acknowledged (at-least-once).
 * What the client library can move on this machine, with the runtime's consumer settings.
 * `node --import tsx bench/workers/passthrough-worker.ts '<json>'`; prints `{"event":"running"}`.
 */
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';

const config = JSON.parse(process.argv[2]!) as { brokers: string[]; groupId: string; input: string; output: string };
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const kafka = new Kafka({ clientId: 'bench-passthrough', brokers: config.brokers, logLevel: logLevel.ERROR });
const consumer = kafka.consumer({ groupId: config.groupId, maxWaitTimeInMs: 250 });
const producer = kafka.producer({ allowAutoTopicCreation: false });
await Promise.all([consumer.connect(), producer.connect()]);
await consumer.subscribe({ topics: [config.input], fromBeginning: true });
process.on('SIGTERM', () => {
  void Promise.all([consumer.disconnect(), producer.disconnect()]).finally(() => process.exit(0));
});
// A crashed consumer inside a live process would leave the harness waiting for lag zero: exit, so it
// sees the death (with this stderr) at once.
consumer.on(consumer.events.CRASH, ({ payload }) => {
  process.stderr.write(`pass-through consumer crashed: ${payload.error?.stack ?? String(payload.error)}\n`);
  process.exit(1);
});
process.stdout.write(`${JSON.stringify({ event: 'running', t: Date.now() })}\n`);
await consumer.run({
  autoCommit: false,
  eachBatch: async ({ batch }) => {
    if (batch.messages.length === 0) return;
    // A fetch can bring more than the broker's 1 MiB request limit; re-produce it in chunks below it.
    for (const chunk of byteChunks(batch.messages, 512 * 1024)) {
      await producer.send({
        topic: config.output,
        acks: -1,
        compression: CompressionTypes.None,
        messages: chunk.map((m) => ({ key: m.key, value: m.value, partition: batch.partition, timestamp: m.timestamp })),
      });
    }
    await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(batch.lastOffset()) + 1n).toString() }]);
  },
});

function byteChunks<T extends { key: Buffer | null; value: Buffer | null }>(messages: readonly T[], maxBytes: number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = (m.key?.length ?? 0) + (m.value?.length ?? 0) + 64;
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
