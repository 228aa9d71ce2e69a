/**
 * Kafka's Java default partitioner for keyed records: `toPositive(murmur2(keyBytes)) % partitions`.
 * It must match Java bit for bit so that any client's key lands where the runtime (and
 * metadataForKey) expects it. Port of org.apache.kafka.common.utils.Utils.murmur2.
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  const m = 0x5bd1e995;
  const r = 24;
  let h = (0x9747b28c ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = (data[i4]! & 0xff) | ((data[i4 + 1]! & 0xff) << 8) | ((data[i4 + 2]! & 0xff) << 16) | ((data[i4 + 3]! & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  // Java's switch falls through 3 → 2 → 1; written as ifs because the project forbids fallthrough.
  const tail = length & ~3;
  const rest = length % 4;
  if (rest >= 3) h ^= (data[tail + 2]! & 0xff) << 16;
  if (rest >= 2) h ^= (data[tail + 1]! & 0xff) << 8;
  if (rest >= 1) {
    h ^= data[tail]! & 0xff;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/** Partition of a serialized key, as Kafka's Java producer chooses it. */
export function partitionForKey(keyBytes: Uint8Array, partitions: number): number {
  return toPositive(murmur2(keyBytes)) % partitions;
}

/** Chooses a partition for an outgoing record; `undefined` means "use the default". */
export type Partitioner = (topic: string, keyBytes: Buffer | null, partitions: number) => number | undefined;
