import type { Logger } from 'pino';
import { Stores, Topology, jsonSerde, stringSerde, type Serde } from '../../streams/index.ts';
import type { Deployment } from '../../config/deployment.ts';
import type { IdentityChange } from '../../profiles/identity-merge.ts';
import type { Batch } from '../../schema/batch.ts';
import type { EnrichedBatch } from '../../schema/enriched-batch.ts';
import type { HistoryRecord } from '../../schema/history-record.ts';
import { EXPIRED_IDENTITIES_STORE, IDENTITY_INDEX_STORE, IdentityIndexProcessor, type ExpiredIdentity, type IdentityOwner } from './identity-index-processor.ts';
import { ProfileProcessor, integrationSinkName } from './profile-processor.ts';
import { DSR_COMPLETION_SINK, ERASURE_REPARTITION, ERASURES_STORE, IDENTITY_REPARTITION, PROFILES_STORE } from './profile-node-names.ts';
import { profileStateSerde } from './profile-state-serde.ts';
import { BATCH_DEDUP_STORE, recentBatchesSerde } from './batch-dedup-store.ts';
import { decodeOnce } from './decode-once.ts';
import type { AudienceMembershipChange } from '../../schema/audience-membership-change.ts';
import { addAudienceNodes, audienceStepSupplier, seedProcessorSupplier, type AudienceWiringOptions } from './audience-topology.ts';
import { SEED_PROCESSOR, SEEDS_SOURCE } from './seed-processor.ts';
import { audienceExitSupplier } from './audience-exit.ts';
import type { DsrEvent, DsrRequested, DsrStatus, ErasureCommand, ErasureRecord } from '../../profiles/erasure.ts';
import { DSR_IDENTITY_REPARTITION, DSR_STATUS_STORE, DsrIdentityResolveProcessor, DsrRouterProcessor } from './dsr-processors.ts';
import { HISTORY_DAYS_STORE, HISTORY_STORE, historyStoreSerde } from './history-store.ts';
import { DEFAULT_IDENTITY_STRATEGY } from '../../identity/identity-strategy.ts';
import { IDSYNC_REQUESTS, IdSyncRouteProcessor } from './idsync-route-processor.ts';
import { IDSYNC_NEXT_HOP_SINK, IDSYNC_RESOLVED, IDSYNC_SEQUENCE_STORE, IdSyncResolveProcessor, type IdSyncResolveOptions } from './idsync-resolve-processor.ts';
import { ProfileLifecycleProcessor, type RetentionOptions } from './profile-lifecycle-processor.ts';

/** Value serdes of the topics users read and write: Avro through the schema registry in production. */
export interface TopicSerdes {
  readonly batch: Serde<Batch>;
  readonly enriched: Serde<EnrichedBatch>;
  readonly history: Serde<HistoryRecord>;
  /** Needed when the deployment defines calculated attributes or audiences. */
  readonly audienceChange?: Serde<AudienceMembershipChange>;
}

/** Sweep intervals for tests and operators; lifetimes come from the deployment's retention settings. */
export type TopologyRetentionOptions = Pick<RetentionOptions, 'profileSweepIntervalMs' | 'historySweepIntervalMs'>;

/**
 * profile-stream's topology:
 *   raw topics → idsync-route (batches without MPID) → idsync-requests (repartition by type:value; loops to each identity's
 *                partition) → idsync-resolve [identity-index, expired-identities, idsync-sequence] → idsync-resolved
 *                (repartition by MPID) → idsync-merge (the profile merge, for resolved batches)
 *   raw topics → profile-merge [profiles, batch-dedup, history (changelog: the history topic), history-days, erasures] → enriched-<integration> sinks,
 *                                         → identity-changes (repartition by type:value) → identity-index [identity-index, expired-identities]
 *   erasures (repartition by MPID) → profile-lifecycle [same stores; retention sweeps] → history tombstones (through the store),
 *                                         identity-changes (removals), audience-memberships (deletes), dsr-completions (DSR topic)
 *   DSR topic → dsr-router [dsr-status] → erasures, or dsr-identity (repartition by type:value) → dsr-resolve [identity-index, expired-identities] → erasures
 */
export function buildProfileTopology(deployment: Deployment, serdes: TopicSerdes, logger: Logger, retention: TopologyRetentionOptions = {}, audiences: AudienceWiringOptions = {}, idsync: IdSyncResolveOptions = {}): Topology {
  const { app, integrations } = deployment;
  const strategy = deployment.identity ?? DEFAULT_IDENTITY_STRATEGY;
  const batchSerdes = { keySerde: stringSerde, valueSerde: serdes.batch };
  // The merge of resolved batches tells their history entries apart from raw ones by this topic's position.
  const mergeInputs = [...app.rawTopics, `${app.applicationId}-${IDSYNC_RESOLVED}-repartition`];
  const lifecycle: RetentionOptions = { profileLifetimeDays: app.profileLifetimeDays, historyRetentionDays: app.historyRetentionDays, ...retention };
  const audienceStep = audienceStepSupplier(deployment, logger, PROFILES_STORE, audiences);
  const audienceExit = audienceExitSupplier(deployment);
  const seeds = seedProcessorSupplier(deployment, logger, PROFILES_STORE);
  // Nodes that read and write the user's profile, in the task that owns the MPID.
  const profileWriters = ['profile-merge', 'idsync-merge', 'profile-lifecycle', ...(seeds === undefined ? [] : [SEED_PROCESSOR])];
  const topology = new Topology()
    // The profile sub-topology is added first so it keeps id 0 (task ids name state directories).
    .addSource('raw', app.rawTopics, { keySerde: stringSerde, valueSerde: serdes.batch })
    .addProcessor('profile-merge', () => new ProfileProcessor(integrations, logger, app.rawTopics, audienceStep?.()), 'raw');
  if (seeds !== undefined) {
    // Seeds are JSON keyed by MPID; a malformed one is dead-lettered (by the runtime or the processor).
    topology
      .addSource(SEEDS_SOURCE, [app.seedsTopic], { keySerde: stringSerde, valueSerde: jsonSerde<unknown>() })
      .addProcessor(SEED_PROCESSOR, seeds, SEEDS_SOURCE);
  }
  topology
    // Erasure requests are routed first (by request id, then identity), so their repartition topic exists
    // before the profile-lifecycle processor that reads it is added.
    .addSource('dsr', [app.dsrTopic], { keySerde: stringSerde, valueSerde: jsonSerde<DsrEvent>() })
    .addProcessor('dsr-router', () => new DsrRouterProcessor(), 'dsr')
    .addStateStore(Stores.persistentKeyValueStore(DSR_STATUS_STORE, stringSerde, jsonSerde<DsrStatus>()), 'dsr-router')
    .addRepartition(DSR_IDENTITY_REPARTITION, { keySerde: stringSerde, valueSerde: jsonSerde<DsrRequested>() }, 'dsr-router')
    .addProcessor('dsr-resolve', () => new DsrIdentityResolveProcessor(), DSR_IDENTITY_REPARTITION)
    // Identity resolution (IDSync), added after the DSR nodes so existing sub-topologies keep their ids:
    // raw batches without MPID → their identities' partitions (idsync-resolve, a loop through the same
    // topic) → re-keyed by MPID → idsync-merge, the profile merge of the task that owns the MPID.
    .addProcessor('idsync-route', () => new IdSyncRouteProcessor(strategy), 'raw')
    .addRepartition(IDSYNC_REQUESTS, batchSerdes, 'idsync-route')
    .addProcessor('idsync-resolve', () => new IdSyncResolveProcessor(strategy, logger, app.applicationId, idsync), IDSYNC_REQUESTS)
    .addRepartitionSink(IDSYNC_NEXT_HOP_SINK, IDSYNC_REQUESTS, batchSerdes, 'idsync-resolve')
    .addStateStore(Stores.persistentKeyValueStore(IDSYNC_SEQUENCE_STORE, stringSerde, jsonSerde<number>()), 'idsync-resolve')
    .addRepartition(IDSYNC_RESOLVED, batchSerdes, 'idsync-resolve')
    .addProcessor('idsync-merge', () => new ProfileProcessor(integrations, logger, mergeInputs, audienceStep?.()), IDSYNC_RESOLVED)
    .addRepartition(ERASURE_REPARTITION, { keySerde: stringSerde, valueSerde: jsonSerde<ErasureCommand>() }, 'dsr-router', 'dsr-resolve')
    .addProcessor('profile-lifecycle', () => new ProfileLifecycleProcessor(lifecycle, logger, audienceExit?.()), ERASURE_REPARTITION)
    .addStateStore(Stores.persistentKeyValueStore(PROFILES_STORE, stringSerde, decodeOnce(profileStateSerde())), ...profileWriters)
    .addStateStore(Stores.persistentKeyValueStore(BATCH_DEDUP_STORE, stringSerde, decodeOnce(recentBatchesSerde())), 'profile-merge', 'idsync-merge', 'profile-lifecycle')
    // The history topic is the history store's changelog: every batch with its snapshot is written once, not
    // to the topic and again to `<app>-history-changelog`; restore reads the topic (Kafka Streams' source-topic changelog idea).
    .addStateStore(Stores.persistentKeyValueStore(HISTORY_STORE, stringSerde, historyStoreSerde(serdes.history)).withChangelogTopic(app.historyTopic), 'profile-merge', 'idsync-merge', 'profile-lifecycle')
    .addStateStore(Stores.persistentKeyValueStore(HISTORY_DAYS_STORE, stringSerde, stringSerde), 'profile-merge', 'idsync-merge', 'profile-lifecycle')
    .addStateStore(Stores.persistentKeyValueStore(ERASURES_STORE, stringSerde, jsonSerde<ErasureRecord>()), 'profile-merge', 'idsync-merge', 'profile-lifecycle')
    .addSink(DSR_COMPLETION_SINK, app.dsrTopic, { keySerde: stringSerde, valueSerde: jsonSerde<DsrEvent>() }, 'profile-lifecycle');
  for (const integration of integrations) {
    topology.addSink(integrationSinkName(integration), integration.outputTopic, { keySerde: stringSerde, valueSerde: serdes.enriched }, 'profile-merge', 'idsync-merge');
  }
  topology
    .addRepartition(IDENTITY_REPARTITION, { keySerde: stringSerde, valueSerde: jsonSerde<IdentityChange>() }, 'profile-merge', 'idsync-merge', 'profile-lifecycle')
    .addProcessor('identity-index', () => new IdentityIndexProcessor(logger, { historyRetentionDays: lifecycle.historyRetentionDays, sweepIntervalMs: lifecycle.historySweepIntervalMs }), IDENTITY_REPARTITION)
    .addStateStore(Stores.persistentKeyValueStore(IDENTITY_INDEX_STORE, stringSerde, jsonSerde<IdentityOwner>()), 'identity-index', 'dsr-resolve', 'idsync-resolve')
    .addStateStore(Stores.persistentKeyValueStore(EXPIRED_IDENTITIES_STORE, stringSerde, jsonSerde<ExpiredIdentity>()), 'identity-index', 'dsr-resolve', 'idsync-resolve');
  addAudienceNodes(topology, deployment, serdes.audienceChange, ...profileWriters);
  return topology;
}
