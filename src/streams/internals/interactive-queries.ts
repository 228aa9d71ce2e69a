import { StreamsError } from '../errors.ts';
import { partitionForKey } from '../partitioner.ts';
import type { KeyValue, KeyValueStore, ReadOnlyKeyValueStore } from '../store.ts';
import type { StreamTask } from './stream-task.ts';
import { taskIdOf, type BuiltTopology } from './topology-graph.ts';

export interface KeyQueryMetadata {
  readonly applicationServer: string | undefined;
  readonly partition: number;
  readonly taskId: string;
  /** True when this instance owns the key's task now. */
  readonly local: boolean;
}

/** What the queries read of the app: its topology, the group's view, its own tasks and state. */
export interface QueryContext {
  readonly topology: BuiltTopology;
  partitionCounts(): ReadonlyMap<string, number>;
  hostMap(): ReadonlyMap<string, string>;
  task(id: string): StreamTask | undefined;
  tasks(): StreamTask[];
  state(): string;
}

/**
 * Interactive queries (Kafka Streams' `KafkaStreams#store` and `queryMetadataForKey`): which instance owns
 * a key, and read-only views over this instance's stores that refuse what they can't answer correctly
 * (a key owned elsewhere, a task still restoring) instead of answering empty.
 */
export class InteractiveQueries {
  constructor(private readonly ctx: QueryContext) {}

  /** Owner of `key` in `storeName`, from the partition → host map every member learns at assignment. */
  async metadataForKey<K>(storeName: string, key: K): Promise<KeyQueryMetadata> {
    const def = this.ctx.topology.stores.get(storeName);
    if (!def) throw new StreamsError('PS_ERR_STORE_NOT_FOUND', `no store "${storeName}" in this topology`);
    const st = this.ctx.topology.subTopologies[def.subTopology]!;
    const partitions = this.ctx.partitionCounts().get([...st.sourceTopics.keys()][0]!) ?? 0;
    if (partitions === 0) throw new StreamsError('PS_ERR_APP_NOT_RUNNING', 'partition counts are not known before start()');
    const bytes = await (def.builder.keySerde as { serialize(t: string, k: K): Buffer | Promise<Buffer> }).serialize(def.changelogTopic, key);
    const partition = partitionForKey(bytes, partitions);
    const taskId = taskIdOf(def.subTopology, partition);
    return { applicationServer: this.ctx.hostMap().get(taskId), partition, taskId, local: this.ctx.task(taskId) !== undefined };
  }

  /** Read-only view over this instance's tasks of `storeName`. */
  store<K, V>(storeName: string): ReadOnlyKeyValueStore<K, V> {
    const def = this.ctx.topology.stores.get(storeName);
    if (!def) throw new StreamsError('PS_ERR_STORE_NOT_FOUND', `no store "${storeName}" in this topology`);
    const owned = async (key: K): Promise<KeyValueStore<K, V>> => {
      this.#requireQueryable();
      const md = await this.metadataForKey(storeName, key);
      const t = this.ctx.task(md.taskId);
      if (!t) throw new StreamsError('PS_ERR_KEY_NOT_OWNED', `key of store "${storeName}" belongs to task ${md.taskId} on ${md.applicationServer ?? 'an unknown instance'}, not this one`);
      if (t.state !== 'RUNNING') throw new StreamsError('PS_ERR_STORE_RESTORING', `task ${md.taskId} of store "${storeName}" is restoring`);
      return t.store(storeName) as KeyValueStore<K, V>;
    };
    const running = (): KeyValueStore<K, V>[] => {
      this.#requireQueryable();
      const all = this.ctx.tasks().filter((t) => t.subTopologyId === def.subTopology);
      if (all.some((t) => t.state !== 'RUNNING')) throw new StreamsError('PS_ERR_STORE_RESTORING', `a task of store "${storeName}" is restoring`);
      return all.map((t) => t.store(storeName) as KeyValueStore<K, V>);
    };
    async function* concat(its: AsyncIterableIterator<KeyValue<K, V>>[]): AsyncIterableIterator<KeyValue<K, V>> {
      for (const it of its) yield* it;
    }
    return {
      name: storeName,
      get: async (key) => (await owned(key)).get(key),
      getMany: async (keys) => Promise.all(keys.map(async (k) => (await owned(k)).get(k))),
      range: (from, to) => concat(running().map((s) => s.range(from, to))),
      prefix: (p) => concat(running().map((s) => s.prefix(p))),
    };
  }

  #requireQueryable(): void {
    const state = this.ctx.state();
    if (state !== 'RUNNING' && state !== 'REBALANCING') throw new StreamsError('PS_ERR_APP_NOT_RUNNING', `app is ${state}`);
  }
}
