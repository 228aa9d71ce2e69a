import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';

/**
 * Kafka 4 brokers refuse records stamped more than an hour ahead (`message.timestamp.after.max.ms`),
 * and a clock moved a month forward stamps changelog and output records a month ahead. Lifts the limit
 * on every topic of the application. kafkajs only has the non-incremental AlterConfigs, which replaces a
 * topic's whole config: the topic-level settings already there (cleanup.policy=compact, ...) are sent again.
 */
export async function acceptFutureTimestamps(brokers: string[], topicPrefix: string): Promise<string[]> {
  const admin = new Kafka({ clientId: 'test-future-timestamps', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(topicPrefix));
    const described = await admin.describeConfigs({ includeSynonyms: false, resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })) });
    await admin.alterConfigs({
      validateOnly: false,
      resources: described.resources.map((r) => ({
        type: ConfigResourceTypes.TOPIC,
        name: r.resourceName,
        configEntries: [
          // configSource 1: DYNAMIC_TOPIC_CONFIG, the settings made for this topic.
          ...r.configEntries.filter((e) => e.configSource === 1 && e.configName !== 'message.timestamp.after.max.ms').map((e) => ({ name: e.configName, value: e.configValue })),
          { name: 'message.timestamp.after.max.ms', value: '9223372036854775807' },
        ],
      })),
    });
    return topics;
  } finally {
    await admin.disconnect();
  }
}
