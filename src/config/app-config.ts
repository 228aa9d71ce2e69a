import { z } from 'zod';
import { parseYaml, readYamlFile } from './yaml-document.ts';
import { AppConfigError, appConfigError } from './config-errors.ts';

const topicName = z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/, 'a Kafka topic name: letters, digits, ".", "_", "-"');

const schema = z
  .object({
    application_id: z.string().regex(/^[a-zA-Z0-9._-]{1,100}$/, 'letters, digits, ".", "_", "-"').default('profile-stream'),
    partitions: z.number().int().min(1).max(1000).default(4),
    sources: z.array(z.string().regex(/^[a-z0-9_-]{1,50}$/, 'lower-case letters, digits, "_", "-"')).min(1).default(['web', 'ios', 'android']),
    topics: z
      .object({
        dead_letter: topicName.optional(),
        history: topicName.optional(),
        audience_memberships: topicName.optional(),
        dsr: topicName.optional(),
        calculated_attribute_seeds: topicName.optional(),
      })
      .strict()
      .default({}),
    retention: z
      .object({
        // A union of literals reports only "Invalid input"; the message names what is allowed.
        profile_lifetime_days: z.union([z.literal(30), z.literal(60), z.literal(90)], { error: (issue) => `expected 30, 60 or 90 (days), got ${JSON.stringify(issue.input)}` }).default(30),
        history_days: z.number().int().min(1).max(3650).default(730),
      })
      .strict()
      .default({ profile_lifetime_days: 30, history_days: 730 }),
  })
  .strict();

export interface AppConfig {
  readonly applicationId: string;
  readonly partitions: number;
  readonly sources: readonly string[];
  /** Raw input topic per source, in `sources` order. */
  readonly rawTopics: readonly string[];
  readonly deadLetterTopic: string;
  readonly historyTopic: string;
  readonly audienceMembershipsTopic: string;
  readonly dsrTopic: string;
  /** Seeds for calculated attributes (JSON keyed by MPID), co-partitioned with the raw topics. */
  readonly seedsTopic: string;
  readonly profileLifetimeDays: 30 | 60 | 90;
  readonly historyRetentionDays: number;
}

export function rawTopicFor(applicationId: string, source: string): string {
  return `${applicationId}.raw.${source}`;
}

/** Parses and validates app.yaml text; `file` names it in errors. */
export function parseAppConfig(text: string, file: string): AppConfig {
  // The schema's own messages say what is expected (`expected 30, 60 or 90 (days), got 45`).
  const y = parseYaml(text, file, appConfigError, (issue) => issue.message);
  const c = y.check(schema, y.value, []);
  const app = c.application_id;
  return {
    applicationId: app,
    partitions: c.partitions,
    sources: c.sources,
    rawTopics: c.sources.map((s) => rawTopicFor(app, s)),
    deadLetterTopic: c.topics.dead_letter ?? `${app}.dlq`,
    historyTopic: c.topics.history ?? `${app}.history`,
    audienceMembershipsTopic: c.topics.audience_memberships ?? `${app}.audience-memberships`,
    dsrTopic: c.topics.dsr ?? `${app}.dsr`,
    seedsTopic: c.topics.calculated_attribute_seeds ?? `${app}.calculated-attribute-seeds`,
    profileLifetimeDays: c.retention.profile_lifetime_days,
    historyRetentionDays: c.retention.history_days,
  };
}

export async function loadAppConfig(file: string): Promise<AppConfig> {
  const text = await readYamlFile(file, (f, cause) => new AppConfigError(`cannot read ${f}: ${(cause as Error).message}`, { cause }));
  return parseAppConfig(text, file);
}
