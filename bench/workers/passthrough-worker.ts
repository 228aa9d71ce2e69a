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
process.stdout.write(`${JSON.stringify({ event: 'running', t: Date.now() })}\n`);
await consumer.run({
  autoCommit: false,
  eachBatch: async ({ batch }) => {
    if (batch.messages.length === 0) return;
    await producer.send({
      topic: config.output,
      acks: -1,
      compression: CompressionTypes.None,
      messages: batch.messages.map((m) => ({ key: m.key, value: m.value, partition: batch.partition, timestamp: m.timestamp })),
    });
    await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(batch.lastOffset()) + 1n).toString() }]);
  },
});
