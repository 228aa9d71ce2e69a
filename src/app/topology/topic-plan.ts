import type { Deployment } from '../../config/deployment.ts';

export interface PlannedTopic {
  readonly topic: string;
  readonly partitions: number;
  /** What it is for, printed by `profile-stream topics`. */
  readonly purpose: string;
  readonly config: Readonly<Record<string, string>>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Every topic the deployment needs. Raw and output topics share the partition count so keys (MPIDs) land
 * on the same partition number everywhere; changelogs and repartition topics are the runtime's business.
 */
export function planTopics(deployment: Deployment): PlannedTopic[] {
  const { app, integrations } = deployment;
  const p = app.partitions;
  return [
    ...app.sources.map((source, i) => ({ topic: app.rawTopics[i]!, partitions: p, purpose: `raw batches from ${source}`, config: {} })),
    ...integrations.map((integration) => ({
      topic: integration.outputTopic,
      partitions: p,
      purpose: `enriched batches for ${integration.name}`,
      config: {},
    })),
    { topic: app.deadLetterTopic, partitions: 1, purpose: 'dead letters (headers give the reason)', config: {} },
    {
      topic: app.historyTopic,
      partitions: p,
      purpose: 'history: each batch with the profile snapshot (key mpid|time|seq; erasure writes tombstones)',
      // Compacted as well as time-limited: each batch has its own key, so compaction keeps them all until an
      // erasure's tombstones remove a user's batches; retention.ms still drops whatever is older.
      config: { 'retention.ms': String(app.historyRetentionDays * DAY_MS), 'cleanup.policy': 'compact,delete' },
    },
    { topic: app.audienceMembershipsTopic, partitions: p, purpose: 'audience membership changes', config: {} },
    { topic: app.dsrTopic, partitions: p, purpose: 'erasure requests and completions (DSR; JSON keyed by request id)', config: {} },
    { topic: app.seedsTopic, partitions: p, purpose: 'calculated attribute seeds (JSON keyed by MPID)', config: {} },
  ];
}
