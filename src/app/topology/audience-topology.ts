import type { Logger } from 'pino';
import { Stores, TopologyError, jsonSerde, stringSerde, type Serde, type Topology } from '../../streams/index.ts';
import { compileDefinitions, hasDefinitions } from '../../audiences/definitions.ts';
import type { Deployment } from '../../config/deployment.ts';
import type { AudienceMembershipChange } from '../../schema/audience-membership-change.ts';
import { SeedProcessor } from './seed-processor.ts';
import {
  AGGREGATES_STORE, AUDIENCE_DUE_STORE, AUDIENCE_MEMBERSHIPS_SINK, AudienceStep, type StoredAggregates,
} from './audience-step.ts';

export interface AudienceWiringOptions {
  /** How often each task sweeps users whose windows moved (wall clock). */
  readonly sweepIntervalMs?: number;
}

/**
 * A supplier of the per-task audience step, or undefined when the deployment defines no calculated
 * attributes and no audiences (then the profile processor runs exactly as without them).
 */
export function audienceStepSupplier(deployment: Deployment, logger: Logger, profilesStore: string, options: AudienceWiringOptions = {}): (() => AudienceStep) | undefined {
  const definitions = compileDefinitions(deployment.calculatedAttributes ?? [], deployment.audiences ?? []);
  if (!hasDefinitions(definitions)) return undefined;
  return () => new AudienceStep(definitions, logger, { profilesStore, ...options });
}

/**
 * A supplier of the seed processor (seeding topic → the user's calculated attributes), or undefined when
 * the deployment defines no calculated attributes. It shares the audience step's stores, not its sweep.
 */
export function seedProcessorSupplier(deployment: Deployment, logger: Logger, profilesStore: string): (() => SeedProcessor) | undefined {
  if ((deployment.calculatedAttributes ?? []).length === 0) return undefined;
  const definitions = compileDefinitions(deployment.calculatedAttributes ?? [], deployment.audiences ?? []);
  return () => new SeedProcessor(new AudienceStep(definitions, logger, { profilesStore, sweep: false }));
}

/**
 * The audience step's stores (in the profile processor's sub-topology, keyed by MPID like `profiles`)
 * and the sink of membership changes (`<app>.audience-memberships`, keyed by MPID), connected to each of
 * `processorNames` (the profile processor, and the lifecycle processor that ends memberships on expiry).
 */
export function addAudienceNodes(topology: Topology, deployment: Deployment, serde: Serde<AudienceMembershipChange> | undefined, ...processorNames: string[]): void {
  if ((deployment.calculatedAttributes ?? []).length === 0 && (deployment.audiences ?? []).length === 0) return;
  if (serde === undefined) throw new TopologyError('audiences are defined but no serde for audience membership changes was given', AUDIENCE_MEMBERSHIPS_SINK);
  topology
    .addStateStore(Stores.persistentKeyValueStore(AGGREGATES_STORE, stringSerde, jsonSerde<StoredAggregates>()), ...processorNames)
    .addStateStore(Stores.persistentKeyValueStore(AUDIENCE_DUE_STORE, stringSerde, stringSerde), ...processorNames)
    .addSink(AUDIENCE_MEMBERSHIPS_SINK, deployment.app.audienceMembershipsTopic, { keySerde: stringSerde, valueSerde: serde }, ...processorNames);
}
