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
  /**
   * True while the broker at this address refuses connections. Its partitions are left out of the fetch
   * (and a fetch already waiting on it is given up) until the metadata names a live leader for them, so one
   * stopped broker of several does not hold up the partitions the others lead.
   */
  readonly brokerDown?: (host: string, port: number) => boolean;
}

/** How often a fetch waiting on a broker checks whether that broker went down meanwhile. */
const DOWN_CHECK_MS = 200;
const GAVE_UP = Symbol('gave up');

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
  let metadata = await consumer.metadata({ topics });
  const down = (node: number): boolean => {
    const b = metadata.brokers.get(node);
    return b !== undefined && limits.brokerDown !== undefined && limits.brokerDown(b.host, b.port);
  };
  // A leader that refuses connections: the cluster moves its partitions; ask again for who leads them now.
  if (positions.some((p) => down(metadata.topics.get(p.topic)?.partitions[p.partition]?.leader ?? -1))) {
    metadata = await consumer.metadata({ topics, forceUpdate: true });
  }
  const names = new Map<string, string>();
  const byNode = new Map<number, Map<string, FetchPosition[]>>();
  for (const p of positions) {
    const t = metadata.topics.get(p.topic);
    if (!t) throw new Error(`no metadata for topic ${p.topic}`);
    names.set(t.id, p.topic);
    const leader = t.partitions[p.partition]?.leader ?? -1;
    if (leader < 0) throw new Error(`partition ${p.topic}/${p.partition} has no leader`);
    // Still on the stopped broker: left for a later round (nothing fetched, the position stays).
    if (down(leader)) continue;
    let perTopic = byNode.get(leader);
    if (!perTopic) byNode.set(leader, (perTopic = new Map()));
    let list = perTopic.get(t.id);
    if (!list) perTopic.set(t.id, (list = []));
    list.push(p);
  }
  // Every leader wanted is down (the cluster has not moved them yet): wait as a fetch would, not spin.
  if (byNode.size === 0) {
    await new Promise((r) => setTimeout(r, limits.maxWaitTime));
    return [];
  }
  const requested = new Map(positions.map((p) => [partitionKey(p.topic, p.partition), p.offset]));
  const responses = await Promise.all(
    [...byNode].map(([node, perTopic]) =>
      unlessDown(node, down, consumer.fetch({
        node,
        isolationLevel: limits.isolationLevel,
        maxWaitTime: limits.maxWaitTime,
        maxBytes: limits.maxBytes,
        minBytes: 1,
        topics: [...perTopic].map(([topicId, ps]) => ({
          topicId,
          partitions: ps.map((p) => ({ partition: p.partition, fetchOffset: p.offset, partitionMaxBytes: limits.maxBytesPerPartition, currentLeaderEpoch: -1, lastFetchedEpoch: -1 })),
        })),
      })),
    ),
  );
  const out: FetchedPartition[] = [];
  for (const response of responses) if (response !== GAVE_UP) collect(response, names, requested, out);
  return out;
}

/** `fetch`, or GAVE_UP as soon as its broker refuses connections (the library would retry it for ~17 s). */
function unlessDown(node: number, down: (node: number) => boolean, fetch: Promise<FetchResponse>): Promise<FetchResponse | typeof GAVE_UP> {
  fetch.catch(() => undefined); // an answer after giving up is dropped, not an unhandled rejection
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (!down(node)) return;
      clearInterval(timer);
      resolve(GAVE_UP);
    }, DOWN_CHECK_MS);
    fetch.then(
      (r) => {
        clearInterval(timer);
        resolve(r);
      },
      (err: unknown) => {
        clearInterval(timer);
        reject(err as Error);
      },
    );
  });
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
