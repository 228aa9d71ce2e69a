import { Kafka, logLevel } from 'kafkajs';
import type { PlannedTopic } from '../topology/topic-plan.ts';
import { kafkajsSecurityOptions, type KafkaSecurity } from '../../streams/index.ts';

export interface TopicOutcome {
  readonly topic: string;
  readonly partitions: number;
  readonly purpose: string;
  readonly outcome: 'created' | 'exists' | 'exists-with-other-partition-count';
  /** Partition count found when the topic already existed. */
  readonly actualPartitions?: number;
}

/** Creates what is missing; never changes an existing topic, but reports a partition count that differs. */
export async function ensureTopics(brokers: string[], planned: readonly PlannedTopic[], security?: KafkaSecurity): Promise<TopicOutcome[]> {
  const admin = new Kafka({ clientId: 'profile-stream-admin', brokers, ...kafkajsSecurityOptions(security), logLevel: logLevel.ERROR }).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = planned.filter((t) => !existing.has(t.topic));
    if (missing.length > 0) {
      await admin.createTopics({
        // kafkajs' own wait retries only LEADER_NOT_AVAILABLE; a KRaft broker answers a just-created topic's
        // metadata with UNKNOWN_TOPIC_OR_PARTITION for a moment too, so we wait ourselves.
        waitForLeaders: false,
        topics: missing.map((t) => ({
          topic: t.topic,
          numPartitions: t.partitions,
          replicationFactor: -1,
          configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })),
        })),
      });
      await waitForLeaders(admin, missing.map((t) => t.topic));
    }
    const present = planned.filter((t) => existing.has(t.topic));
    const metadata = present.length > 0 ? await admin.fetchTopicMetadata({ topics: present.map((t) => t.topic) }) : { topics: [] };
    const counts = new Map(metadata.topics.map((t) => [t.name, t.partitions.length]));
    return planned.map((t) => {
      if (!existing.has(t.topic)) return { topic: t.topic, partitions: t.partitions, purpose: t.purpose, outcome: 'created' as const };
      const actual = counts.get(t.topic) ?? t.partitions;
      return actual === t.partitions
        ? { topic: t.topic, partitions: t.partitions, purpose: t.purpose, outcome: 'exists' as const }
        : { topic: t.topic, partitions: t.partitions, purpose: t.purpose, outcome: 'exists-with-other-partition-count' as const, actualPartitions: actual };
    });
  } finally {
    await admin.disconnect();
  }
}

const TRANSIENT_METADATA_ERRORS = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_OR_FOLLOWER']);

/** Until every partition of `topics` has a leader; transient metadata errors are retried, others thrown. */
async function waitForLeaders(admin: ReturnType<Kafka['admin']>, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics: found } = await admin.fetchTopicMetadata({ topics });
      if (found.length === topics.length && found.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (error) {
      if (!TRANSIENT_METADATA_ERRORS.has((error as { type?: string }).type ?? '')) throw error;
    }
    if (Date.now() > deadline) throw new Error(`topics ${topics.join(', ')} have no leader after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
