import { kGetApi, kGetConnection } from '@platformatic/kafka';

/** A protocol API at the version the client negotiated, called with its request's fields in order. */
export interface RawApi<R> {
  async(connection: unknown, ...args: unknown[]): Promise<R>;
}

type Internals = {
  [kGetConnection](broker: { host: string; port: number }, cb: (err: Error | null, connection: unknown) => void): void;
  [kGetApi](name: string, cb: (err: Error | null, api: RawApi<unknown>) => void): void;
};

/**
 * Sends one request of protocol API `name` to `broker` over `client`'s connection to it. For the requests
 * the library's public calls cannot make: DescribeGroups with the assignment user data, OffsetCommit with
 * this member's generation, one TxnOffsetCommit for many partitions.
 */
export async function callApi<R>(client: object, broker: { host: string; port: number }, name: string, ...args: unknown[]): Promise<R> {
  const internals = client as unknown as Internals;
  const connection = await new Promise<unknown>((resolve, reject) => internals[kGetConnection](broker, (err, c) => (err ? reject(err) : resolve(c))));
  const api = await new Promise<RawApi<unknown>>((resolve, reject) => internals[kGetApi](name, (err, a) => (err ? reject(err) : resolve(a))));
  return (await api.async(connection, ...args)) as R;
}

/** Offsets to commit as the OffsetCommit and TxnOffsetCommit requests carry them: per topic, no leader epoch or metadata. */
export function offsetTopics(offsets: ReadonlyArray<{ topic: string; partition: number; offset: bigint }>): Array<{ name: string; partitions: Array<{ partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number; committedMetadata: null }> }> {
  const byTopic = new Map<string, Array<{ partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number; committedMetadata: null }>>();
  for (const o of offsets) {
    if (!byTopic.has(o.topic)) byTopic.set(o.topic, []);
    byTopic.get(o.topic)!.push({ partitionIndex: o.partition, committedOffset: o.offset, committedLeaderEpoch: -1, committedMetadata: null });
  }
  return [...byTopic].map(([name, partitions]) => ({ name, partitions }));
}
