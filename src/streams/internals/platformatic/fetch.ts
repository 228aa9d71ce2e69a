import { IS_CONTROL, type Consumer } from '@platformatic/kafka';
import type { Headers } from '../../record.ts';
import type { RawRecord } from '../stream-task.ts';

export interface FetchPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

/** One partition's share of a fetch: its records (control records left out) and the position after them. */
export interface FetchedPartition {
  readonly topic: string;
  readonly partition: number;
  /** The offset this fetch started at. */
  readonly from: bigint;
  readonly records: RawRecord[];
  /** After the last batch, control batches (transaction markers) included; `from` when nothing came. */
  readonly nextOffset: bigint;
  readonly highWatermark: bigint;
}

export interface FetchLimits {
  readonly isolationLevel: 0 | 1;
  readonly maxWaitTime: number;
  readonly maxBytes: number;
  readonly maxBytesPerPartition: number;
}

type FetchResponse = Awaited<ReturnType<Consumer['fetch']>>;

export const partitionKey = (topic: string, partition: number): string => `${topic}:${partition}`;

/**
 * One Fetch per leader broker for the given positions, in parallel; platformatic's `fetch` keeps the
 * incremental fetch session and drops aborted transactions under read committed, the rest (offsets,
 * control batches, records as the runtime's RawRecord) is done here. No group is involved: this is how
 * both the group consumer and the restore reader read (direct assignment).
 */
export async function fetchPartitions(consumer: Consumer, positions: readonly FetchPosition[], limits: FetchLimits): Promise<FetchedPartition[]> {
  if (positions.length === 0) return [];
  const topics = [...new Set(positions.map((p) => p.topic))];
  const metadata = await consumer.metadata({ topics });
  const names = new Map<string, string>();
  const byNode = new Map<number, Map<string, FetchPosition[]>>();
  for (const p of positions) {
    const t = metadata.topics.get(p.topic);
    if (!t) throw new Error(`no metadata for topic ${p.topic}`);
    names.set(t.id, p.topic);
    const leader = t.partitions[p.partition]?.leader ?? -1;
    if (leader < 0) throw new Error(`partition ${p.topic}/${p.partition} has no leader`);
    let perTopic = byNode.get(leader);
    if (!perTopic) byNode.set(leader, (perTopic = new Map()));
    let list = perTopic.get(t.id);
    if (!list) perTopic.set(t.id, (list = []));
    list.push(p);
  }
  const requested = new Map(positions.map((p) => [partitionKey(p.topic, p.partition), p.offset]));
  const responses = await Promise.all(
    [...byNode].map(([node, perTopic]) =>
      consumer.fetch({
        node,
        isolationLevel: limits.isolationLevel,
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
  const out: FetchedPartition[] = [];
  for (const response of responses) collect(response, names, requested, out);
  return out;
}

function collect(response: FetchResponse, names: ReadonlyMap<string, string>, requested: ReadonlyMap<string, bigint>, out: FetchedPartition[]): void {
  for (const t of response.responses) {
    const topic = names.get(t.topicId) ?? t.topicId;
    for (const p of t.partitions) {
      const from = requested.get(partitionKey(topic, p.partitionIndex));
      // A partition the session still serves although this request did not ask for it: stale, ignore.
      if (from === undefined) continue;
      const records: RawRecord[] = [];
      let next = from;
      for (const batch of p.records ?? []) {
        const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
        if (last + 1n > next) next = last + 1n;
        if (batch.attributes & IS_CONTROL) continue;
        for (const r of batch.records) {
          const offset = batch.firstOffset + BigInt(r.offsetDelta);
          // A fetch returns whole batches: skip what precedes the requested offset.
          if (offset < from) continue;
          records.push({
            topic,
            partition: p.partitionIndex,
            offset: offset.toString(),
            key: r.key,
            value: r.value,
            timestamp: Number(batch.firstTimestamp + r.timestampDelta),
            headers: toHeaders(r.headers),
          });
        }
      }
      out.push({ topic, partition: p.partitionIndex, from, records, nextOffset: next, highWatermark: p.highWatermark });
    }
  }
}

function toHeaders(entries: ReadonlyArray<[Buffer | null, Buffer | null]>): Headers {
  const headers: { [k: string]: Buffer | undefined } = {};
  for (const [k, v] of entries) if (k !== null) headers[k.toString()] = v ?? undefined;
  return headers;
}
