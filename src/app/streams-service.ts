import type { Logger } from 'pino';
import { StreamsApp, type Clock, type StreamsState } from '../streams/index.ts';
import type { Deployment } from '../config/deployment.ts';
import type { RuntimeEnv } from '../config/runtime-env.ts';
import { createAvroSerde, createSchemaRegistry } from '../schema/avro-serde.ts';
import type { Batch } from '../schema/batch.ts';
import type { EnrichedBatch } from '../schema/enriched-batch.ts';
import type { HistoryRecord } from '../schema/history-record.ts';
import { SCHEMAS } from '../schema/schema-catalog.ts';
import { buildProfileTopology, type TopologyRetentionOptions } from './topology/profile-topology.ts';
import type { AudienceWiringOptions } from './topology/audience-topology.ts';
import type { AudienceMembershipChange } from '../schema/audience-membership-change.ts';
import type { Service } from './service.ts';
import { registryEndpoint, type ClientSecurity } from './client-security.ts';
import { MemoryTrimmer } from './memory-trimmer.ts';

export interface StreamsServiceOptions {
  readonly deployment: Deployment;
  readonly env: RuntimeEnv;
  readonly brokers: string[];
  readonly schemaRegistryUrl: string;
  /** TLS/SASL for Kafka, basic auth and CA for the registry; PLAINTEXT and none without. */
  readonly security?: ClientSecurity;
  readonly logger: Logger;
  /** `host:port` other instances forward Profile API requests to. */
  readonly applicationServer?: string;
  readonly commitIntervalMs?: number;
  /** The group session timeout (benchmarks shorten it to time failovers); the runtime's default otherwise. */
  readonly sessionTimeoutMs?: number;
  /** Wall-clock time for commits, punctuators and retention; tests pass one they can move. */
  readonly clock?: Clock;
  /** Retention sweep intervals (lifetimes come from the deployment). */
  readonly retention?: TopologyRetentionOptions;
  /** Audience sweep interval (window expiry with no new event). */
  readonly audiences?: AudienceWiringOptions;
}

/** The profile topology running on the stream runtime, as the CLI and the API see it. */
export class StreamsService implements Service {
  readonly app: StreamsApp;
  readonly memoryTrimmer: MemoryTrimmer;
  private readonly fatalListeners: Array<(e: Error) => void> = [];

  constructor(options: StreamsServiceOptions) {
    const registry = createSchemaRegistry(registryEndpoint(options.schemaRegistryUrl, options.security));
    const topology = buildProfileTopology(
      options.deployment,
      {
        batch: createAvroSerde<Batch>({ registry, schema: SCHEMAS.batch }),
        enriched: createAvroSerde<EnrichedBatch>({ registry, schema: SCHEMAS['enriched-batch'] }),
        history: createAvroSerde<HistoryRecord>({ registry, schema: SCHEMAS['history-record'], encodeOnce: true }),
        audienceChange: createAvroSerde<AudienceMembershipChange>({ registry, schema: SCHEMAS['audience-membership-change'] }),
      },
      options.logger,
      options.retention,
      options.audiences,
    );
    this.app = new StreamsApp(topology, {
      applicationId: options.deployment.app.applicationId,
      brokers: options.brokers,
      security: options.security?.kafka,
      stateDir: options.env.stateDir,
      processingGuarantee: options.env.processingGuarantee,
      kafkaClient: options.env.kafkaClient,
      numStandbyReplicas: options.env.standbyReplicas,
      deadLetterTopic: options.deployment.app.deadLetterTopic,
      logger: options.logger,
      ...(options.applicationServer !== undefined ? { applicationServer: options.applicationServer } : {}),
      ...(options.commitIntervalMs !== undefined ? { commitIntervalMs: options.commitIntervalMs } : {}),
      ...(options.sessionTimeoutMs !== undefined ? { sessionTimeoutMs: options.sessionTimeoutMs, heartbeatIntervalMs: Math.max(100, Math.floor(options.sessionTimeoutMs / 6)) } : {}),
      ...(options.clock !== undefined ? { clock: options.clock } : {}),
    });
    // A restore is trimmed too: it sets the peak (measured in bench/ANALYSIS.md, session 10).
    this.memoryTrimmer = new MemoryTrimmer({ growthBytes: options.env.memoryTrimGrowthMb * 1024 * 1024, logger: options.logger });
    this.app.on('state', (next: StreamsState) => {
      if (next === 'ERROR') {
        const error = new Error('the stream runtime stopped on a fatal error (see the log line before this one)');
        for (const l of this.fatalListeners) l(error);
      }
    });
  }

  onFatal(listener: (error: Error) => void): void {
    this.fatalListeners.push(listener);
  }

  readiness(): { ready: boolean; detail: Record<string, unknown> } {
    const tasks = this.app.restoreStatus();
    const restoring = tasks.filter((t) => t.state !== 'RUNNING');
    const outage = this.app.outage;
    const ready = this.app.state === 'RUNNING' && restoring.length === 0 && outage === undefined;
    const detail: Record<string, unknown> = { state: this.app.state, tasks: tasks.length, restoring };
    if (outage) {
      const since = new Date(outage.since).toISOString();
      detail.reason = outage.part === 'group membership'
        ? `rejoining the group since ${since} (${outage.reason})`
        : `${outage.part === 'kafka' ? 'Kafka' : 'the schema registry'} unavailable since ${since} (${outage.reason}); processing resumes by itself when it answers`;
    }
    return { ready, detail };
  }

  /** What this instance is waiting for (for /health): nothing, Kafka, or the schema registry. */
  down(): Array<{ part: string; since: string; reason: string }> {
    const outage = this.app.outage;
    if (!outage || outage.part === 'group membership') return [];
    return [{ part: outage.part, since: new Date(outage.since).toISOString(), reason: outage.reason }];
  }

  async start(): Promise<void> {
    this.memoryTrimmer.start();
    await this.app.start();
    await this.app.waitForState('RUNNING', 120_000);
  }

  async close(): Promise<void> {
    this.memoryTrimmer.stop();
    await this.app.close();
  }
}
