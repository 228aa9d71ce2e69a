/** A write at the bytes layer; a `null` value deletes the key. */
export type BytesEntry = readonly [key: Buffer, value: Buffer | null];

export interface KeyBounds {
  readonly gte?: Buffer;
  readonly lte?: Buffer;
  readonly lt?: Buffer;
}

/**
 * The innermost store shape, and the shape every layer (cache, change logging) also offers: bytes in,
 * bytes out, no Kafka, no serdes.
 */
export interface BytesStore {
  readonly name: string;
  get(key: Buffer): Promise<Buffer | undefined>;
  getMany(keys: readonly Buffer[]): Promise<(Buffer | undefined)[]>;
  putAll(entries: readonly BytesEntry[]): Promise<void>;
  range(bounds: KeyBounds): AsyncIterableIterator<[Buffer, Buffer]>;
  approximateCount(): Promise<number>;
}

export function keyId(key: Buffer): string {
  return key.toString('latin1');
}

export function inBounds(key: Buffer, b: KeyBounds): boolean {
  if (b.gte && Buffer.compare(key, b.gte) < 0) return false;
  if (b.lte && Buffer.compare(key, b.lte) > 0) return false;
  if (b.lt && Buffer.compare(key, b.lt) >= 0) return false;
  return true;
}

/** The smallest key greater than every key starting with `prefix`; undefined if none exists. */
export function prefixUpperBound(prefix: Buffer): Buffer | undefined {
  const out = Buffer.from(prefix);
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i]! < 0xff) {
      out[i]! += 1;
      return out.subarray(0, i + 1);
    }
  }
  return undefined;
}

/**
 * Iterates `inner` with pending writes laid over it, in key order: an overlay entry replaces the inner
 * entry with the same key, and a `null` overlay value hides it. Used by the write cache and by the
 * RocksDB store's staged (not yet committed) writes.
 */
export async function* overlayRange(
  overlay: Iterable<BytesEntry>,
  inner: AsyncIterable<[Buffer, Buffer]>,
  bounds: KeyBounds,
): AsyncIterableIterator<[Buffer, Buffer]> {
  const pending = [...overlay].filter(([k]) => inBounds(k, bounds)).sort((a, b) => Buffer.compare(a[0], b[0]));
  let i = 0;
  for await (const [k, v] of inner) {
    while (i < pending.length && Buffer.compare(pending[i]![0], k) < 0) {
      const [pk, pv] = pending[i++]!;
      if (pv !== null) yield [pk, pv];
    }
    if (i < pending.length && Buffer.compare(pending[i]![0], k) === 0) {
      const [pk, pv] = pending[i++]!;
      if (pv !== null) yield [pk, pv];
      continue;
    }
    yield [k, v];
  }
  while (i < pending.length) {
    const [pk, pv] = pending[i++]!;
    if (pv !== null) yield [pk, pv];
  }
}
