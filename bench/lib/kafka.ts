import { Kafka, logLevel, type Admin } from 'kafkajs';

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
  constructor(brokers: readonly string[]) {
    this.admin = benchKafka(brokers, 'bench-admin').admin();
  }

  connect(): Promise<void> {
    return this.admin.connect();
  }

  disconnect(): Promise<void> {
    return this.admin.disconnect();
  }

  async create(topics: readonly TopicToCreate[]): Promise<void> {
    const existing = new Set(await this.admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length === 0) return;
    await this.admin.createTopics({
      waitForLeaders: false,
      topics: missing.map((t) => ({
        topic: t.topic,
        numPartitions: t.partitions,
        replicationFactor: -1,
        configEntries: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
    // A new topic's leaders can take a moment to be known to every request path: wait until offsets answer.
    for (const t of missing) {
      for (let attempt = 0; ; attempt++) {
        try {
          const offsets = await this.admin.fetchTopicOffsets(t.topic);
          if (offsets.length === t.partitions) break;
        } catch (e) {
          if (attempt > 100) throw e;
        }
        await sleep(100);
      }
    }
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
