import type { KeyValueStore } from './store.ts';
import type { Record, RecordMetadata } from './record.ts';

export interface Cancellable {
  cancel(): void;
}

/** Called with the wall-clock time when a schedule is due. */
export type Punctuator = (timestampMs: number) => void | Promise<void>;

/**
 * What a processor sees of the runtime.
 *
 * @example safe: `await ctx.forward(record.withValue(n))` (or return the promise from `process`).
 * @example unsafe: keeping `ctx.recordMetadata()` from one record and reading it in a later call.
 */
export interface ProcessorContext<KOut = unknown, VOut = unknown> {
  readonly applicationId: string;
  /** `<subTopology>_<partition>`, e.g. `0_3`. */
  readonly taskId: string;
  /** To every child, or to the named child only. Resolves when the children are done. */
  forward(record: Record<KOut, VOut>, childName?: string): Promise<void>;
  /** A store connected to this processor with `Topology.addStateStore`. */
  store<K, V>(name: string): KeyValueStore<K, V>;
  /** Wall-clock schedule for this task; cancelled automatically when the task closes. */
  schedule(intervalMs: number, punctuator: Punctuator): Cancellable;
  /** The input record being processed; undefined inside a punctuator. */
  recordMetadata(): RecordMetadata | undefined;
  currentWallClockTime(): number;
}

/**
 * A step of a topology. `process` may return a promise; the runtime awaits it before the next record
 * of the same task.
 */
export interface Processor<KIn = unknown, VIn = unknown, KOut = unknown, VOut = unknown> {
  init?(context: ProcessorContext<KOut, VOut>): void | Promise<void>;
  /**
   * Optional, for processors that read a store per record: called once with the whole fetched batch
   * before `process` sees its records, so the processor can `getMany` the keys in one read (the write
   * cache keeps what it read until the next commit).
   */
  prefetch?(records: readonly Record<KIn, VIn>[]): void | Promise<void>;
  process(record: Record<KIn, VIn>): void | Promise<void>;
  close?(): void | Promise<void>;
}

/** Returns a new processor instance per task. */
export type ProcessorSupplier<KIn = unknown, VIn = unknown, KOut = unknown, VOut = unknown> = () => Processor<KIn, VIn, KOut, VOut>;
