import type { Clock } from '../clock.ts';
import type { Headers } from '../record.ts';
import { partitionForKey, type Partitioner } from '../partitioner.ts';
import type { ChangelogSink } from './change-logging-store.ts';

type Bytes = Buffer | null | Promise<Buffer>;

interface PendingRecord {
  readonly topic: string;
  readonly partition: number | undefined;
  readonly key: Bytes;
  readonly value: Bytes;
  readonly timestamp: number;
  readonly headers: Headers;
  readonly partitioner: Partitioner | undefined;
  /** Changelog records wait for the commit: their offsets are stored with the RocksDB write. */
  readonly changelog: boolean;
}

/** A record ready for the producer: bytes and partition resolved. */
export interface OutgoingRecord {
  readonly topic: string;
  readonly partition: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp: number;
  readonly headers: Headers;
}

/** How many records of a drain went to each changelog partition (to compute the stored offset). */
export interface ChangelogCount {
  readonly store: string;
  readonly topic: string;
  readonly partition: number;
  readonly count: number;
}

export interface Drained {
  readonly records: OutgoingRecord[];
  readonly changelogs: ChangelogCount[];
}

/**
 * Everything a task will produce at its next commit: sink outputs, dead letters and changelog records.
 * Serialization may be async, so it is kept as promises and resolved for the whole commit at once.
 */
export class RecordCollector implements ChangelogSink {
  #pending: PendingRecord[] = [];
  #changelogCounts = new Map<string, { store: string; count: number }>();
  #roundRobin = 0;

  constructor(
    private readonly partition: number,
    private readonly changelogTopicOf: (store: string) => string,
    private readonly clock: Clock,
  ) {}

  send(topic: string, key: Bytes, value: Bytes, timestamp: number, headers: Headers, partitioner?: Partitioner): void {
    this.#pending.push({ topic, partition: undefined, key, value, timestamp, headers, partitioner, changelog: false });
  }

  logChange(store: string, key: Buffer, value: Buffer | null): void {
    const topic = this.changelogTopicOf(store);
    this.#pending.push({ topic, partition: this.partition, key, value, timestamp: this.clock.now(), headers: {}, partitioner: undefined, changelog: true });
    const c = this.#changelogCounts.get(topic);
    if (c) c.count++;
    else this.#changelogCounts.set(topic, { store, count: 1 });
  }

  get size(): number {
    return this.#pending.length;
  }

  /**
   * Takes the outputs and dead letters collected so far (not the changelog records), resolved, so they
   * can be sent before the commit: the commit then only waits for their acks instead of producing
   * everything at once. Order among the outputs is kept.
   */
  async drainOutputs(partitionsOf: (topic: string) => number | Promise<number>): Promise<OutgoingRecord[]> {
    if (this.#pending.every((r) => r.changelog)) return [];
    const outputs = this.#pending.filter((r) => !r.changelog);
    this.#pending = this.#pending.filter((r) => r.changelog);
    return this.#resolve(outputs, partitionsOf);
  }

  /** Resolves every pending record and empties the collector. */
  async drain(partitionsOf: (topic: string) => number | Promise<number>): Promise<Drained> {
    const pending = this.#pending;
    const counts = this.#changelogCounts;
    this.#pending = [];
    this.#changelogCounts = new Map();
    const records = await this.#resolve(pending, partitionsOf);
    const changelogs = [...counts].map(([topic, c]) => ({ store: c.store, topic, partition: this.partition, count: c.count }));
    return { records, changelogs };
  }

  async #resolve(pending: readonly PendingRecord[], partitionsOf: (topic: string) => number | Promise<number>): Promise<OutgoingRecord[]> {
    const topics = [...new Set(pending.filter((r) => r.partition === undefined).map((r) => r.topic))];
    const [bytes, partitionCounts] = await Promise.all([
      Promise.all(pending.map((r) => Promise.all([r.key, r.value]))),
      Promise.all(topics.map((t) => partitionsOf(t))),
    ]);
    const countOf = new Map(topics.map((t, i) => [t, partitionCounts[i]!]));
    return pending.map((r, i): OutgoingRecord => {
      const [key, value] = bytes[i]!;
      return { topic: r.topic, partition: r.partition ?? this.#choosePartition(r, key, countOf.get(r.topic)!), key, value, timestamp: r.timestamp, headers: r.headers };
    });
  }

  #choosePartition(r: PendingRecord, key: Buffer | null, partitions: number): number {
    const chosen = r.partitioner?.(r.topic, key, partitions);
    if (chosen !== undefined) return chosen;
    if (key !== null) return partitionForKey(key, partitions);
    return this.#roundRobin++ % partitions;
  }
}
