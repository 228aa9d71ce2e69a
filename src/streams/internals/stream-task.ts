import type { Clock } from '../clock.ts';
import { StreamsError } from '../errors.ts';
import type { Cancellable, Processor, ProcessorContext, Punctuator } from '../processor.ts';
import { Record, type Headers, type RecordMetadata } from '../record.ts';
import type { KeyValueStore } from '../store.ts';
import type { BytesStore } from './bytes-store.ts';
import { CachingBytesStore } from './caching-store.ts';
import { ChangeLoggingBytesStore } from './change-logging-store.ts';
import { RecordCollector } from './record-collector.ts';
import { StateMachine } from './state-machine.ts';
import type { BuiltTopology, NodeDef, SinkNodeDef, SourceNodeDef, StoreDef, SubTopology } from './topology-graph.ts';
import { TypedKeyValueStore } from './typed-store.ts';
import { taskIdOf } from './topology-graph.ts';
import { deadLetterHeaders } from './dead-letter.ts';

/** A record as fetched: bytes, before the source's serdes. */
export interface RawRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp: number;
  readonly headers: Headers;
}

export type TaskState = 'CREATED' | 'RESTORING' | 'RUNNING' | 'CLOSED';

const TASK_TRANSITIONS: { readonly [S in TaskState]: readonly TaskState[] } = {
  CREATED: ['RESTORING', 'CLOSED'],
  RESTORING: ['RUNNING', 'CLOSED'],
  RUNNING: ['CLOSED'],
  CLOSED: [],
};

export interface TaskOptions {
  readonly topology: BuiltTopology;
  readonly subTopology: SubTopology;
  readonly partition: number;
  readonly clock: Clock;
  /** The innermost bytes store for a store of this task (RocksDB column family or memory). */
  readonly bytesStoreFor: (store: StoreDef, name: string) => BytesStore;
  /** Bad records go here with error headers; without it a bad record is fatal. */
  readonly deadLetterTopic: string | undefined;
  readonly onDeadLetter?: (err: unknown) => void;
  /** How long a decode that failed retriably (a dependency unavailable) is retried before the task fails; default 20 s. */
  readonly retriableDecodeWaitMs?: number;
}

const DEFAULT_RETRIABLE_DECODE_WAIT_MS = 20_000;

interface StoreLayers {
  readonly typed: KeyValueStore<unknown, unknown>;
  readonly cache: CachingBytesStore | undefined;
}

type NodeRuntime = { process(record: Record<unknown, unknown>): Promise<void> | undefined };

const RESOLVED = Promise.resolve();
const noop = (): void => undefined;

interface Schedule {
  readonly intervalMs: number;
  next: number;
  readonly punctuator: Punctuator;
  cancelled: boolean;
}

/**
 * One task: one sub-topology on one partition, with its own processor instances, stores and collector.
 * It knows nothing about Kafka clients; the app (or the test driver) feeds it fetched batches and
 * drains its collector at commit.
 */
export class StreamTask {
  readonly id: string;
  readonly collector: RecordCollector;
  readonly stores = new Map<string, StoreLayers>();
  readonly #machine: StateMachine<TaskState>;
  readonly #sources = new Map<string, { def: SourceNodeDef; runtime: NodeRuntime; processors: Processor<unknown, unknown>[] }>();
  readonly #processors: Processor<unknown, unknown>[] = [];
  readonly #schedules: Schedule[] = [];
  #tracked: Promise<void>[] = [];
  #current: RecordMetadata | undefined;
  /** Next input offset to commit, per topic (only for records fully processed). */
  readonly committable = new Map<string, bigint>();

  constructor(private readonly opts: TaskOptions) {
    const { subTopology, partition, topology } = opts;
    this.id = taskIdOf(subTopology.id, partition);
    this.#machine = new StateMachine<TaskState>(`task ${this.id}`, 'CREATED', TASK_TRANSITIONS);
    this.collector = new RecordCollector(partition, (s) => topology.stores.get(s)!.changelogTopic, opts.clock);
    for (const name of subTopology.storeNames) {
      const def = topology.stores.get(name)!;
      let bytes = opts.bytesStoreFor(def, name);
      if (def.builder.loggingEnabled) bytes = new ChangeLoggingBytesStore(bytes, this.collector);
      const cache = def.builder.cachingEnabled ? new CachingBytesStore(bytes) : undefined;
      const typed = new TypedKeyValueStore(cache ?? bytes, def.builder.keySerde, def.builder.valueSerde, def.changelogTopic);
      this.stores.set(name, { typed, cache });
    }
    this.#buildNodes(subTopology);
  }

  get state(): TaskState {
    return this.#machine.state;
  }
  get partition(): number {
    return this.opts.partition;
  }
  get subTopologyId(): number {
    return this.opts.subTopology.id;
  }
  moveTo(state: TaskState): void {
    this.#machine.moveTo(state);
  }

  /** Calls every processor's `init` (once, after restore, before the first record). */
  async init(): Promise<void> {
    for (const p of this.#processors) if (p.init) await p.init(this.#contexts.get(p)!);
  }

  /**
   * Processes one fetched batch of one input topic: all records deserialized together, then the
   * processors directly under the source may prefetch, then records run in offset order. A record
   * whose deserialization or processing throws goes to the dead-letter topic and the batch goes on.
   * Returns how many records were processed.
   */
  async process(topic: string, fetched: readonly RawRecord[]): Promise<number> {
    const source = this.#sources.get(topic);
    if (!source) throw new StreamsError('PS_ERR_FATAL', `task ${this.id} has no source for topic "${topic}"`);
    // After a rebalance the consumer re-resolves its position from the committed offsets, so a task this
    // member kept can be fed records it already applied (processed, not yet committed): never twice.
    const applied = this.committable.get(topic);
    const raws = applied === undefined ? fetched : fetched.filter((r) => BigInt(r.offset) >= applied);
    if (raws.length === 0) return 0;
    const { def } = source;
    const decode = async (r: RawRecord): Promise<Record<unknown, unknown>> => {
      const [k, v] = await Promise.all([
        r.key === null ? null : def.keySerde.deserialize(topic, r.key),
        r.value === null ? null : def.valueSerde.deserialize(topic, r.value),
      ]);
      return new Record<unknown, unknown>(k, v, r.timestamp, r.headers);
    };
    const decoded = await Promise.allSettled(raws.map(decode));
    await this.#waitOutUnavailableDecodes(decoded, raws, decode);
    const good = decoded.flatMap((d) => (d.status === 'fulfilled' ? [d.value] : []));
    for (const p of source.processors) if (p.prefetch) await p.prefetch(good);

    for (let i = 0; i < raws.length; i++) {
      const raw = raws[i]!;
      const d = decoded[i]!;
      if (d.status === 'rejected') {
        this.#deadLetter(raw, d.reason, 'PS_ERR_DESERIALIZATION');
      } else {
        this.#current = { topic, partition: raw.partition, offset: raw.offset, serializedValueSize: raw.value === null ? -1 : raw.value.length };
        try {
          const pending = source.runtime.process(d.value);
          if (pending) await pending;
          if (this.#tracked.length > 0) await this.#settleTracked();
        } catch (err) {
          this.#tracked = [];
          this.#deadLetter(raw, err, 'PS_ERR_PROCESSING');
        }
      }
      this.committable.set(topic, BigInt(raw.offset) + 1n);
    }
    this.#current = undefined;
    return raws.length;
  }

  /**
   * A decode that failed because something it needs is unavailable (the serde's error says `retriable`:
   * the schema registry unreachable or restarting) says nothing about the record: dead-lettering it would
   * throw a good record away for an outage. It is decoded again with backoff, the task paused meanwhile,
   * for up to `retriableDecodeWaitMs` (below the session and transaction timeouts, so a short registry
   * restart costs neither the group membership nor the open transaction). If it still fails, the task
   * throws PS_ERR_DESERIALIZATION_UNAVAILABLE before applying any record of the batch: nothing is
   * dead-lettered or committed, and the records are fetched again once the app recovers.
   */
  async #waitOutUnavailableDecodes(
    decoded: PromiseSettledResult<Record<unknown, unknown>>[],
    raws: readonly RawRecord[],
    decode: (r: RawRecord) => Promise<Record<unknown, unknown>>,
  ): Promise<void> {
    const unavailable = (d: PromiseSettledResult<unknown>): d is PromiseRejectedResult =>
      d.status === 'rejected' && (d.reason as { retriable?: unknown } | null)?.retriable === true;
    const deadline = performance.now() + (this.opts.retriableDecodeWaitMs ?? DEFAULT_RETRIABLE_DECODE_WAIT_MS);
    for (let attempt = 0; decoded.some(unavailable); attempt++) {
      const first = decoded.find(unavailable)!;
      if (performance.now() >= deadline) {
        const raw = raws[decoded.indexOf(first)]!;
        throw new StreamsError('PS_ERR_DESERIALIZATION_UNAVAILABLE', `task ${this.id}: record ${raw.topic}/${raw.partition}@${raw.offset} could not be decoded for ${this.opts.retriableDecodeWaitMs ?? DEFAULT_RETRIABLE_DECODE_WAIT_MS} ms because something the decoder needs is unavailable: ${errorMessage(first.reason)}`, { cause: first.reason });
      }
      await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
      const again = await Promise.allSettled(decoded.map((d, i) => (unavailable(d) ? decode(raws[i]!) : Promise.resolve(undefined))));
      again.forEach((a, i) => {
        if (unavailable(decoded[i]!)) decoded[i] = a as PromiseSettledResult<Record<unknown, unknown>>;
      });
    }
  }

  /** Runs due wall-clock punctuators. An error here is a runtime error (no record to dead-letter). */
  async punctuate(now: number): Promise<number> {
    let fired = 0;
    for (const s of [...this.#schedules]) {
      if (s.cancelled || s.next > now) continue;
      s.next += Math.ceil((now - s.next + 1) / s.intervalMs) * s.intervalMs;
      this.#current = undefined;
      await s.punctuator(now);
      if (this.#tracked.length > 0) await this.#settleTracked();
      fired++;
    }
    return fired;
  }

  /** Commit step 1: write caches down (change logging fills the collector; RocksDB stages). */
  async flushStores(): Promise<void> {
    await Promise.all([...this.stores.values()].map((s) => s.cache?.flush()));
  }

  /** Bytes the task's write caches hold (dirty and clean entries). */
  cacheBytes(): number {
    let n = 0;
    for (const s of this.stores.values()) n += s.cache?.bytes ?? 0;
    return n;
  }

  /** Frees the caches' clean entries (copies of what RocksDB has). */
  dropCleanCaches(): void {
    for (const s of this.stores.values()) s.cache?.dropClean();
  }

  /** Closes processors and cancels punctuators. Does not commit: the caller did (or chose not to). */
  async close(): Promise<void> {
    for (const s of this.#schedules) s.cancelled = true;
    this.#schedules.length = 0;
    for (const p of this.#processors) {
      try {
        await p.close?.();
      } catch {
        // A failing close must not keep the other processors open; the task is going away anyway.
      }
    }
    if (this.#machine.canMoveTo('CLOSED')) this.#machine.moveTo('CLOSED');
  }

  store(name: string): KeyValueStore<unknown, unknown> | undefined {
    return this.stores.get(name)?.typed;
  }

  readonly #contexts = new Map<Processor<unknown, unknown>, ProcessorContext<unknown, unknown>>();

  #buildNodes(st: SubTopology): void {
    const runtimes = new Map<string, NodeRuntime>();
    const byNode = new Map<string, Processor<unknown, unknown>>();
    const build = (name: string): NodeRuntime => {
      const existing = runtimes.get(name);
      if (existing) return existing;
      const def: NodeDef = st.nodes.get(name)!;
      let rt: NodeRuntime;
      if (def.kind === 'sink') rt = this.#sinkRuntime(def);
      else if (def.kind === 'processor') {
        const processor = def.supplier() as Processor<unknown, unknown>;
        this.#processors.push(processor);
        byNode.set(def.name, processor);
        const children = def.children.map((c) => [c, build(c)] as const);
        this.#contexts.set(processor, this.#context(def.name, new Map(children), new Set(def.stores)));
        rt = { process: (r) => toPromise(processor.process(r)) };
      } else {
        const children = def.children.map(build);
        rt = { process: (r) => dispatch(children, r) };
      }
      runtimes.set(name, rt);
      return rt;
    };
    for (const def of st.nodes.values()) {
      if (def.kind !== 'source') continue;
      const runtime = build(def.name);
      const processors = def.children.flatMap((c) => {
        const child = st.nodes.get(c)!;
        return child.kind === 'processor' ? [byNode.get(child.name)!] : [];
      });
      for (const t of def.topics) this.#sources.set(t, { def, runtime, processors });
    }
  }

  #sinkRuntime(def: SinkNodeDef): NodeRuntime {
    return {
      process: (r) => {
        const topic = typeof def.topic === 'string' ? def.topic : def.topic(r);
        const key = r.key === null || r.key === undefined ? null : def.keySerde.serialize(topic, r.key);
        const value = r.value === null || r.value === undefined ? null : def.valueSerde.serialize(topic, r.value);
        this.collector.send(topic, key, value, r.timestamp, r.headers, def.partitioner);
        return undefined;
      },
    };
  }

  #context(nodeName: string, children: ReadonlyMap<string, NodeRuntime>, stores: ReadonlySet<string>): ProcessorContext<unknown, unknown> {
    const task = this;
    const all = [...children.values()];
    return {
      applicationId: this.opts.topology.applicationId,
      taskId: this.id,
      forward(record, childName) {
        let targets = all;
        if (childName !== undefined) {
          const c = children.get(childName);
          if (!c) throw new StreamsError('PS_ERR_TOPOLOGY_INVALID', `processor "${nodeName}" has no child "${childName}"`);
          targets = [c];
        }
        const p = dispatch(targets, record);
        if (!p) return RESOLVED;
        // Tracked so a forward the processor forgot to await still finishes before the next record.
        task.#tracked.push(p);
        p.catch(noop);
        return p;
      },
      store<K, V>(name: string): KeyValueStore<K, V> {
        if (!stores.has(name)) throw new StreamsError('PS_ERR_STORE_NOT_CONNECTED', `store "${name}" is not connected to processor "${nodeName}"`);
        return task.stores.get(name)!.typed as KeyValueStore<K, V>;
      },
      schedule(intervalMs: number, punctuator: Punctuator): Cancellable {
        if (!(intervalMs > 0)) throw new RangeError('schedule interval must be > 0 ms');
        const s: Schedule = { intervalMs, next: task.opts.clock.now() + intervalMs, punctuator, cancelled: false };
        task.#schedules.push(s);
        return {
          cancel: () => {
            s.cancelled = true;
            const i = task.#schedules.indexOf(s);
            if (i >= 0) task.#schedules.splice(i, 1);
          },
        };
      },
      recordMetadata: () => task.#current,
      currentWallClockTime: () => task.opts.clock.now(),
    };
  }

  async #settleTracked(): Promise<void> {
    const tracked = this.#tracked;
    this.#tracked = [];
    await Promise.all(tracked);
  }

  #deadLetter(raw: RawRecord, err: unknown, fallbackCode: 'PS_ERR_DESERIALIZATION' | 'PS_ERR_PROCESSING'): void {
    // A layer's own stable code (a serde's PS_ERR_SERDE_..., a domain limit) says more than the fallback.
    const own = (err as { code?: unknown } | null)?.code;
    const code = err instanceof StreamsError ? err.code : typeof own === 'string' && /^PS_ERR_[A-Z0-9_]+$/.test(own) ? own : fallbackCode;
    if (this.opts.deadLetterTopic === undefined) {
      throw new StreamsError(err instanceof StreamsError ? err.code : fallbackCode, `task ${this.id}: record ${raw.topic}/${raw.partition}@${raw.offset} failed and no dead-letter topic is configured: ${errorMessage(err)}`, { cause: err });
    }
    this.collector.send(this.opts.deadLetterTopic, raw.key, raw.value, raw.timestamp, deadLetterHeaders(raw, err, code));
    this.opts.onDeadLetter?.(err);
  }
}

function dispatch(targets: readonly NodeRuntime[], record: Record<unknown, unknown>): Promise<void> | undefined {
  let pending: Promise<void>[] | undefined;
  for (const t of targets) {
    const r = t.process(record);
    if (r) (pending ??= []).push(r);
  }
  if (!pending) return undefined;
  return pending.length === 1 ? pending[0] : Promise.all(pending).then(noop);
}

function toPromise(r: void | Promise<void>): Promise<void> | undefined {
  return r && typeof (r as Promise<void>).then === 'function' ? (r as Promise<void>) : undefined;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
