import type { KafkaClientName } from '../../src/streams/index.ts';
import type { Guarantee } from '../lib/service-under-test.ts';
import type { ApiTally } from './api-prober.ts';

/** What a chaos scenario is and what it records: the types the scenario runner, its checks and its scripts share. */
export const SCENARIOS = ['kill', 'broker', 'registry', 'storm', 'elastic', 'brokers3'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface ScenarioSpec {
  readonly scenario: ScenarioName;
  readonly client: KafkaClientName;
  readonly guarantee: Guarantee;
  /** Instances up all the time (the storm adds two that come and go). */
  readonly instances: number;
  readonly partitions: number;
  readonly users: number;
  /** Batches per second the load producer sends. */
  readonly rate: number;
  /** kill: kills; storm: joins and leaves. */
  readonly faults: number;
  /** broker, registry: how long each outage lasts. */
  readonly outageSeconds: readonly number[];
  /** storm: seconds between one join or leave and the next. */
  readonly stormIntervalSeconds: number;
  /** Load before the first fault and after the last one resumed (elastic: also between steps). */
  readonly steadySeconds: number;
  readonly seed: number;
  /** elastic: the instance count after each step, in turn (from `instances`). */
  readonly steps?: readonly number[];
  /** STANDBY_REPLICAS of every instance (default 0). */
  readonly standbyReplicas?: number;
  /** brokers3: each outage of one broker of three (brokers 1, 2, 3, 1, ... in turn) and how it is stopped. */
  readonly brokerStops?: ReadonlyArray<{ readonly seconds: number; readonly signal: 'SIGTERM' | 'SIGKILL' }>;
}

/** One fault: when (seconds since the scenario started), how long, and how long the service took to resume. */
export interface FaultRecord {
  readonly kind: string;
  detail: string;
  readonly at_s: number;
  readonly duration_ms: number;
  /** From the fault's end until every partition had an output processed again (undefined: not within the deadline). */
  resume_ms: number | undefined;
  /** From the fault's end until a Profile API request sent then got a right 200 for a user of every partition. */
  api_resume_ms: number | undefined;
  /**
   * From the fault's end until the load producer (not the service) had a send acknowledged again: outputs of
   * new input cannot flow before that, so a resume close to it was waiting for the producer, not the service.
   */
  input_resume_ms?: number;
}

export interface ScenarioTarget {
  readonly label: string;
  readonly wanted: string;
  readonly measured: string;
  readonly met: boolean;
}

/** One scaling step of the elastic scenario and what it cost. */
export interface ScaleStep {
  readonly instances_before: number;
  readonly instances_after: number;
  /** Seconds since the scenario started. */
  readonly at_s: number;
  /** Join: from the spawn until the new instances' runtimes were RUNNING; leave: from SIGTERM until the processes exited. */
  readonly process_ms: number | undefined;
  /** From the step's command until every task was RUNNING on exactly one instance of the new set, each instance with at least one. */
  readonly rebalance_ms: number | undefined;
  /** From the step's command until, after that, the group's lag on the input was at most `lag_threshold` records. */
  readonly catch_up_ms: number | undefined;
  readonly lag_threshold: number;
  /** The largest lag sampled from the command until caught up. */
  readonly peak_lag: number;
  /** Restores the instances ran for it (store restore times reported, summed, ms). */
  readonly restore_ms: number;
  /** Profile API answers to requests sent from the command until caught up. */
  readonly api: ApiTally;
}

