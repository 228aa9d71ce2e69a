import type { Serde } from './serdes.ts';

export interface KeyValue<K, V> {
  readonly key: K;
  readonly value: V;
}

/**
 * A key-value state store as processors see it. Keys are ordered by their serialized bytes, so
 * `range` and `prefix` follow byte order of the key serde's output.
 *
 * @example safe: `const values = await store.getMany(records.map((r) => r.key))` once per batch.
 * @example unsafe: holding a `range` iterator open across `await`s that commit; iterate and finish.
 */
export interface KeyValueStore<K, V> {
  readonly name: string;
  get(key: K): Promise<V | undefined>;
  /** Values in the order of `keys`; one read of the store for the whole batch. */
  getMany(keys: readonly K[]): Promise<(V | undefined)[]>;
  put(key: K, value: V): Promise<void>;
  putAll(entries: readonly KeyValue<K, V>[]): Promise<void>;
  delete(key: K): Promise<void>;
  /** Entries with `from <= key <= to` (either bound optional), in key byte order. */
  range(from?: K, to?: K): AsyncIterableIterator<KeyValue<K, V>>;
  /** Entries whose serialized key starts with the serialized `prefix`. */
  prefix(prefix: K): AsyncIterableIterator<KeyValue<K, V>>;
  approximateCount?(): Promise<number>;
}

/** The read half, as interactive queries get it. */
export type ReadOnlyKeyValueStore<K, V> = Pick<KeyValueStore<K, V>, 'name' | 'get' | 'getMany' | 'range' | 'prefix'>;

export type StoreKind = 'rocksdb' | 'memory';

/**
 * Describes a store; the runtime builds it per task as layers around a bytes store
 * (typed serdes → write cache → change logging → RocksDB or memory).
 */
export interface StoreBuilder<K, V> {
  readonly name: string;
  readonly kind: StoreKind;
  readonly keySerde: Serde<K>;
  readonly valueSerde: Serde<V>;
  readonly loggingEnabled: boolean;
  readonly cachingEnabled: boolean;
  /** The topic the store logs to and restores from; `<applicationId>-<name>-changelog` when undefined. */
  readonly changelogTopic: string | undefined;
  withLoggingDisabled(): StoreBuilder<K, V>;
  withCachingDisabled(): StoreBuilder<K, V>;
  /**
   * Logs to (and restores from) `topic` instead of a changelog of its own: for a store that holds exactly
   * what an output topic already carries, so the same bytes are not written twice (the idea of Kafka
   * Streams' source-topic changelog for tables). The topic must be keyed like the store, partitioned like
   * the store's sub-topology, written by nothing else, and its serde must be the store's value serde; its
   * records then *are* the store's changelog records. Create it yourself with the retention you want.
   *
   * @example safe: `Stores.persistentKeyValueStore('history', keys, topicSerde).withChangelogTopic('app.history')`,
   *   and the processor only puts and deletes in the store (no sink to that topic).
   * @example unsafe: also forwarding the same records to a sink on that topic writes them twice and
   *   restores a store from records it never held.
   */
  withChangelogTopic(topic: string): StoreBuilder<K, V>;
}

class KeyValueStoreBuilder<K, V> implements StoreBuilder<K, V> {
  constructor(
    readonly name: string,
    readonly kind: StoreKind,
    readonly keySerde: Serde<K>,
    readonly valueSerde: Serde<V>,
    readonly loggingEnabled = true,
    readonly cachingEnabled = true,
    readonly changelogTopic: string | undefined = undefined,
  ) {}
  withLoggingDisabled(): StoreBuilder<K, V> {
    return new KeyValueStoreBuilder(this.name, this.kind, this.keySerde, this.valueSerde, false, this.cachingEnabled, this.changelogTopic);
  }
  withCachingDisabled(): StoreBuilder<K, V> {
    return new KeyValueStoreBuilder(this.name, this.kind, this.keySerde, this.valueSerde, this.loggingEnabled, false, this.changelogTopic);
  }
  withChangelogTopic(topic: string): StoreBuilder<K, V> {
    if (!topic) throw new RangeError(`store "${this.name}": changelog topic must not be empty`);
    return new KeyValueStoreBuilder(this.name, this.kind, this.keySerde, this.valueSerde, this.loggingEnabled, this.cachingEnabled, topic);
  }
}

const STORE_NAME = /^[A-Za-z0-9._-]+$/;

export const Stores = {
  /** A RocksDB column family in the task's database, with a compacted changelog topic. */
  persistentKeyValueStore<K, V>(name: string, keySerde: Serde<K>, valueSerde: Serde<V>): StoreBuilder<K, V> {
    if (!STORE_NAME.test(name)) throw new RangeError(`store name "${name}" must match ${STORE_NAME}`);
    return new KeyValueStoreBuilder(name, 'rocksdb', keySerde, valueSerde);
  },
  /** Memory only; rebuilt from its changelog whenever a task starts. */
  inMemoryKeyValueStore<K, V>(name: string, keySerde: Serde<K>, valueSerde: Serde<V>): StoreBuilder<K, V> {
    if (!STORE_NAME.test(name)) throw new RangeError(`store name "${name}" must match ${STORE_NAME}`);
    return new KeyValueStoreBuilder(name, 'memory', keySerde, valueSerde);
  },
} as const;
