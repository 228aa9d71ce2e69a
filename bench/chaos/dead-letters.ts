import { benchKafka, sleep } from '../lib/kafka.ts';

/**
 * The committed records of the dead-letter topic, counted by their `x-error-code` header: the load has no
 * bad batch, so every one of them is a good batch the service gave up on (a registry outage read as bad
 * input, for instance).
 */
export async function deadLettersByCode(brokers: readonly string[], topic: string, groupId: string): Promise<Record<string, number>> {
  const kafka = benchKafka(brokers, `${groupId}-client`);
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const byCode: Record<string, number> = {};
  // Under exactly-once the high watermark counts commit markers too: read until each partition's reader
  // position passed its last record, or nothing arrives for a while.
  if (ends.every((e) => e.high === e.low)) return byCode;
  const consumer = kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let last = Date.now();
  await consumer.run({
    eachMessage: async ({ message }) => {
      last = Date.now();
      const code = message.headers?.['x-error-code']?.toString() ?? '(no code)';
      byCode[code] = (byCode[code] ?? 0) + 1;
    },
  });
  const deadline = Date.now() + 30_000;
  while (Date.now() - last < 4000 && Date.now() < deadline) await sleep(250);
  await consumer.disconnect();
  return byCode;
}
