import { planTopics } from '../app/topology/topic-plan.ts';
import { ensureTopics, type TopicOutcome } from '../app/kafka/topic-admin.ts';
import type { Deployment } from '../config/deployment.ts';
import type { CliOutput } from './cli-output.ts';
import type { KafkaSecurity } from '../streams/index.ts';

export function printTopics(outcomes: readonly TopicOutcome[], out: CliOutput): void {
  for (const t of outcomes) {
    const state =
      t.outcome === 'created' ? 'created' : t.outcome === 'exists' ? 'exists' : `EXISTS WITH ${t.actualPartitions} PARTITIONS (expected ${t.partitions})`;
    out.info(`  ${t.topic.padEnd(48)} ${String(t.partitions).padStart(3)}p  ${state.padEnd(10)} ${t.purpose}`);
  }
}

/** `profile-stream topics`: creates the topics topology/ declares; prints each with what happened. */
export async function topicsCommand(deployment: Deployment, brokers: string[], out: CliOutput, security?: KafkaSecurity): Promise<number> {
  const outcomes = await ensureTopics(brokers, planTopics(deployment), security);
  out.info(`Topics on ${brokers.join(',')}:`);
  printTopics(outcomes, out);
  const mismatched = outcomes.filter((t) => t.outcome === 'exists-with-other-partition-count');
  if (mismatched.length > 0) {
    out.error(`${mismatched.length} topic(s) exist with another partition count; raw and output topics must match topology/app.yaml's partitions`);
    return 1;
  }
  return 0;
}
