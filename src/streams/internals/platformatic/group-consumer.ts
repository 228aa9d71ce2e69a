import { Consumer, ListOffsetTimestamps, kOptions, type ClusterMetadata, type ConsumerGroupJoinPayload, type ExtendedGroupProtocolSubscription, type GroupPartitionsAssignments } from '@platformatic/kafka';
import { StreamsError } from '../../errors.ts';
import type { StreamsLogger } from '../logger.ts';
import type { FetchedBatch, GroupConsumerHandlers, GroupConsumerOptions, GroupConsumerPort, OffsetToCommit, TopicPartitions } from '../kafka-port.ts';
import type { BaseClientOptions } from './client-options.ts';
import { commitError, isKafkaUnavailable } from './errors.ts';
import { callApi, offsetTopics } from './raw-api.ts';
import { fetchPartitions, partitionKey, type FetchedPartition } from './fetch.ts';
import type { GroupMetadata } from './producer.ts';

export interface PlatformaticGroupConsumerOptions extends GroupConsumerOptions {
  readonly base: BaseClientOptions;
  /** Static membership (KIP-345): the same id after a restart takes the old member's place at once. */
  readonly groupInstanceId: string | undefined;
  readonly logger: StreamsLogger;
}

export interface PlatformaticGroupConsumer extends GroupConsumerPort {
  /** The membership a transactional offset commit must carry; undefined before the first join. */
  groupMetadata(): GroupMetadata | undefined;
  /** Rejoins the group (after a commit found this member migrated without a rebalance reaching it). */
  rejoin(): void;
}

/** How long fetch errors may go on before the consumer reports a crash (a broker restart fits in it). */
const FETCH_FAILURE_BUDGET_MS = 60_000;
/**
 * A fetch asks the broker to answer within 250 ms. With the brokers gone the library can hold the request
 * for minutes (seen: no answer and no error in 60 s), which hid the outage from the runtime and made a
 * close hang: past this, the brokers count as unavailable.
 */
const FETCH_DEADLINE_MS = 15_000;
/** Leaving the group is best effort once the brokers are gone: a close must end. */
const CLOSE_DEADLINE_MS = 10_000;
/**
 * No connection open and every attempt to open one refused for this long: the brokers are gone (stopped,
 * restarting), not slow. A loaded machine answers late but does not refuse connections, so this can be
 * short; it lets the runtime start its outage recovery while the brokers are away instead of finding out
 * from the fetch deadline, possibly after they are back.
 */
const UNREACHABLE_AFTER_MS = 2_000;
/** How long a broker that refused a connection is left out of fetches before it is tried again. */
const REFUSED_FOR_MS = 5_000;
/** A fetch is watched this often for its deadline and a stop, the brokers for their reachability. */
const FETCH_WATCH_MS = 200;
/**
 * Input fetch sizes. A partition's share of a fetch is what its task processes in one step, so it sets the working
 * set: at 200,000 users with a backlog, 1 MiB per partition (10 MiB per fetch) peaked at ~680-710 MB RSS,
 * 256 KiB (4 MiB) at ~540-560 MB, with the same throughput (bench/ANALYSIS.md "Memory at 200,000 users, session 9").
 * A record batch larger than the limit still comes whole (KIP-74).
 */
const FETCH_MAX_BYTES = 4 * 1024 * 1024;
const FETCH_PARTITION_MAX_BYTES = 256 * 1024;
const STOPPED = Symbol('stopped');

/** `work`, or a PS_ERR_KAFKA_UNAVAILABLE error once `ms` passed without its answer. */
function withinDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StreamsError('PS_ERR_KAFKA_UNAVAILABLE', `${what} got no answer from the brokers within ${ms} ms`)), ms);
  });
  work.catch(() => undefined); // an answer after the deadline is dropped, not an unhandled rejection
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A group member on @platformatic/kafka. Membership (join, sync, heartbeats, static instance id) is the
 * library's classic-protocol Consumer; reading is our own loop over `Consumer.fetch`, because the
 * library's MessagesStream fetches every assigned partition ahead and has no per-partition pause, while
 * the runtime pauses partitions whose task restores and re-reads a batch it did not resolve.
 *
 * Positions: an assigned partition that stays consumed across a rebalance (its task kept running)
 * keeps its position; a new one, or one the runtime keeps paused (its task is recreated from its
 * committed state), starts again from the group's committed offset, else from the beginning.
 */
export function createGroupConsumer(opts: PlatformaticGroupConsumerOptions): PlatformaticGroupConsumer {
  const log = opts.logger;
  const protocol = { name: opts.protocolName, version: 1 };
  let handlers: GroupConsumerHandlers | undefined;
  let joinedOnce = false;
  const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({
    ...opts.base,
    clientId: `${opts.base.clientId}-consumer`,
    groupId: opts.groupId,
    ...(opts.groupInstanceId ? { groupInstanceId: opts.groupInstanceId } : {}),
    sessionTimeout: opts.sessionTimeoutMs,
    // The library refuses a rebalance timeout below the session timeout (Kafka itself does not).
    rebalanceTimeout: Math.max(opts.rebalanceTimeoutMs, opts.sessionTimeoutMs),
    heartbeatInterval: opts.heartbeatIntervalMs,
    // A JoinGroup is answered only when the rebalance completes, up to the rebalance timeout.
    requestTimeout: Math.max(30_000, opts.rebalanceTimeoutMs + 5_000, opts.sessionTimeoutMs + 5_000),
    autocommit: false,
    isolationLevel: opts.readCommitted ? 1 : 0,
    protocols: [protocol],
    // Called before every JoinGroup: the eager protocol's "partitions revoked" point. The runtime commits
    // while its generation is still valid, then the member metadata (owned tasks) is taken after it.
    protocolsMetadata: async (_protocols, _topics, metadata) => {
      rebalancing = true;
      if (joinedOnce) await handlers?.onRebalancing();
      soloUserData(metadata);
      return opts.assignor.memberMetadata();
    },
    partitionAssigner: (_self, members, _topics, metadata) => assign(members, metadata),
  });

  /**
   * The library encodes ONE assignment user data (its options' `assignmentUserData`) for every member,
   * and skips the assigner when the group has a single member. The assignor's user data (the whole
   * task -> host map) is the same for every member, so it is set there before each assignment is
   * encoded; for the single-member case it is computed before the join for this member alone.
   */
  const setAssignmentUserData = (userData: Buffer): void => {
    (consumer as unknown as { [k: symbol]: { assignmentUserData?: Buffer } })[kOptions]!.assignmentUserData = userData;
  };
  const partitionCounts = (metadata: ClusterMetadata): Map<string, number> => new Map(opts.topics.map((t) => [t, metadata.topics.get(t)?.partitionsCount ?? 0]));
  const soloUserData = (metadata: ClusterMetadata): void => {
    const solo = opts.assignor.assign([{ memberId: 'self', metadata: opts.assignor.memberMetadata() }], partitionCounts(metadata));
    setAssignmentUserData(solo.get('self')?.userData ?? Buffer.alloc(0));
  };
  const assign = (members: Map<string, ExtendedGroupProtocolSubscription>, metadata: ClusterMetadata): GroupPartitionsAssignments[] => {
    const result = opts.assignor.assign([...members.values()].map((m) => ({ memberId: m.memberId, metadata: typeof m.metadata === 'string' ? Buffer.from(m.metadata) : (m.metadata ?? Buffer.alloc(0)) })), partitionCounts(metadata));
    const userData = [...result.values()][0]?.userData;
    if (userData) setAssignmentUserData(userData);
    return [...members.keys()].map((memberId) => ({
      memberId,
      assignments: new Map((result.get(memberId)?.assignment ?? []).map((tp) => [tp.topic, { topic: tp.topic, partitions: [...tp.partitions] }])),
    }));
  };

  // Reachability from the consumer's own connections: opened, closed, and attempts refused.
  const openConnections = new Set<unknown>();
  let refusedSince: number | undefined;
  /**
   * Brokers (host:port) whose connection attempt was refused lately: their partitions wait for a new leader.
   * Lately, because a skipped broker gets no new attempt to prove it back: after REFUSED_FOR_MS it is tried
   * again (a refusal puts it back at once), so a broker that returns and leads again is read again.
   */
  const refusing = new Map<string, number>();
  type BrokerEvent = { connection: unknown; broker?: { host: string; port: number } };
  const address = (e: BrokerEvent): string => `${e.broker?.host}:${e.broker?.port}`;
  consumer.on('client:broker:connect', (e: BrokerEvent) => {
    openConnections.add(e.connection);
    refusedSince = undefined;
    refusing.delete(address(e));
  });
  consumer.on('client:broker:disconnect', (e: BrokerEvent) => {
    openConnections.delete(e.connection);
  });
  consumer.on('client:broker:failed', (e: BrokerEvent) => {
    refusing.set(address(e), Date.now());
    if (openConnections.size === 0) refusedSince ??= Date.now();
  });
  const brokerDown = (host: string, port: number): boolean => Date.now() - (refusing.get(`${host}:${port}`) ?? -Infinity) < REFUSED_FOR_MS;
  const unreachableFor = (): number => (refusedSince === undefined || openConnections.size > 0 ? 0 : Date.now() - refusedSince);

  /**
   * Watched apart from the fetch loop, which may be waiting for the runtime (a commit the library keeps
   * retrying holds the lock) when the brokers go: heartbeats keep trying to connect, so refusals show here.
   */
  let watchdog: NodeJS.Timeout | undefined;
  const watchReachability = (h: GroupConsumerHandlers): void => {
    watchdog = setInterval(() => {
      const ms = unreachableFor();
      if (!running || ms < UNREACHABLE_AFTER_MS) return;
      clearInterval(watchdog);
      h.onCrash(new StreamsError('PS_ERR_KAFKA_UNAVAILABLE', `no broker accepted a connection for ${ms} ms`), false);
    }, FETCH_WATCH_MS);
    watchdog.unref();
  };

  /**
   * `work` (a fetch), unless first the consumer stops (STOPPED, so a stop never waits for a fetch the
   * library keeps retrying) or nothing answered within FETCH_DEADLINE_MS (PS_ERR_KAFKA_UNAVAILABLE).
   */
  const watchFetch = <T>(work: Promise<T>): Promise<T | typeof STOPPED> => {
    work.catch(() => undefined); // an answer after giving up is dropped, not an unhandled rejection
    const started = Date.now();
    return new Promise<T | typeof STOPPED>((resolve, reject) => {
      const timer = setInterval(() => {
        if (!running) {
          clearInterval(timer);
          resolve(STOPPED);
        } else if (Date.now() - started >= FETCH_DEADLINE_MS) {
          clearInterval(timer);
          reject(new StreamsError('PS_ERR_KAFKA_UNAVAILABLE', `fetch got no answer from the brokers within ${FETCH_DEADLINE_MS} ms`));
        }
      }, FETCH_WATCH_MS);
      work.then(
        (v) => {
          clearInterval(timer);
          resolve(v);
        },
        (err: unknown) => {
          clearInterval(timer);
          reject(err as Error);
        },
      );
    });
  };

  const assigned = new Map<string, { topic: string; partition: number }>();
  const positions = new Map<string, bigint>();
  const paused = new Set<string>();
  /** Bumped at every assignment: a batch or an offset lookup of an older one is stale. */
  let epoch = 0;
  let rebalancing = true;
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  const poke = (): void => {
    wake?.();
    wake = undefined;
  };

  const onJoin = (payload: ConsumerGroupJoinPayload): void => {
    joinedOnce = true;
    epoch++;
    const assignment: TopicPartitions[] = (payload.assignments ?? []).map((a) => ({ topic: a.topic, partitions: [...a.partitions] }));
    const next = new Map<string, { topic: string; partition: number }>();
    for (const a of assignment) for (const p of a.partitions) next.set(partitionKey(a.topic, p), { topic: a.topic, partition: p });
    const before = new Set(assigned.keys());
    assigned.clear();
    for (const [k, v] of next) assigned.set(k, v);
    for (const k of [...positions.keys()]) if (!next.has(k)) positions.delete(k);
    for (const k of [...paused]) if (!next.has(k)) paused.delete(k);
    // Synchronously, before any fetch of the new generation: the runtime pauses what must restore first.
    handlers?.onAssigned(assignment);
    const lookup = [...next].filter(([k]) => !before.has(k) || paused.has(k) || !positions.has(k)).map(([, tp]) => tp);
    for (const tp of lookup) positions.delete(partitionKey(tp.topic, tp.partition));
    rebalancing = false;
    if (lookup.length > 0) void resolvePositions(lookup, epoch);
    poke();
  };

  const resolvePositions = async (tps: ReadonlyArray<{ topic: string; partition: number }>, at: number): Promise<void> => {
    for (let attempt = 0; running && at === epoch; attempt++) {
      try {
        const byTopic = new Map<string, number[]>();
        for (const tp of tps) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
        const committed = await consumer.listCommittedOffsets({ topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) });
        const missing = tps.filter((tp) => (committed.get(tp.topic)?.[tp.partition] ?? -1n) < 0n);
        const earliest = missing.length === 0 ? new Map<string, bigint[]>() : await consumer.listOffsets({ topics: [...new Set(missing.map((m) => m.topic))], timestamp: ListOffsetTimestamps.EARLIEST });
        if (at !== epoch) return;
        for (const tp of tps) {
          const c = committed.get(tp.topic)?.[tp.partition] ?? -1n;
          positions.set(partitionKey(tp.topic, tp.partition), c >= 0n ? c : (earliest.get(tp.topic)?.[tp.partition] ?? 0n));
        }
        poke();
        return;
      } catch (err) {
        log.warn({ err: (err as Error).message, attempt }, 'could not read committed offsets; retrying');
        if (attempt >= 10) {
          handlers?.onCrash(err as Error, false);
          return;
        }
        await sleep(Math.min(2000, 100 * 2 ** attempt));
      }
    }
  };

  const fetchLoop = async (): Promise<void> => {
    let failingSince: number | undefined;
    while (running) {
      const wanted = rebalancing ? [] : [...assigned].filter(([k]) => !paused.has(k) && positions.has(k)).map(([k, tp]) => ({ ...tp, offset: positions.get(k)! }));
      if (wanted.length === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 100);
        });
        continue;
      }
      const at = epoch;
      let fetched: FetchedPartition[];
      try {
        const answer = await watchFetch(fetchPartitions(consumer, wanted, { isolationLevel: opts.readCommitted ? 1 : 0, maxWaitTime: 250, maxBytes: FETCH_MAX_BYTES, maxBytesPerPartition: FETCH_PARTITION_MAX_BYTES, brokerDown }));
        if (answer === STOPPED) return;
        fetched = answer;
        failingSince = undefined;
      } catch (err) {
        if (!running) return;
        failingSince ??= Date.now();
        // The library retried for about 17 s before this reached us: the brokers are gone, and the runtime's
        // outage recovery (readiness says why, tasks closed until a broker answers) takes over.
        if (isKafkaUnavailable(err) || Date.now() - failingSince > FETCH_FAILURE_BUDGET_MS) throw err;
        log.warn({ err: (err as Error).message }, 'fetch failed; retrying');
        await sleep(500);
        continue;
      }
      for (const f of fetched) {
        if (!running) return;
        const key = partitionKey(f.topic, f.partition);
        // Dropped, to be fetched again: a rebalance began or happened, the partition was paused, or its
        // position moved (re-read from committed). Nothing is handed over between the revoke commit and the
        // next assignment (eager protocol).
        if (at !== epoch || rebalancing || paused.has(key) || positions.get(key) !== f.from) continue;
        if (f.records.length === 0) {
          if (f.nextOffset > f.from) positions.set(key, f.nextOffset);
          continue;
        }
        let resolved: bigint | undefined;
        const lastOffset = BigInt(f.records[f.records.length - 1]!.offset);
        const batch: FetchedBatch = {
          topic: f.topic,
          partition: f.partition,
          records: f.records,
          highWatermark: f.highWatermark,
          resolveOffset: (offset) => {
            resolved = BigInt(offset);
          },
          isRunning: () => running && at === epoch && !rebalancing && !paused.has(key),
        };
        await handlers!.onBatch(batch);
        if (resolved === undefined || at !== epoch || positions.get(key) !== f.from) continue;
        // Fully consumed: skip the control records after it too; else go on after the last resolved one.
        positions.set(key, resolved >= lastOffset ? f.nextOffset : resolved + 1n);
      }
    }
  };

  /** ALOS commit with this member's generation: refused (never retried in a later one) once it is over. */
  const commitOffsets = async (offsets: readonly OffsetToCommit[]): Promise<void> => {
    const generationId = consumer.generationId;
    const memberId = consumer.memberId;
    if (!memberId) throw new StreamsError('PS_ERR_TASK_MIGRATED', 'offset commit refused: this process is not a member of the group (any more)');
    const coordinatorId = await consumer.findGroupCoordinator();
    const metadata = await consumer.metadata({ topics: [...new Set(offsets.map((o) => o.topic))] });
    const broker = metadata.brokers.get(coordinatorId);
    if (!broker) throw new Error(`group coordinator ${coordinatorId} is not in the cluster metadata`);
    await callApi(consumer, broker, 'OffsetCommit', opts.groupId, generationId, memberId, opts.groupInstanceId ?? null, offsetTopics(offsets));
  };

  return {
    async run(h) {
      handlers = h;
      running = true;
      consumer.topics.trackAll(...opts.topics);
      consumer.on('consumer:group:join', onJoin);
      consumer.on('consumer:group:rebalance', () => {
        rebalancing = true;
      });
      // A rejoin that failed for good leaves this process outside the group: the runtime decides.
      consumer.on('error', (err: Error) => {
        if (running) h.onCrash(err, false);
      });
      await consumer.joinGroup({});
      watchReachability(h);
      loop = fetchLoop().catch((err: unknown) => {
        if (running) h.onCrash(err as Error, false);
      });
    },
    pause(tps) {
      for (const tp of tps) for (const p of tp.partitions) paused.add(partitionKey(tp.topic, p));
    },
    resume(tps) {
      // A partition resumed after its task restored starts from the committed offset read *now*: one read at
      // the join can predate the markers of a transaction the coordinator completes after a restart, whose
      // changelog records the restore (which waited for them) already applied.
      const again: Array<{ topic: string; partition: number }> = [];
      for (const tp of tps) {
        for (const p of tp.partitions) {
          const key = partitionKey(tp.topic, p);
          if (paused.delete(key) && assigned.has(key)) {
            positions.delete(key);
            again.push({ topic: tp.topic, partition: p });
          }
        }
      }
      if (again.length > 0) void resolvePositions(again, epoch);
      poke();
    },
    async commit(offsets) {
      if (offsets.length === 0) return;
      for (let attempt = 0; ; attempt++) {
        try {
          await commitOffsets(offsets);
          return;
        } catch (err) {
          const mapped = commitError(err, 'offset commit');
          if (mapped !== err) throw mapped;
          // Coordinator moved or loading, a connection dropped: the same generation may still commit.
          if (attempt >= 5 || (err as { canRetry?: boolean }).canRetry === false) throw err;
          await sleep(100 * 2 ** attempt);
        }
      }
    },
    groupMetadata() {
      const memberId = consumer.memberId;
      let known = consumer.coordinatorId;
      if (!memberId || known === null) return undefined;
      // The library's TxnOffsetCommit reads the coordinator at every retry: read live, it follows the group
      // coordinator when it moves (a broker stopped: the member's heartbeat finds the new one), where a
      // value fixed here had the commit retried ~20 times against the old one before failing.
      return {
        groupId: opts.groupId,
        generationId: consumer.generationId,
        memberId,
        groupInstanceId: opts.groupInstanceId ?? null,
        get coordinatorId(): number {
          const now = consumer.coordinatorId;
          if (now !== null) known = now;
          return known!;
        },
      };
    },
    rejoin() {
      // A rebalance under way (the usual reason a commit was refused) brings the new assignment already.
      if (!running || rebalancing) return;
      rebalancing = true;
      void consumer.joinGroup({}).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'rejoin after a migrated task failed'));
    },
    async stop() {
      running = false;
      clearInterval(watchdog);
      poke();
      await loop?.catch(() => undefined);
      // A clean stop leaves the group at once (a static member too), so its tasks move without waiting.
      await withinDeadline(consumer.close(), CLOSE_DEADLINE_MS, 'leaving the group').catch((err: unknown) => log.warn({ err: (err as Error).message }, 'consumer close failed'));
    },
  };
}
