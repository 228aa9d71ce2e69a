import { TopologyError } from './errors.ts';
import type { Partitioner } from './partitioner.ts';
import type { ProcessorSupplier } from './processor.ts';
import type { Record } from './record.ts';
import type { Serde } from './serdes.ts';
import type { StoreBuilder } from './store.ts';
import {
  changelogTopicName,
  repartitionTopicName,
  type BuiltTopology,
  type NodeDef,
  type StoreDef,
  type SubTopology,
  type TopicExtractor,
} from './internals/topology-graph.ts';

export interface SourceOptions<K, V> {
  keySerde: Serde<K>;
  valueSerde: Serde<V>;
}

export interface SinkOptions<K, V> {
  keySerde: Serde<K>;
  valueSerde: Serde<V>;
  partitioner?: Partitioner;
}

const INTERNAL_PREFIX = '\u0000internal:';

/**
 * Builds a processing graph: sources read topics, processors transform, sinks write topics. Nodes
 * connected through parents (or sharing a store) form a sub-topology; a repartition topic splits the
 * graph into two sub-topologies, as in Kafka Streams. Wiring is checked by `build`/`describe`, which
 * throw a TopologyError naming the node.
 *
 * @example safe: `new Topology().addSource('in', ['clicks'], serdes).addProcessor('count', supplier, 'in')`
 * @example unsafe: sharing one processor instance across tasks: the supplier must return a new one.
 */
export class Topology {
  readonly #nodes = new Map<string, { def: NodeDef; order: number }>();
  readonly #stores = new Map<string, { builder: StoreBuilder<unknown, unknown>; processors: string[] }>();
  readonly #repartitions = new Set<string>();

  addSource<K, V>(name: string, topics: readonly string[], options: SourceOptions<K, V>): this {
    this.#checkNewName(name);
    if (topics.length === 0) throw new TopologyError('a source needs at least one topic', name);
    this.#add({
      kind: 'source',
      name,
      topics: [...topics],
      keySerde: options.keySerde as Serde<unknown>,
      valueSerde: options.valueSerde as Serde<unknown>,
      children: [],
    });
    return this;
  }

  addProcessor<KIn, VIn, KOut, VOut>(
    name: string,
    supplier: ProcessorSupplier<KIn, VIn, KOut, VOut>,
    ...parents: string[]
  ): this {
    this.#checkNewName(name);
    this.#checkParents(name, parents);
    this.#add({ kind: 'processor', name, supplier, parents, children: [], stores: [] });
    return this;
  }

  addSink<K, V>(
    name: string,
    topic: string | ((record: Record<K, V>) => string),
    options: SinkOptions<K, V>,
    ...parents: string[]
  ): this {
    this.#checkNewName(name);
    this.#checkParents(name, parents);
    this.#add({
      kind: 'sink',
      name,
      topic: topic as string | TopicExtractor,
      keySerde: options.keySerde as Serde<unknown>,
      valueSerde: options.valueSerde as Serde<unknown>,
      partitioner: options.partitioner,
      parents,
    });
    return this;
  }

  /**
   * Re-keys through the internal topic `<applicationId>-<name>-repartition`: adds a sink `<name>-sink`
   * fed by `parents`, and a source named `<name>` that downstream processors use as their parent. The
   * source starts a new sub-topology.
   */
  addRepartition<K, V>(name: string, options: SinkOptions<K, V>, ...parents: string[]): this {
    this.#repartitions.add(name);
    this.addSink(`${name}-sink`, INTERNAL_PREFIX + name, options, ...parents);
    this.addSource(name, [INTERNAL_PREFIX + name], options);
    return this;
  }

  /**
   * One more sink, `name`, into the repartition topic of `addRepartition(repartition)`: for records that go
   * around a loop (a processor fed by the repartition source sending records on to another key's task).
   * A separate sink keeps the sub-topologies apart: a sink joins the sub-topology of its parents.
   */
  addRepartitionSink<K, V>(name: string, repartition: string, options: SinkOptions<K, V>, ...parents: string[]): this {
    if (!this.#repartitions.has(repartition)) throw new TopologyError(`no repartition "${repartition}" (add it with addRepartition first)`, name);
    return this.addSink(name, INTERNAL_PREFIX + repartition, options, ...parents);
  }

  addStateStore<K, V>(builder: StoreBuilder<K, V>, ...processorNames: string[]): this {
    if (this.#stores.has(builder.name)) throw new TopologyError(`store "${builder.name}" is already added`, builder.name);
    for (const p of processorNames) {
      const node = this.#nodes.get(p)?.def;
      if (node?.kind !== 'processor') throw new TopologyError(`store "${builder.name}" connected to unknown processor "${p}"`, p);
      node.stores.push(builder.name);
    }
    this.#stores.set(builder.name, { builder: builder as StoreBuilder<unknown, unknown>, processors: [...processorNames] });
    return this;
  }

  /** Validates and resolves internal topic names for `applicationId`. */
  build(applicationId: string): BuiltTopology {
    const resolve = (t: string): string => (t.startsWith(INTERNAL_PREFIX) ? repartitionTopicName(applicationId, t.slice(INTERNAL_PREFIX.length)) : t);
    const seenTopics = new Map<string, string>();
    for (const { def } of this.#nodes.values()) {
      if (def.kind === 'source') {
        for (const t of def.topics) {
          const other = seenTopics.get(resolve(t));
          if (other) throw new TopologyError(`topic "${resolve(t)}" is already read by source "${other}"`, def.name);
          seenTopics.set(resolve(t), def.name);
        }
        if (def.children.length === 0) throw new TopologyError('source has no children', def.name);
      }
    }
    for (const [name, s] of this.#stores) {
      if (s.processors.length === 0) throw new TopologyError(`store "${name}" is not connected to any processor`, name);
    }
    // A topic a store logs to is that store's alone: another writer would restore the store from records it never held.
    const loggedBy = new Map<string, string>();
    for (const [name, { builder }] of this.#stores) {
      const topic = builder.changelogTopic;
      if (topic === undefined) continue;
      const other = loggedBy.get(topic) ?? seenTopics.get(topic);
      if (other) throw new TopologyError(`store "${name}" logs to topic "${topic}", which "${other}" already uses`, name);
      for (const { def } of this.#nodes.values()) {
        if (def.kind === 'sink' && def.topic === topic) throw new TopologyError(`store "${name}" logs to topic "${topic}", which sink "${def.name}" writes too`, name);
      }
      loggedBy.set(topic, name);
    }

    // Union-find over parent edges and shared stores: each class is a sub-topology.
    const names = [...this.#nodes.keys()];
    const parent = new Map(names.map((n) => [n, n]));
    const find = (n: string): string => {
      let r = n;
      while (parent.get(r) !== r) r = parent.get(r)!;
      parent.set(n, r);
      return r;
    };
    const union = (a: string, b: string): void => {
      const ra = find(a);
      const rb = find(b);
      if (ra !== rb) parent.set(rb, ra);
    };
    for (const { def } of this.#nodes.values()) {
      if (def.kind !== 'source') for (const p of def.parents) union(p, def.name);
    }
    for (const s of this.#stores.values()) for (const p of s.processors.slice(1)) union(s.processors[0]!, p);

    const groups = new Map<string, string[]>();
    for (const n of names) {
      const r = find(n);
      if (!groups.has(r)) groups.set(r, []);
      groups.get(r)!.push(n);
    }
    const subTopologies: SubTopology[] = [];
    const stores = new Map<string, StoreDef>();
    for (const members of groups.values()) {
      const id = subTopologies.length;
      const nodes = new Map<string, NodeDef>();
      const sourceTopics = new Map<string, string>();
      const storeNames = new Set<string>();
      for (const n of members) {
        const def = this.#nodes.get(n)!.def;
        if (def.kind === 'source') {
          const resolved = { ...def, topics: def.topics.map(resolve) };
          nodes.set(n, resolved);
          for (const t of resolved.topics) sourceTopics.set(t, n);
        } else if (def.kind === 'sink') {
          nodes.set(n, typeof def.topic === 'string' ? { ...def, topic: resolve(def.topic) } : def);
        } else {
          nodes.set(n, def);
          for (const s of def.stores) storeNames.add(s);
        }
      }
      if (sourceTopics.size === 0) throw new TopologyError('sub-topology has no source', members[0]);
      for (const s of storeNames) {
        const builder = this.#stores.get(s)!.builder;
        stores.set(s, { builder, subTopology: id, changelogTopic: builder.changelogTopic ?? changelogTopicName(applicationId, s) });
      }
      subTopologies.push({ id, nodes, sourceTopics, storeNames: [...storeNames] });
    }
    return {
      applicationId,
      subTopologies,
      stores,
      repartitionTopics: [...this.#repartitions].map((r) => repartitionTopicName(applicationId, r)),
    };
  }

  /** Text like Kafka Streams' TopologyDescription; repartition topics shown as `<app>-<name>-repartition`. */
  describe(applicationId = '${applicationId}'): string {
    const built = this.build(applicationId);
    const lines = ['Topologies:'];
    for (const st of built.subTopologies) {
      lines.push(`   Sub-topology: ${st.id}`);
      for (const def of st.nodes.values()) {
        if (def.kind === 'source') {
          lines.push(`    Source: ${def.name} (topics: [${def.topics.join(', ')}])`);
          lines.push(`      --> ${def.children.join(', ') || 'none'}`);
        } else if (def.kind === 'processor') {
          lines.push(`    Processor: ${def.name} (stores: [${def.stores.join(', ')}])`);
          lines.push(`      --> ${def.children.join(', ') || 'none'}`);
          lines.push(`      <-- ${def.parents.join(', ')}`);
        } else {
          const topic = typeof def.topic === 'string' ? `topic: ${def.topic}` : 'topic extractor';
          lines.push(`    Sink: ${def.name} (${topic})`);
          lines.push(`      <-- ${def.parents.join(', ')}`);
        }
      }
    }
    return `${lines.join('\n')}\n`;
  }

  #add(def: NodeDef): void {
    this.#nodes.set(def.name, { def, order: this.#nodes.size });
    if (def.kind !== 'source') {
      for (const p of def.parents) {
        const parentDef = this.#nodes.get(p)!.def;
        if (parentDef.kind !== 'sink') parentDef.children.push(def.name);
      }
    }
  }

  #checkNewName(name: string): void {
    if (!name) throw new TopologyError('node name must not be empty');
    if (this.#nodes.has(name)) throw new TopologyError('a node with this name already exists', name);
  }

  #checkParents(name: string, parents: readonly string[]): void {
    if (parents.length === 0) throw new TopologyError('needs at least one parent', name);
    for (const p of parents) {
      const def = this.#nodes.get(p)?.def;
      if (!def) throw new TopologyError(`unknown parent "${p}" (add parents before children)`, name);
      if (def.kind === 'sink') throw new TopologyError(`parent "${p}" is a sink; sinks have no children`, name);
    }
  }
}
