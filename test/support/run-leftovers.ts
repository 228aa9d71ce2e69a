import { Kafka, logLevel } from 'kafkajs';
import { deleteSubjectsByPrefix } from '../../bench/lib/subjects.ts';

/**
 * Removes what one test run left on a shared broker and registry: the topics, consumer groups and subjects
 * whose names start with the run's prefix (`uniqueName` puts it in front of every name a test makes). Only
 * this run's: another run's prefix differs, and the user's own topics carry none.
 */
export async function removeRunLeftovers(brokers: string[], registryUrl: string, prefix: string): Promise<{ topics: number; groups: number; subjects: number }> {
  const admin = new Kafka({ clientId: `${prefix}-cleanup`, brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  let topics: string[] = [];
  let groups: string[] = [];
  try {
    topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix));
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
    // In slices: one request naming hundreds of topics can outlast the request timeout.
    for (let i = 0; i < topics.length; i += 50) await admin.deleteTopics({ topics: topics.slice(i, i + 50), timeout: 60_000 });
  } finally {
    await admin.disconnect();
  }
  const subjects = await deleteSubjectsByPrefix(registryUrl, prefix);
  return { topics: topics.length, groups: groups.length, subjects };
}

/** The topics and subjects a stack holds (to compare a run's end with its start). */
export interface StackContents {
  readonly topics: ReadonlySet<string>;
  readonly subjects: ReadonlySet<string>;
}

export async function stackContents(brokers: string[], registryUrl: string): Promise<StackContents> {
  const admin = new Kafka({ clientId: 'profile-stream-test-contents', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const topics = new Set(await admin.listTopics());
    const subjects = new Set((await (await fetch(`${registryUrl.replace(/\/$/, '')}/subjects`)).json()) as string[]);
    return { topics, subjects };
  } finally {
    await admin.disconnect();
  }
}

/**
 * Names the stack holds now and did not at the start, other than another run's (its own prefix:
 * `psrun-` test runs, `bench-` and `chaos-` benchmark runs, all removed by whoever made them) and Kafka's
 * internal topics: what this run left behind without its prefix.
 */
export function leftoversSince(before: StackContents, after: StackContents): string[] {
  const foreign = (name: string): boolean => /^(psrun-|bench-|chaos-|__|_schemas)/.test(name);
  return [
    ...[...after.topics].filter((t) => !before.topics.has(t) && !foreign(t)).map((t) => `topic ${t}`),
    ...[...after.subjects].filter((s) => !before.subjects.has(s) && !foreign(s)).map((s) => `subject ${s}`),
  ];
}
