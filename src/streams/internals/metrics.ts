import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The runtime's Prometheus metrics, in a registry of their own (one per app instance). */
export class StreamsMetrics {
  readonly registry = new Registry();
  readonly recordsProcessed = new Counter({ name: 'streams_records_processed_total', help: 'Input records processed', labelNames: ['task'], registers: [this.registry] });
  readonly processLatency = new Histogram({
    name: 'streams_process_batch_seconds',
    help: 'Time to process one fetched batch',
    labelNames: ['task'],
    buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2],
    registers: [this.registry],
  });
  readonly commits = new Counter({ name: 'streams_commits_total', help: 'Commits', registers: [this.registry] });
  readonly outages = new Counter({ name: 'streams_kafka_outages_total', help: 'Times Kafka became unreachable and processing paused until it answered again', registers: [this.registry] });
  readonly commitLatency = new Histogram({ name: 'streams_commit_seconds', help: 'Commit duration', buckets: [0.005, 0.02, 0.1, 0.5, 2, 10], registers: [this.registry] });
  readonly restoredRecords = new Counter({ name: 'streams_restore_records_total', help: 'Changelog records restored', labelNames: ['task'], registers: [this.registry] });
  readonly restoreRemaining = new Gauge({ name: 'streams_restore_remaining_records', help: 'Changelog offsets left to restore', labelNames: ['task'], registers: [this.registry] });
  readonly restoreRate = new Gauge({ name: 'streams_restore_records_per_second', help: 'Rate of the last restore', labelNames: ['task'], registers: [this.registry] });
  readonly standbyLag = new Gauge({ name: 'streams_standby_lag_records', help: 'Changelog records a standby replica is behind its active task', labelNames: ['task'], registers: [this.registry] });
  readonly consumerLag = new Gauge({ name: 'streams_consumer_lag', help: 'High watermark minus next offset', labelNames: ['topic', 'partition'], registers: [this.registry] });
  readonly deadLetters = new Counter({ name: 'streams_dead_letter_records_total', help: 'Records sent to the dead-letter topic', labelNames: ['task'], registers: [this.registry] });
  readonly state = new Gauge({ name: 'streams_state', help: 'App state (1 for the current one)', labelNames: ['state'], registers: [this.registry] });
  /**
   * Like Kafka Streams' record-e2e-latency (KIP-613): now minus the record's timestamp, at each stage a
   * record passes. `fetched`: handed to its task; `processed`: its processors done; `acked`: an output
   * the producer got acknowledged (timestamp forwarded from the input). Read one after another they say
   * where a record's time goes: before the runtime, in the task queue, or on the way out.
   */
  readonly recordLatency = new Histogram({
    name: 'streams_record_e2e_latency_seconds',
    help: 'Now minus the record timestamp when a record reaches a stage (fetched, processed, acked) of a sub-topology',
    labelNames: ['stage', 'subtopology'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  /** Time processing waited for the runtime's lock (held by commits, punctuators and rebalances). */
  readonly lockWait = new Histogram({ name: 'streams_process_lock_wait_seconds', help: 'Time a processing step waited for the lock commits and punctuators hold', buckets: LATENCY_BUCKETS, registers: [this.registry] });
  /** The part of a commit that excludes processing (flush caches, hand records to the producer). */
  readonly commitBlocking = new Histogram({ name: 'streams_commit_blocking_seconds', help: 'Part of a commit during which processing waits', buckets: LATENCY_BUCKETS, registers: [this.registry] });
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
