import { StreamsError } from '../errors.ts';
import type { Serde } from '../serdes.ts';
import type { KeyValue, KeyValueStore, ReadOnlyKeyValueStore } from '../store.ts';
import { prefixUpperBound, type BytesStore, type KeyBounds } from './bytes-store.ts';

/**
 * The outermost layer: serdes around a bytes store. Serdes may be async; a batch of keys or values is
 * serialized with one Promise.all.
 */
export class TypedKeyValueStore<K, V> implements KeyValueStore<K, V> {
  constructor(
    private readonly inner: BytesStore,
    private readonly keySerde: Serde<K>,
    private readonly valueSerde: Serde<V>,
    /** The topic passed to serdes (the changelog topic, as Kafka Streams does). */
    private readonly serdeTopic: string,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  async get(key: K): Promise<V | undefined> {
    return (await this.getMany([key]))[0];
  }

  async getMany(keys: readonly K[]): Promise<(V | undefined)[]> {
    const keyBytes = await Promise.all(keys.map((k) => this.keySerde.serialize(this.serdeTopic, k)));
    const values = await this.inner.getMany(keyBytes);
    return Promise.all(values.map((v) => (v === undefined ? undefined : this.valueSerde.deserialize(this.serdeTopic, v))));
  }

  async put(key: K, value: V): Promise<void> {
    await this.putAll([{ key, value }]);
  }

  async putAll(entries: readonly KeyValue<K, V>[]): Promise<void> {
    const [keys, values] = await Promise.all([
      Promise.all(entries.map((e) => this.keySerde.serialize(this.serdeTopic, e.key))),
      Promise.all(entries.map((e) => (e.value === null || e.value === undefined ? null : this.valueSerde.serialize(this.serdeTopic, e.value)))),
    ]);
    await this.inner.putAll(keys.map((k, i) => [k, values[i] ?? null] as const));
  }

  async delete(key: K): Promise<void> {
    const k = await this.keySerde.serialize(this.serdeTopic, key);
    await this.inner.putAll([[k, null]]);
  }

  async *range(from?: K, to?: K): AsyncIterableIterator<KeyValue<K, V>> {
    const bounds: KeyBounds = {
      ...(from === undefined ? {} : { gte: await this.keySerde.serialize(this.serdeTopic, from) }),
      ...(to === undefined ? {} : { lte: await this.keySerde.serialize(this.serdeTopic, to) }),
    };
    yield* this.#decode(this.inner.range(bounds));
  }

  async *prefix(prefix: K): AsyncIterableIterator<KeyValue<K, V>> {
    const p = await this.keySerde.serialize(this.serdeTopic, prefix);
    const upper = prefixUpperBound(p);
    yield* this.#decode(this.inner.range(upper ? { gte: p, lt: upper } : { gte: p }));
  }

  approximateCount(): Promise<number> {
    return this.inner.approximateCount();
  }

  async *#decode(it: AsyncIterableIterator<[Buffer, Buffer]>): AsyncIterableIterator<KeyValue<K, V>> {
    for await (const [k, v] of it) {
      yield { key: await this.keySerde.deserialize(this.serdeTopic, k), value: await this.valueSerde.deserialize(this.serdeTopic, v) };
    }
  }
}

/** What interactive queries get: reads only; writes belong to the owning task's processors. */
export function readOnly<K, V>(store: KeyValueStore<K, V>): ReadOnlyKeyValueStore<K, V> & {
  put(): never;
  delete(): never;
} {
  const refuse = (): never => {
    throw new StreamsError('PS_ERR_STORE_READ_ONLY', `store "${store.name}" is read-only outside its processors`);
  };
  return {
    name: store.name,
    get: (k) => store.get(k),
    getMany: (ks) => store.getMany(ks),
    range: (f, t) => store.range(f, t),
    prefix: (p) => store.prefix(p),
    put: refuse,
    delete: refuse,
  };
}
