import { Kafka, logLevel } from 'kafkajs';

/**
 * Topics a test run creates, deleted when it ends: every test names its topics uniquely, so without this
 * the broker's data directory grows by a few hundred topics per run, and a broker restarting over
 * thousands of partitions takes minutes to answer. Only topics that did not exist when the run started are
 * deleted, and never the application's own (`profile-stream.*`, `profile-stream-*`), which `npm start`
 * may have created meanwhile.
 */
export async function topicsNow(brokers: string[]): Promise<Set<string>> {
  const admin = new Kafka({ clientId: 'test-topics', brokers, logLevel: logLevel.NOTHING, retry: { retries: 1 } }).admin();
  await admin.connect();
  try {
    return new Set(await admin.listTopics());
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTopicsCreatedSince(brokers: string[], before: ReadonlySet<string>): Promise<number> {
  const admin = new Kafka({ clientId: 'test-topics', brokers, logLevel: logLevel.NOTHING, retry: { retries: 1 } }).admin();
  await admin.connect();
  try {
    const created = (await admin.listTopics()).filter((t) => !before.has(t) && !t.startsWith('profile-stream') && !t.startsWith('__'));
    for (let i = 0; i < created.length; i += 100) {
      const chunk = created.slice(i, i + 100);
      // A topic a test already deleted fails the whole request: then one by one, ignoring those.
      await admin.deleteTopics({ topics: chunk, timeout: 30_000 }).catch(async () => {
        for (const topic of chunk) await admin.deleteTopics({ topics: [topic], timeout: 30_000 }).catch(() => undefined);
      });
    }
    return created.length;
  } finally {
    await admin.disconnect();
  }
}
