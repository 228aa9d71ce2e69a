import { IS_CONTROL, type Consumer } from '@platformatic/kafka';

/** One fetched record, client-neutral. */
export interface TailRecord {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Epoch ms as a decimal string. */
  readonly timestamp: string;
  readonly headers: Readonly<Record<string, string | null>>;
}

export interface TailPosition {
  readonly topic: string;
  readonly partition: number;
  offset: bigint;
}

/** One partition's share of a fetch. */
export interface FetchedPartition {
  readonly topic: string;
  readonly partition: number;
  /** The offset this fetch started at. */
  readonly from: bigint;
  /** Committed records at or after `from` (control records and aborted transactions left out). */
  readonly records: TailRecord[];
  /** After the last batch fetched, control batches (transaction markers) included; `from` when nothing came. */
  readonly nextOffset: bigint;
  readonly highWatermark: bigint;
}

export interface FetchLimits {
  readonly maxWaitTime: number;
  readonly maxBytes: number;
  readonly maxBytesPerPartition: number;
}

type FetchResponse = Awaited<ReturnType<Consumer['fetch']>>;

/**
 * One read-committed Fetch per leader broker for the given positions, in parallel, and the partitions of
 * `topics` that have none yet (added since reading started), from offset 0. The library's `fetch` drops
 * aborted transactions and keeps the incremental fetch session; offsets, control batches and records in
 * the tail's shape are done here.
 */
export async function fetchFromLeaders(
  consumer: Consumer<Buffer, Buffer, Buffer, Buffer>,
  topics: readonly string[],
  positions: readonly TailPosition[],
  limits: FetchLimits,
): Promise<{ partitions: FetchedPartition[]; newPartitions: TailPosition[] }> {
  const metadata = await consumer.metadata({ topics: [...topics] });
  const known = new Set(positions.map((p) => `${p.topic}:${p.partition}`));
  const newPartitions: TailPosition[] = [];
  for (const topic of topics) {
    const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
    for (let partition = 0; partition < count; partition++) if (!known.has(`${topic}:${partition}`)) newPartitions.push({ topic, partition, offset: 0n });
  }
  const names = new Map<string, string>();
  const byLeader = new Map<number, Map<string, TailPosition[]>>();
  for (const p of positions) {
    const t = metadata.topics.get(p.topic);
    if (!t) throw new Error(`no metadata for topic ${p.topic}`);
    names.set(t.id, p.topic);
    const leader = t.partitions[p.partition]?.leader ?? -1;
    if (leader < 0) throw Object.assign(new Error(`partition ${p.topic}/${p.partition} has no leader`), { code: 'PS_ERR_KAFKA_UNAVAILABLE' });
    let perTopic = byLeader.get(leader);
    if (!perTopic) byLeader.set(leader, (perTopic = new Map()));
    let list = perTopic.get(t.id);
    if (!list) perTopic.set(t.id, (list = []));
    list.push(p);
  }
  const requested = new Map(positions.map((p) => [`${p.topic}:${p.partition}`, p.offset]));
  const responses = await Promise.all(
    [...byLeader].map(([node, perTopic]) =>
      consumer.fetch({
        node,
        isolationLevel: 1,
        maxWaitTime: limits.maxWaitTime,
        maxBytes: limits.maxBytes,
        minBytes: 1,
        topics: [...perTopic].map(([topicId, ps]) => ({
          topicId,
          partitions: ps.map((p) => ({ partition: p.partition, fetchOffset: p.offset, partitionMaxBytes: limits.maxBytesPerPartition, currentLeaderEpoch: -1, lastFetchedEpoch: -1 })),
        })),
      }),
    ),
  );
  const partitions: FetchedPartition[] = [];
  for (const response of responses) collect(response, names, requested, partitions);
  return { partitions, newPartitions };
}

function collect(response: FetchResponse, names: ReadonlyMap<string, string>, requested: ReadonlyMap<string, bigint>, out: FetchedPartition[]): void {
  for (const t of response.responses) {
    const topic = names.get(t.topicId) ?? t.topicId;
    for (const p of t.partitions) {
      const from = requested.get(`${topic}:${p.partitionIndex}`);
      // A partition the fetch session still serves although this request did not ask for it: stale.
      if (from === undefined) continue;
      const records: TailRecord[] = [];
      let next = from;
      for (const batch of p.records ?? []) {
        const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
        if (last + 1n > next) next = last + 1n;
        if (batch.attributes & IS_CONTROL) continue;
        for (const r of batch.records) {
          const offset = batch.firstOffset + BigInt(r.offsetDelta);
          // A fetch returns whole batches: what precedes the requested offset was read before.
          if (offset < from) continue;
          const headers: Record<string, string | null> = {};
          for (const [k, v] of r.headers) if (k !== null) headers[k.toString()] = v === null ? null : v.toString();
          records.push({ offset: offset.toString(), key: r.key, value: r.value, timestamp: (batch.firstTimestamp + r.timestampDelta).toString(), headers });
        }
      }
      out.push({ topic, partition: p.partitionIndex, from, records, nextOffset: next, highWatermark: p.highWatermark });
    }
  }
}
