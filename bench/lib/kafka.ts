import { Kafka, logLevel, type Admin } from 'kafkajs';
import { ensureTopics } from '../../src/app/kafka/topic-admin.ts';

export function benchKafka(brokers: readonly string[], clientId: string): Kafka {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  return new Kafka({ clientId, brokers: [...brokers], logLevel: logLevel.NOTHING, retry: { retries: 8 } });
}

export interface TopicToCreate {
  readonly topic: string;
  readonly partitions: number;
  readonly config?: Readonly<Record<string, string>>;
}

/** Topics a benchmark run owns: created up front, deleted afterwards (the machine's disk is shared). */
export class BenchAdmin {
  private readonly admin: Admin;
  constructor(private readonly brokers: readonly string[]) {
    this.admin = benchKafka(brokers, 'bench-admin').admin();
  }

  connect(): Promise<void> {
    return this.admin.connect();
  }

  disconnect(): Promise<void> {
    return this.admin.disconnect();
  }

  /** Creates what is missing and waits for leaders, with the service's own topic creation (`ensureTopics`). */
  async create(topics: readonly TopicToCreate[]): Promise<void> {
    await ensureTopics([...this.brokers], topics.map((t) => ({ topic: t.topic, partitions: t.partitions, purpose: 'benchmark', config: t.config ?? {} })));
  }

  /** Deletes every topic whose name starts with one of the prefixes. */
  async deleteByPrefix(...prefixes: string[]): Promise<string[]> {
    const topics = (await this.admin.listTopics()).filter((t) => prefixes.some((p) => t.startsWith(p)));
    if (topics.length > 0) await this.admin.deleteTopics({ topics, timeout: 60_000 }).catch(() => undefined);
    return topics;
  }

  async deleteGroups(groups: readonly string[]): Promise<void> {
    if (groups.length > 0) await this.admin.deleteGroups([...groups]).catch(() => undefined);
  }

  /** Sum over partitions of the high watermark (for a transactional topic this counts commit markers too). */
  async endOffsetSum(topic: string): Promise<number> {
    const offsets = await this.admin.fetchTopicOffsets(topic).catch(() => []);
    return offsets.reduce((s, o) => s + Number(o.high), 0);
  }

  async endOffsets(topic: string): Promise<Map<number, number>> {
    const offsets = await this.admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  }

  /** Sum of the group's committed offsets on the topic (0 for a partition with none). */
  async committedSum(groupId: string, topic: string): Promise<number> {
    const res = await this.admin.fetchOffsets({ groupId, topics: [topic] }).catch(() => []);
    let sum = 0;
    for (const t of res) for (const p of t.partitions) if (Number(p.offset) > 0) sum += Number(p.offset);
    return sum;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
