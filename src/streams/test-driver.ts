import { ManualClock } from './clock.ts';
import { StreamsError } from './errors.ts';
import { Record, type Headers } from './record.ts';
import type { Serde } from './serdes.ts';
import type { KeyValueStore } from './store.ts';
import type { Topology } from './topology.ts';
import { InMemoryBytesStore } from './internals/memory-store.ts';
import type { OutgoingRecord } from './internals/record-collector.ts';
import { StreamTask, type RawRecord } from './internals/stream-task.ts';

export interface TopologyTestDriverOptions {
  applicationId?: string;
  initialWallClockTimeMs?: number;
  /** Bad records go here (readable as an output topic); without it they throw from pipeInput. */
  deadLetterTopic?: string;
}

export interface TestInputTopic<K, V> {
  pipeInput(key: K | null, value: V | null, timestamp?: number, headers?: Headers): Promise<void>;
  pipeRecords(records: ReadonlyArray<{ key: K | null; value: V | null; timestamp?: number; headers?: Headers }>): Promise<void>;
}

export interface TestOutputTopic<K, V> {
  readRecords(): Promise<Record<K | null, V | null>[]>;
  readKeyValues(): Promise<Array<{ key: K | null; value: V | null }>>;
  readValues(): Promise<(V | null)[]>;
  isEmpty(): boolean;
  queueSize(): number;
}

/**
 * Runs a topology in memory with the real task code: one task per sub-topology (partition 0),
 * in-memory stores, a manual wall clock. Each piped batch is processed and committed (caches flushed,
 * outputs captured) before the pipe resolves; records written to a topic another sub-topology reads
 * (repartition topics) are fed to it.
 *
 * @example safe: `await input.pipeInput('u1', 'click'); expect(await output.readValues()).toEqual([1])`
 * @example unsafe: forgetting to await pipeInput: outputs are captured when the pipe resolves.
 */
export class TopologyTestDriver {
  readonly #clock: ManualClock;
  readonly #tasks: StreamTask[] = [];
  readonly #taskByTopic = new Map<string, StreamTask>();
  readonly #outputs = new Map<string, OutgoingRecord[]>();
  readonly #offsets = new Map<string, bigint>();
  readonly #ready: Promise<void>;
  #closed = false;

  constructor(topology: Topology, options: TopologyTestDriverOptions = {}) {
    const built = topology.build(options.applicationId ?? 'test-driver');
    this.#clock = new ManualClock(options.initialWallClockTimeMs ?? 0);
    for (const st of built.subTopologies) {
      const task = new StreamTask({
        topology: built,
        subTopology: st,
        partition: 0,
        clock: this.#clock,
        bytesStoreFor: (_def, name) => new InMemoryBytesStore(name),
        deadLetterTopic: options.deadLetterTopic,
      });
      this.#tasks.push(task);
      for (const t of st.sourceTopics.keys()) this.#taskByTopic.set(t, task);
    }
    this.#ready = (async () => {
      for (const t of this.#tasks) {
        t.moveTo('RESTORING');
        t.moveTo('RUNNING');
        await t.init();
      }
    })();
  }

  createInputTopic<K, V>(topic: string, keySerde: Serde<K>, valueSerde: Serde<V>): TestInputTopic<K, V> {
    const pipeRecords: TestInputTopic<K, V>['pipeRecords'] = async (records) => {
      const raws = await Promise.all(
        records.map(async (r) => ({
          key: r.key === null ? null : await keySerde.serialize(topic, r.key),
          value: r.value === null ? null : await valueSerde.serialize(topic, r.value),
          timestamp: r.timestamp ?? this.#clock.now(),
          headers: r.headers ?? {},
        })),
      );
      await this.#pipe(topic, raws);
    };
    return {
      pipeRecords,
      pipeInput: (key, value, timestamp, headers) => pipeRecords([{ key, value, ...(timestamp === undefined ? {} : { timestamp }), ...(headers ? { headers } : {}) }]),
    };
  }

  createOutputTopic<K, V>(topic: string, keySerde: Serde<K>, valueSerde: Serde<V>): TestOutputTopic<K, V> {
    const take = (): OutgoingRecord[] => {
      const q = this.#outputs.get(topic) ?? [];
      this.#outputs.set(topic, []);
      return q;
    };
    const readRecords = async (): Promise<Record<K | null, V | null>[]> =>
      Promise.all(
        take().map(async (r) => {
          const [k, v] = await Promise.all([
            r.key === null ? null : keySerde.deserialize(topic, r.key),
            r.value === null ? null : valueSerde.deserialize(topic, r.value),
          ]);
          return new Record<K | null, V | null>(k, v, r.timestamp, r.headers);
        }),
      );
    return {
      readRecords,
      readKeyValues: async () => (await readRecords()).map((r) => ({ key: r.key, value: r.value })),
      readValues: async () => (await readRecords()).map((r) => r.value),
      isEmpty: () => (this.#outputs.get(topic)?.length ?? 0) === 0,
      queueSize: () => this.#outputs.get(topic)?.length ?? 0,
    };
  }

  /** The store as processors see it (writes go through the cache; reads see them). */
  getKeyValueStore<K, V>(name: string): KeyValueStore<K, V> {
    for (const t of this.#tasks) {
      const s = t.store(name);
      if (s) return s as KeyValueStore<K, V>;
    }
    throw new StreamsError('PS_ERR_STORE_NOT_FOUND', `no store "${name}" in this topology`);
  }

  /** Moves the manual clock and fires due punctuators of every task, then commits. */
  async advanceWallClockTime(ms: number): Promise<void> {
    await this.#ready;
    const now = this.#clock.advance(ms);
    for (const t of this.#tasks) {
      await t.punctuate(now);
      await this.#commit(t);
    }
  }

  currentWallClockTime(): number {
    return this.#clock.now();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#ready;
    for (const t of this.#tasks) {
      await this.#commit(t);
      await t.close();
    }
  }

  async #pipe(topic: string, raws: ReadonlyArray<Omit<RawRecord, 'topic' | 'partition' | 'offset'>>): Promise<void> {
    await this.#ready;
    if (this.#closed) throw new StreamsError('PS_ERR_APP_NOT_RUNNING', 'the test driver is closed');
    const task = this.#taskByTopic.get(topic);
    if (!task) throw new StreamsError('PS_ERR_SOURCE_TOPIC_MISSING', `no source reads topic "${topic}"`);
    let offset = this.#offsets.get(topic) ?? 0n;
    const records: RawRecord[] = raws.map((r) => ({ ...r, topic, partition: 0, offset: String(offset++) }));
    this.#offsets.set(topic, offset);
    await task.process(topic, records);
    await this.#commit(task);
  }

  /** Flushes the task's caches and delivers what it produced; repartition outputs go on downstream. */
  async #commit(task: StreamTask): Promise<void> {
    await task.flushStores();
    const { records } = await task.collector.drain(() => 1);
    const downstream = new Map<string, OutgoingRecord[]>();
    for (const r of records) {
      if (!this.#outputs.has(r.topic)) this.#outputs.set(r.topic, []);
      this.#outputs.get(r.topic)!.push(r);
      if (this.#taskByTopic.has(r.topic)) {
        if (!downstream.has(r.topic)) downstream.set(r.topic, []);
        downstream.get(r.topic)!.push(r);
      }
    }
    for (const [topic, rs] of downstream) await this.#pipe(topic, rs);
  }
}
