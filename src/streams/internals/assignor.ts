import type { GroupAssignorPort, GroupMemberInfo, TopicPartitions } from './kafka-port.ts';
import { parseTaskId, taskIdOf } from './topology-graph.ts';

/** The kafkajs protocol name of this assignor; every member of a group must offer it. */
export const ASSIGNOR_PROTOCOL = 'profile-stream-sticky';

export interface SubTopologyTopics {
  readonly id: number;
  readonly topics: readonly string[];
}

/** What each member tells the leader when it joins. */
export interface MemberSubscription {
  readonly applicationServer: string;
  /** Tasks the member owns now: the leader keeps them where they are (stickiness). */
  readonly ownedTasks: readonly string[];
  /** The process's id for this run (standby assignments name it); '' from a member that keeps no standbys. */
  readonly processId?: string;
  /** Tasks whose state the member keeps warm now as a standby: preferred when a task must move. */
  readonly standbyTasks?: readonly string[];
  /** Exactly-once: the member's transactional id, so the others can fence it once it left (`departed-producers.ts`). */
  readonly transactionalId?: string;
}

export function encodeSubscription(s: MemberSubscription): Buffer {
  return Buffer.from(JSON.stringify({ v: 1, s: s.applicationServer, t: s.ownedTasks, p: s.processId ?? '', sb: s.standbyTasks ?? [], ...(s.transactionalId ? { x: s.transactionalId } : {}) }));
}

const strings = (x: unknown): string[] => (Array.isArray(x) ? x.filter((y): y is string => typeof y === 'string') : []);

export function decodeSubscription(b: Buffer): MemberSubscription {
  try {
    const o = JSON.parse(b.toString('utf8')) as { s?: unknown; t?: unknown; p?: unknown; sb?: unknown; x?: unknown };
    return {
      applicationServer: typeof o.s === 'string' ? o.s : '',
      ownedTasks: strings(o.t),
      processId: typeof o.p === 'string' ? o.p : '',
      standbyTasks: strings(o.sb),
      ...(typeof o.x === 'string' && o.x !== '' ? { transactionalId: o.x } : {}),
    };
  } catch {
    return { applicationServer: '', ownedTasks: [], processId: '', standbyTasks: [] };
  }
}

/**
 * Balanced per sub-topology and sticky: sub-topologies differ in cost (the one with the stores does the
 * work), so each one's tasks are spread over the members on their own: every member keeps the tasks of
 * it that it owned (up to its fair share), the rest go to the member with the fewest of that
 * sub-topology (then the fewest overall), then tasks move until those counts differ by at most one.
 * Balancing only the total would let a member that owned everything keep a whole sub-topology when
 * another joins. Deterministic for the same input (members sorted by id).
 */
export function assignTasks(members: ReadonlyArray<{ memberId: string; owned: readonly string[]; standby?: readonly string[] }>, tasks: readonly string[]): Map<string, string[]> {
  const ids = members.map((m) => m.memberId).sort();
  const out = new Map<string, string[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return out;
  const ownedBy = new Map(members.map((m) => [m.memberId, new Set(m.owned)]));
  const warmAt = new Map(members.map((m) => [m.memberId, new Set(m.standby ?? [])]));
  const groups = new Map<number, string[]>();
  for (const t of [...new Set(tasks)].sort(compareTaskIds)) {
    const st = parseTaskId(t).subTopology;
    groups.set(st, [...(groups.get(st) ?? []), t]);
  }
  for (const group of groups.values()) {
    const cap = Math.ceil(group.length / ids.length);
    const inGroup = new Map<string, string[]>(ids.map((id) => [id, []]));
    const taken = new Set<string>();
    for (const id of ids) {
      for (const t of group) {
        if (!taken.has(t) && ownedBy.get(id)!.has(t) && inGroup.get(id)!.length < cap) {
          inGroup.get(id)!.push(t);
          taken.add(t);
        }
      }
    }
    const load = (id: string): [number, number] => [inGroup.get(id)!.length, out.get(id)!.length + inGroup.get(id)!.length];
    const lighter = (a: string, b: string): boolean => {
      const [x, y] = [load(a), load(b)];
      return x[0] < y[0] || (x[0] === y[0] && x[1] < y[1]);
    };
    const leastLoaded = (): string => ids.reduce((best, id) => (lighter(id, best) ? id : best), ids[0]!);
    // A task without its owner goes to a member that kept it warm as a standby, while that one is under its share.
    for (const t of group) {
      if (taken.has(t)) continue;
      const warm = ids.find((id) => warmAt.get(id)!.has(t) && inGroup.get(id)!.length < cap);
      inGroup.get(warm ?? leastLoaded())!.push(t);
    }
    for (;;) {
      const sorted = [...ids].sort((a, b) => (lighter(a, b) ? -1 : lighter(b, a) ? 1 : 0));
      const min = inGroup.get(sorted[0]!)!;
      const max = inGroup.get(sorted[sorted.length - 1]!)!;
      if (max.length - min.length <= 1) break;
      min.push(max.pop()!);
    }
    for (const id of ids) out.get(id)!.push(...inGroup.get(id)!);
  }
  // Keeping owned tasks group by group can leave the totals apart (a newcomer gets the remainder of
  // every group): move tasks whose group the giver holds more of than the receiver, so both stay balanced.
  const countIn = (id: string, st: number) => out.get(id)!.filter((t) => parseTaskId(t).subTopology === st).length;
  for (;;) {
    const sorted = [...ids].sort((a, b) => out.get(a)!.length - out.get(b)!.length || (a < b ? -1 : 1));
    const min = sorted[0]!;
    const max = sorted[sorted.length - 1]!;
    if (out.get(max)!.length - out.get(min)!.length <= 1) break;
    const movable = [...out.get(max)!].reverse().find((t) => countIn(max, parseTaskId(t).subTopology) > countIn(min, parseTaskId(t).subTopology));
    if (movable === undefined) break;
    out.set(max, out.get(max)!.filter((t) => t !== movable));
    out.get(min)!.push(movable);
  }
  for (const list of out.values()) list.sort(compareTaskIds);
  return out;
}

/**
 * Standby replicas (Kafka Streams' `num.standby.replicas`): for each task with changelogged state, up to
 * `replicas` members other than its active owner keep its stores warm by tailing the changelogs. A member
 * that already keeps a task warm keeps it (its copy is caught up); the rest go to the member with the
 * fewest standbys. Only members with a process id take standbys. Returns processId → standby tasks.
 */
export function assignStandbys(
  members: ReadonlyArray<{ memberId: string; processId: string; standby: readonly string[] }>,
  active: ReadonlyMap<string, readonly string[]>,
  tasks: readonly string[],
  replicas: number,
): Map<string, string[]> {
  const eligible = members.filter((m) => m.processId !== '').sort((a, b) => (a.memberId < b.memberId ? -1 : 1));
  const out = new Map<string, string[]>(eligible.map((m) => [m.processId, []]));
  if (replicas <= 0) return out;
  const ownerOf = new Map<string, string>();
  for (const [memberId, ts] of active) for (const t of ts) ownerOf.set(t, memberId);
  const held = new Map(eligible.map((m) => [m.memberId, new Set(m.standby)]));
  for (const t of [...new Set(tasks)].sort(compareTaskIds)) {
    const chosen = new Set<string>();
    for (let r = 0; r < replicas; r++) {
      const candidates = eligible.filter((m) => m.memberId !== ownerOf.get(t) && !chosen.has(m.memberId));
      if (candidates.length === 0) break;
      const pick = candidates.reduce((best, m) => {
        const [bw, mw] = [held.get(best.memberId)!.has(t), held.get(m.memberId)!.has(t)];
        if (mw !== bw) return mw ? m : best;
        return out.get(m.processId)!.length < out.get(best.processId)!.length ? m : best;
      }, candidates[0]!);
      chosen.add(pick.memberId);
      out.get(pick.processId)!.push(t);
    }
  }
  return out;
}

/** This process's standby tasks, from the assignment user data the leader gave every member. */
export function standbysFromGroup(members: readonly GroupMemberInfo[], processId: string): string[] {
  for (const m of members) {
    try {
      const o = JSON.parse(m.assignmentUserData.toString('utf8')) as { standbys?: { [p: string]: unknown } };
      if (o.standbys) return strings(o.standbys[processId]);
    } catch {
      // Another protocol version: the next member's copy.
    }
  }
  return [];
}

function compareTaskIds(a: string, b: string): number {
  const x = parseTaskId(a);
  const y = parseTaskId(b);
  return x.subTopology - y.subTopology || x.partition - y.partition;
}

/**
 * The group assignor: tasks are (sub-topology, partition), and a task's partition of *every* source
 * topic of its sub-topology goes to the same member (co-partitioning). The leader writes the whole
 * task → applicationServer map into each member's assignment user data.
 */
export class StickyTaskAssignor implements GroupAssignorPort {
  constructor(
    private readonly subTopologies: readonly SubTopologyTopics[],
    private readonly self: () => MemberSubscription,
    /** Standby replicas per task, and which tasks can have one (those with changelogged stores). */
    private readonly standby: { replicas: number; eligible: (taskId: string) => boolean } = { replicas: 0, eligible: () => false },
  ) {}

  memberMetadata(): Buffer {
    return encodeSubscription(this.self());
  }

  assign(
    members: ReadonlyArray<{ memberId: string; metadata: Buffer }>,
    partitionCounts: ReadonlyMap<string, number>,
  ): Map<string, { assignment: TopicPartitions[]; userData: Buffer }> {
    const subs = new Map(members.map((m) => [m.memberId, decodeSubscription(m.metadata)]));
    const tasks: string[] = [];
    for (const st of this.subTopologies) {
      // Co-partitioning is checked at start; the smallest count is the safe choice if it changed since.
      const n = Math.min(...st.topics.map((t) => partitionCounts.get(t) ?? 0));
      for (let p = 0; p < n; p++) tasks.push(taskIdOf(st.id, p));
    }
    const byMember = assignTasks(members.map((m) => ({ memberId: m.memberId, owned: subs.get(m.memberId)!.ownedTasks, standby: subs.get(m.memberId)!.standbyTasks ?? [] })), tasks);
    const hosts: { [task: string]: string } = {};
    for (const [memberId, ts] of byMember) for (const t of ts) hosts[t] = subs.get(memberId)!.applicationServer;
    const standbys = assignStandbys(
      members.map((m) => ({ memberId: m.memberId, processId: subs.get(m.memberId)!.processId ?? '', standby: subs.get(m.memberId)!.standbyTasks ?? [] })),
      byMember,
      tasks.filter((t) => this.standby.eligible(t)),
      this.standby.replicas,
    );
    const userData = Buffer.from(JSON.stringify({ v: 1, hosts, ...(this.standby.replicas > 0 ? { standbys: Object.fromEntries(standbys) } : {}) }));
    const out = new Map<string, { assignment: TopicPartitions[]; userData: Buffer }>();
    for (const [memberId, ts] of byMember) out.set(memberId, { assignment: this.topicPartitions(ts), userData });
    return out;
  }

  topicPartitions(taskIds: readonly string[]): TopicPartitions[] {
    const byTopic = new Map<string, number[]>();
    for (const id of taskIds) {
      const { subTopology, partition } = parseTaskId(id);
      for (const t of this.subTopologies.find((s) => s.id === subTopology)?.topics ?? []) {
        if (!byTopic.has(t)) byTopic.set(t, []);
        byTopic.get(t)!.push(partition);
      }
    }
    return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
  }
}

/** task → applicationServer, from the assignment user data the leader gave every member. */
export function hostMapFromGroup(members: readonly GroupMemberInfo[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of members) {
    try {
      const o = JSON.parse(m.assignmentUserData.toString('utf8')) as { hosts?: { [t: string]: string } };
      for (const [t, h] of Object.entries(o.hosts ?? {})) out.set(t, h);
    } catch {
      // A member that joined with another protocol version: skip it, the others carry the map.
    }
  }
  return out;
}
