import { systemClock, type Clock } from '../clock.ts';
import { StreamsError } from '../errors.ts';
import type { KafkaSecurity } from '../kafka-security.ts';
import type { KafkaClientName, KafkaPortFactory } from './kafka-client.ts';
import { stderrLogger, type StreamsLogger } from './logger.ts';

/** What a `StreamsApp` is configured with; the README's configuration table documents each key. */
export interface StreamsConfig {
  applicationId: string;
  brokers: readonly string[];
  /** TLS and SASL for every connection to `brokers`; PLAINTEXT without. */
  security?: KafkaSecurity;
  stateDir: string;
  processingGuarantee?: 'at_least_once' | 'exactly_once';
  /** Default 1000 ms (at-least-once) or 200 ms (exactly-once: outputs are visible only after commit). */
  commitIntervalMs?: number;
  /** `host:port` other instances forward queries to; shared through the group assignment. */
  applicationServer?: string;
  deadLetterTopic?: string;
  logger?: StreamsLogger;
  clock?: Clock;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  restoreTimeoutMs?: number;
  /**
   * Bytes all tasks' write caches may hold together (Kafka Streams' `statestore.cache.max.bytes`).
   * Beyond it, clean entries are dropped and, if that is not enough, a commit starts early. Default 32 MiB.
   */
  cacheMaxBytes?: number;
  /** Kafka client behind the runtime's port: a client name, or a factory (tests inject one). */
  kafkaClient?: KafkaClientName | KafkaPortFactory;
  /**
   * Standby replicas per stateful task (Kafka Streams' `num.standby.replicas`): other instances keep the
   * task's stores warm from its changelogs, so a failover restores only the tail. Default 0.
   */
  numStandbyReplicas?: number;
  /** How often a standby reads the changelogs it is behind on. Default 1000 ms. */
  standbyPollMs?: number;
}

/** A `StreamsConfig` with every default filled in. */
export type ResolvedStreamsConfig = Required<Omit<StreamsConfig, 'deadLetterTopic' | 'applicationServer' | 'kafkaClient' | 'security'>> & Pick<StreamsConfig, 'deadLetterTopic' | 'applicationServer' | 'kafkaClient' | 'security'>;

/** Checks the required keys and fills in the defaults, in one place. */
export function resolveStreamsConfig(config: StreamsConfig): ResolvedStreamsConfig {
  if (!config.applicationId || !/^[A-Za-z0-9._-]+$/.test(config.applicationId)) {
    throw new StreamsError('PS_ERR_CONFIG_INVALID', `applicationId "${config.applicationId}" must be non-empty and match [A-Za-z0-9._-]+`);
  }
  if (!config.brokers?.length) throw new StreamsError('PS_ERR_CONFIG_INVALID', 'brokers must list at least one host:port');
  if (!config.stateDir) throw new StreamsError('PS_ERR_CONFIG_INVALID', 'stateDir is required');
  if (config.numStandbyReplicas !== undefined && (!Number.isInteger(config.numStandbyReplicas) || config.numStandbyReplicas < 0)) {
    throw new StreamsError('PS_ERR_CONFIG_INVALID', `numStandbyReplicas ${config.numStandbyReplicas} must be a whole number >= 0`);
  }
  const eos = config.processingGuarantee === 'exactly_once';
  return {
    processingGuarantee: 'at_least_once',
    commitIntervalMs: eos ? 200 : 1000,
    logger: stderrLogger,
    clock: systemClock,
    sessionTimeoutMs: 30_000,
    rebalanceTimeoutMs: 60_000,
    heartbeatIntervalMs: 3_000,
    restoreTimeoutMs: 300_000,
    cacheMaxBytes: 32 * 1024 * 1024,
    numStandbyReplicas: 0,
    standbyPollMs: 1000,
    ...config,
  };
}
