import { Admin, FindCoordinatorKeyTypes, decodeConsumerProtocolAssignment, decodeConsumerProtocolSubscription } from '@platformatic/kafka';
import { callApi } from './raw-api.ts';
import { StreamsError } from '../../errors.ts';
import type { AdminPort, GroupMemberInfo, TopicSpec } from '../kafka-port.ts';
import type { StreamsLogger } from '../logger.ts';
import type { BaseClientOptions } from './client-options.ts';
import { brokerErrorIds } from './errors.ts';

/** Broker answers that mean "a topic created a moment ago has no leader yet": wait, do not fail. */
const NOT_READY_YET = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_OR_FOLLOWER', 'FENCED_LEADER_EPOCH']);

/** OffsetFetch answers to wait out: a transaction holds offsets, or the group coordinator is loading or moving. */
const UNSTABLE_OR_MOVING = new Set(['UNSTABLE_OFFSET_COMMIT', 'COORDINATOR_LOAD_IN_PROGRESS', 'NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE']);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function notReadyYet(err: unknown): boolean {
  return [...brokerErrorIds(err)].some((id) => NOT_READY_YET.has(id)) || (err as { canRetry?: boolean }).canRetry === true;
}

interface RawDescribeGroupsMember {
  readonly memberId: string;
  readonly memberMetadata: Buffer;
  readonly memberAssignment: Buffer;
}

export interface PlatformaticAdmin extends AdminPort {
  close(): Promise<void>;
}

export function createAdmin(base: BaseClientOptions, log: StreamsLogger): PlatformaticAdmin {
  const admin = new Admin({ ...base, clientId: `${base.clientId}-admin` });

  /** Retries what a just-created topic answers for a moment (no leader yet), for at most 30 s. */
  const whenReady = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
    const deadline = Date.now() + 30_000;
    for (let attempt = 0; ; attempt++) {
      try {
        return await work();
      } catch (err) {
        if (!notReadyYet(err) || Date.now() > deadline) throw err;
        log.debug({ what, attempt, err: (err as Error).message }, 'not available yet; retrying');
        admin.clearMetadata();
        await sleep(Math.min(1000, 100 * 2 ** attempt));
      }
    }
  };

  const partitionCounts = async (topics: readonly string[]): Promise<Map<string, number>> => {
    const out = new Map<string, number>();
    const existing = new Set(await admin.listTopics());
    const present = [...new Set(topics.filter((t) => existing.has(t)))];
    if (present.length === 0) return out;
    const md = await whenReady('topic metadata', () => admin.metadata({ topics: present, forceUpdate: true }));
    for (const t of present) {
      const count = md.topics.get(t)?.partitionsCount;
      if (count !== undefined) out.set(t, count);
    }
    return out;
  };

  return {
    partitionCounts,
    async createTopics(specs: readonly TopicSpec[]) {
      if (specs.length === 0) return;
      for (const compacted of [true, false]) {
        const group = specs.filter((s) => s.compacted === compacted);
        if (group.length === 0) continue;
        try {
          await admin.createTopics({
            topics: group.map((s) => ({ topic: s.topic, partitions: s.partitions })),
            ...(compacted ? { configs: [{ name: 'cleanup.policy', value: 'compact' }] } : {}),
          });
        } catch (err) {
          // Another instance created them first: what matters is that they exist (checked below).
          if (![...brokerErrorIds(err)].every((id) => id === 'TOPIC_ALREADY_EXISTS')) throw err;
        }
      }
      const topics = specs.map((s) => s.topic);
      await whenReady('created topics', async () => {
        const md = await admin.metadata({ topics, forceUpdate: true });
        const ready = topics.every((t) => {
          const tm = md.topics.get(t);
          return tm !== undefined && tm.partitionsCount > 0 && tm.partitions.every((p) => p.leader >= 0);
        });
        if (!ready) throw Object.assign(new Error(`created topics have no leader yet: ${topics.join(', ')}`), { canRetry: true });
      });
    },
    async endOffsets(topic) {
      return whenReady(`end offsets of ${topic}`, async () => {
        const md = await admin.metadata({ topics: [topic] });
        const count = md.topics.get(topic)?.partitionsCount ?? 0;
        const listed = await admin.listOffsets({
          // Read committed: the last stable offset, so a restore never waits for an open transaction's records.
          isolationLevel: 1,
          topics: [{ name: topic, partitions: Array.from({ length: count }, (_, i) => ({ partitionIndex: i, timestamp: -1n })) }],
        });
        const out = new Map<number, bigint>();
        for (const t of listed) for (const p of t.partitions) out.set(p.partitionIndex, p.offset);
        return out;
      });
    },
    async describeGroup(groupId): Promise<GroupMemberInfo[]> {
      // Admin.describeGroups decodes the member assignments but drops their user data, where the
      // assignor puts the task -> host map; so DescribeGroups is sent here and decoded as a whole.
      const [coordinator] = await admin.findCoordinator({ keyType: FindCoordinatorKeyTypes.GROUP, keys: [groupId] });
      if (!coordinator) throw new Error(`no coordinator for group ${groupId}`);
      const response = await callApi<{ groups: Array<{ members: RawDescribeGroupsMember[] }> }>(admin, { host: coordinator.host, port: coordinator.port }, 'DescribeGroups', [groupId], false);
      return (response.groups[0]?.members ?? []).map((m) => ({
        memberId: m.memberId,
        metadataUserData: m.memberMetadata.length > 0 ? Buffer.from(decodeConsumerProtocolSubscription(m.memberMetadata).userData ?? Buffer.alloc(0)) : Buffer.alloc(0),
        assignmentUserData: m.memberAssignment.length > 0 ? Buffer.from(decodeConsumerProtocolAssignment(m.memberAssignment).userData ?? Buffer.alloc(0)) : Buffer.alloc(0),
      }));
    },
    async waitForStableOffsets(groupId, partitions, timeoutMs) {
      const topics = partitions.filter((tp) => tp.partitions.length > 0).map((tp) => ({ name: tp.topic, partitionIndexes: [...tp.partitions] }));
      if (topics.length === 0) return;
      const started = Date.now();
      for (let attempt = 0; ; attempt++) {
        try {
          // One OffsetFetch per attempt (the library's own call retries for ~17 s before this loop could see
          // its deadline): answered with UNSTABLE_OFFSET_COMMIT while a transaction holds offsets of these.
          const [coordinator] = await admin.findCoordinator({ keyType: FindCoordinatorKeyTypes.GROUP, keys: [groupId] });
          if (!coordinator) throw Object.assign(new Error(`no coordinator for group ${groupId}`), { canRetry: true });
          await callApi(admin, { host: coordinator.host, port: coordinator.port }, 'OffsetFetch', [{ groupId, memberId: null, memberEpoch: -1, topics }], true);
          if (attempt > 0) log.info({ groupId, waitedMs: Date.now() - started }, 'committed offsets are stable: the transaction that held them ended');
          return;
        } catch (err) {
          if (!notReadyYet(err) && ![...brokerErrorIds(err)].some((id) => UNSTABLE_OR_MOVING.has(id))) throw err;
          if (Date.now() - started > timeoutMs) {
            throw new StreamsError('PS_ERR_RESTORE_FAILED', `committed offsets of group ${groupId} stayed unstable for ${timeoutMs} ms: a transaction of a former owner of ${topics.map((t) => `${t.name}[${t.partitionIndexes.join(',')}]`).join(', ')} is still open`, { cause: err });
          }
          if (attempt === 0) log.info({ groupId, err: (err as Error).message }, "waiting for a former owner's open transaction to end before restoring");
          await sleep(Math.min(500, 50 * 2 ** attempt));
        }
      }
    },
    async close() {
      await admin.close();
    },
  };
}
