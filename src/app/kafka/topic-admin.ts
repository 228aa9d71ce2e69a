import { Admin } from '@platformatic/kafka';
import type { PlannedTopic } from '../topology/topic-plan.ts';
import { brokerErrorIds, type KafkaSecurity } from '../../streams/index.ts';
import { kafkaClientError } from './kafka-client-error.ts';
import { clientOptions } from './kafka-client.ts';

export interface TopicOutcome {
  readonly topic: string;
  readonly partitions: number;
  readonly purpose: string;
  readonly outcome: 'created' | 'exists' | 'exists-with-other-partition-count';
  /** Partition count found when the topic already existed. */
  readonly actualPartitions?: number;
}

/** Answers about a topic created a moment ago, before every broker knows its leaders: wait, do not fail. */
const NOT_READY_YET = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_OR_FOLLOWER']);

/**
 * Creates what is missing; never changes an existing topic, but reports a partition count that differs.
 * A failure is a `KafkaClientError` (or the runtime's SASL/TLS error) naming the step.
 */
export async function ensureTopics(brokers: string[], planned: readonly PlannedTopic[], security?: KafkaSecurity): Promise<TopicOutcome[]> {
  const admin = new Admin(clientOptions({ brokers, clientId: 'profile-stream-admin', security }));
  let step = 'listing topics';
  try {
    const existing = new Set(await admin.listTopics());
    const missing = planned.filter((t) => !existing.has(t.topic));
    step = `creating topics ${missing.map((t) => t.topic).join(', ')}`;
    await createTopics(admin, missing);
    if (missing.length > 0) await waitForLeaders(admin, missing.map((t) => t.topic));
    const present = planned.filter((t) => existing.has(t.topic));
    step = 'reading topic metadata';
    const metadata = present.length > 0 ? await admin.metadata({ topics: present.map((t) => t.topic), forceUpdate: true }) : undefined;
    return planned.map((t) => {
      if (!existing.has(t.topic)) return { topic: t.topic, partitions: t.partitions, purpose: t.purpose, outcome: 'created' as const };
      const actual = metadata?.topics.get(t.topic)?.partitionsCount ?? t.partitions;
      return actual === t.partitions
        ? { topic: t.topic, partitions: t.partitions, purpose: t.purpose, outcome: 'exists' as const }
        : { topic: t.topic, partitions: t.partitions, purpose: t.purpose, outcome: 'exists-with-other-partition-count' as const, actualPartitions: actual };
    });
  } catch (error) {
    throw kafkaClientError(error, step);
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/**
 * One CreateTopics per distinct configuration (the client applies one config list to a whole request),
 * replication factor from the brokers' default. A topic another instance created meanwhile is fine.
 */
async function createTopics(admin: Admin, topics: readonly PlannedTopic[]): Promise<void> {
  const byConfig = new Map<string, PlannedTopic[]>();
  for (const t of topics) {
    const key = JSON.stringify(Object.entries(t.config).sort(([a], [b]) => (a < b ? -1 : 1)));
    byConfig.set(key, [...(byConfig.get(key) ?? []), t]);
  }
  for (const group of byConfig.values()) {
    try {
      await admin.createTopics({
        topics: group.map((t) => ({ topic: t.topic, partitions: t.partitions, replicas: -1 })),
        configs: Object.entries(group[0]!.config).map(([name, value]) => ({ name, value })),
      });
    } catch (error) {
      if (![...brokerErrorIds(error)].every((id) => id === 'TOPIC_ALREADY_EXISTS') || brokerErrorIds(error).size === 0) throw error;
    }
  }
}

/** Until every partition of `topics` has a leader; answers meaning "not there yet" are retried, others thrown. */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const md = await admin.metadata({ topics, forceUpdate: true });
      const ready = topics.every((t) => {
        const tm = md.topics.get(t);
        return tm !== undefined && tm.partitionsCount > 0 && tm.partitions.every((p) => p.leader >= 0);
      });
      if (ready) return;
    } catch (error) {
      if (![...brokerErrorIds(error)].some((id) => NOT_READY_YET.has(id))) throw error;
    }
    if (Date.now() > deadline) throw new Error(`topics ${topics.join(', ')} have no leader after ${timeoutMs} ms`);
    admin.clearMetadata();
    await new Promise((r) => setTimeout(r, 100));
  }
}
