import type { MachineInfo } from './machine.ts';
import type { BenchOptions } from './options.ts';

/** What every benchmark gets from the harness. */
export interface BenchContext {
  readonly brokers: string[];
  readonly registryUrl: string;
  readonly options: BenchOptions;
  readonly machine: MachineInfo;
  /** Kafka's log directory when the local stack runs here (for bytes-on-disk figures); else undefined. */
  readonly kafkaDataDir: string | undefined;
  readonly kafkaLibs: string;
  /** Unique per harness invocation: prefixes every topic, group and state directory it makes. */
  readonly runId: string;
  /**
   * The topic name the pre-encoded workloads register their schema under (`<topic>-value`): one shared
   * subject for `npm run bench` (the workload cache keeps its schema id), the run's own inside a test run.
   */
  readonly workloadTopic: string;
}
