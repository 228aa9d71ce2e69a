import { StreamsError } from '../errors.ts';
import type { AdminPort, TopicSpec } from './kafka-port.ts';
import type { BuiltTopology } from './topology-graph.ts';

/**
 * Checks and creates the topics a topology needs at start, and returns every known partition count:
 *  - user source topics must exist; all source topics of one sub-topology must have the same partition
 *    count (co-partitioning), else PS_ERR_COPARTITIONING naming each topic and count;
 *  - a repartition topic gets the partition count of the sub-topology writing it;
 *  - a changelog topic (compacted) gets the partition count of its store's sub-topology.
 */
export async function checkTopics(admin: AdminPort, topology: BuiltTopology): Promise<Map<string, number>> {
  const repartition = new Set(topology.repartitionTopics);
  const sources = topology.subTopologies.flatMap((s) => [...s.sourceTopics.keys()]);
  const counts = await admin.partitionCounts([...sources, ...[...topology.stores.values()].map((s) => s.changelogTopic)]);
  const missing = sources.filter((t) => !repartition.has(t) && !counts.has(t));
  if (missing.length > 0) throw new StreamsError('PS_ERR_SOURCE_TOPIC_MISSING', `source topics do not exist: ${missing.join(', ')}`);

  const subCount = new Map<number, number>();
  // Sub-topologies in id order: a writer of a repartition topic comes before its reader.
  for (const st of topology.subTopologies) {
    const external = [...st.sourceTopics.keys()].filter((t) => !repartition.has(t) || counts.has(t));
    const distinct = new Set(external.map((t) => counts.get(t)!));
    if (distinct.size > 1) {
      throw new StreamsError(
        'PS_ERR_COPARTITIONING',
        `sub-topology ${st.id} reads topics with different partition counts (${external.map((t) => `${t}: ${counts.get(t)}`).join(', ')}); co-partitioned inputs must have the same count`,
      );
    }
    let n = external.length > 0 ? counts.get(external[0]!)! : undefined;
    if (n === undefined) {
      // Only repartition inputs that do not exist yet: use the writing sub-topology's count.
      const writers = topology.subTopologies.filter((w) => [...w.nodes.values()].some((d) => d.kind === 'sink' && typeof d.topic === 'string' && st.sourceTopics.has(d.topic)));
      n = Math.max(...writers.map((w) => subCount.get(w.id) ?? 1));
    }
    subCount.set(st.id, n);
  }

  const create: TopicSpec[] = [];
  for (const st of topology.subTopologies) {
    for (const t of st.sourceTopics.keys()) {
      if (repartition.has(t) && !counts.has(t)) {
        create.push({ topic: t, partitions: subCount.get(st.id)!, compacted: false });
        counts.set(t, subCount.get(st.id)!);
      }
    }
  }
  for (const s of topology.stores.values()) {
    if (!s.builder.loggingEnabled) continue;
    const n = subCount.get(s.subTopology)!;
    const existing = counts.get(s.changelogTopic);
    if (existing === undefined) {
      create.push({ topic: s.changelogTopic, partitions: n, compacted: true });
      counts.set(s.changelogTopic, n);
    } else if (existing !== n) {
      throw new StreamsError('PS_ERR_COPARTITIONING', `changelog topic ${s.changelogTopic} has ${existing} partitions but its sub-topology's inputs have ${n}`);
    }
  }
  await admin.createTopics(create);
  return counts;
}
