import { Kafka, logLevel } from 'kafkajs';

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
  const base = registryUrl.replace(/\/$/, '');
  const all = (await (await fetch(`${base}/subjects`)).json()) as string[];
  const subjects = all.filter((s) => s.startsWith(prefix));
  for (const subject of subjects) {
    const path = `${base}/subjects/${encodeURIComponent(subject)}`;
    // A permanent delete needs the soft delete first (Confluent's API, which Apicurio's ccompat follows).
    await fetch(path, { method: 'DELETE' });
    const permanent = await fetch(`${path}?permanent=true`, { method: 'DELETE' });
    if (!permanent.ok && permanent.status !== 404) throw new Error(`deleting subject ${subject}: ${permanent.status} ${await permanent.text()}`);
  }
  return { topics: topics.length, groups: groups.length, subjects: subjects.length };
}
