import type { Logger } from 'pino';
import { Stores, Topology, jsonSerde, stringSerde, type Serde } from '../streams/index.ts';
import type { Deployment } from '../config/deployment.ts';
import type { IdentityChange } from '../profiles/identity-merge.ts';
import type { Batch } from '../schema/batch.ts';
import type { EnrichedBatch } from '../schema/enriched-batch.ts';
import type { HistoryRecord } from '../schema/history-record.ts';
import { IDENTITY_INDEX_STORE, IdentityIndexProcessor, type IdentityOwner } from './identity-index-processor.ts';
import { HISTORY_SINK, IDENTITY_REPARTITION, PROFILES_STORE, ProfileProcessor, integrationSinkName } from './profile-processor.ts';
import { profileStateSerde } from './profile-state-serde.ts';

/** Value serdes of the topics users read and write: Avro through the schema registry in production. */
export interface TopicSerdes {
  readonly batch: Serde<Batch>;
  readonly enriched: Serde<EnrichedBatch>;
  readonly history: Serde<HistoryRecord>;
}

/**
 * profile-stream's topology:
 *   raw topics → profile-merge [profiles] → enriched-<integration> sinks, history sink,
 *                                         → identity-changes (repartition by type:value) → identity-index [identity-index]
 */
export function buildProfileTopology(deployment: Deployment, serdes: TopicSerdes, logger: Logger): Topology {
  const { app, integrations } = deployment;
  const topology = new Topology()
    .addSource('raw', app.rawTopics, { keySerde: stringSerde, valueSerde: serdes.batch })
    .addProcessor('profile-merge', () => new ProfileProcessor(integrations, logger), 'raw')
    .addStateStore(Stores.persistentKeyValueStore(PROFILES_STORE, stringSerde, profileStateSerde()), 'profile-merge');
  for (const integration of integrations) {
    topology.addSink(integrationSinkName(integration), integration.outputTopic, { keySerde: stringSerde, valueSerde: serdes.enriched }, 'profile-merge');
  }
  topology
    .addSink(HISTORY_SINK, app.historyTopic, { keySerde: stringSerde, valueSerde: serdes.history }, 'profile-merge')
    .addRepartition(IDENTITY_REPARTITION, { keySerde: stringSerde, valueSerde: jsonSerde<IdentityChange>() }, 'profile-merge')
    .addProcessor('identity-index', () => new IdentityIndexProcessor(logger), IDENTITY_REPARTITION)
    .addStateStore(Stores.persistentKeyValueStore(IDENTITY_INDEX_STORE, stringSerde, jsonSerde<IdentityOwner>()), 'identity-index');
  return topology;
}
