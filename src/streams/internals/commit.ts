import { StreamsError } from '../errors.ts';
import type { OffsetToCommit, ProduceResult, ProducerPort } from './kafka-port.ts';
import type { Drained, OutgoingRecord } from './record-collector.ts';
import { changelogOffsetKey } from './restore.ts';
import type { TaskDb } from './rocksdb-task-db.ts';
import { StateMachine } from './state-machine.ts';
import type { StreamTask } from './stream-task.ts';

/** One task's share of a commit. */
export interface CommitUnit {
  readonly task: StreamTask;
  /** The task's RocksDB (only what the commit needs of it); undefined for a task with in-memory stores only. */
  readonly db: Pick<TaskDb, 'hasStaged' | 'commitStaged'> | undefined;
  /** Changelog offsets the task's RocksDB reflects; advanced by a successful commit. */
  readonly changelogOffsets: Map<string, bigint>;
  /** Input offsets committed so far, per topic. */
  readonly committedInput: Map<string, bigint>;
  /**
   * Outputs sent before the commit (`sendOutputsEarly`), each settled to its error or undefined; the
   * commit waits for them and fails if one failed, so input offsets never pass an output not acked.
   */
  readonly inFlight: Array<Promise<unknown>>;
}

/**
 * Bytes of a task's early sends that may wait for their acks at once. A step that leaves more waits for the
 * oldest, so a task that processes faster than its outputs are acknowledged (a backlog; under exactly-once every
 * send also queues behind the transaction's commit steps) cannot pile its outputs up in memory: at 200,000 users
 * with a backlog, unbounded, exactly-once peaked at ~650-700 MB RSS, and at ~420-430 MB with two sends
 * outstanding per task (about this many bytes; bench/ANALYSIS.md "Memory at 200,000 users, session 9"). A bound
 * in bytes rather than sends: at a steady rate a task's few small sends stay far below it, so no step waits and
 * latency is untouched. Kafka's producer bounds the same with `buffer.memory`.
 */
export const MAX_EARLY_BYTES_IN_FLIGHT = 512 * 1024;

/** Bytes each early send carries, to weigh a task's outstanding ones. */
const sendBytes = new WeakMap<Promise<unknown>, number>();

/**
 * Sends what the task's processors output so far without waiting for the acks (at-least-once: plainly;
 * exactly-once: into the instance's open transaction), so producing overlaps processing and outputs
 * leave within a fetch instead of a commit interval. Changelog records stay for the commit. Resolves once
 * the task's sends still waiting for acks carry at most `maxUnackedBytes` (default `MAX_EARLY_BYTES_IN_FLIGHT`).
 */
export async function sendOutputsEarly(
  unit: CommitUnit,
  ctx: Pick<CommitContext, 'partitionsOf' | 'producer' | 'exactlyOnce'> & { readonly onAcked?: (records: readonly OutgoingRecord[]) => void; readonly maxUnackedBytes?: number },
): Promise<void> {
  const records = await unit.task.collector.drainOutputs(ctx.partitionsOf);
  if (records.length === 0) return;
  const sending = ctx.exactlyOnce ? ctx.producer.sendInTransaction(records) : ctx.producer.send(records);
  // Settled here so a failure is not an unhandled rejection before the commit looks at it.
  const settled = sending.then(
    () => {
      ctx.onAcked?.(records);
      return undefined;
    },
    (err: unknown) => err ?? new Error('send failed'),
  );
  let bytes = 0;
  for (const r of records) bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0);
  sendBytes.set(settled, bytes);
  unit.inFlight.push(settled);
  // The oldest are waited for but left in place: the commit still takes them, and sees their errors.
  const limit = ctx.maxUnackedBytes ?? MAX_EARLY_BYTES_IN_FLIGHT;
  const outstanding = [...unit.inFlight];
  let unacked = outstanding.reduce((sum, p) => sum + (sendBytes.get(p) ?? 0), 0);
  for (const p of outstanding) {
    if (unacked <= limit) break;
    await p;
    unacked -= sendBytes.get(p) ?? 0;
  }
}

export interface CommitContext {
  readonly groupId: string;
  readonly partitionsOf: (topic: string) => number | Promise<number>;
  /**
   * The instance's one producer. Exactly-once: transactional, and every task's outputs, changelog records
   * and input offsets go into its one transaction (KIP-447: fenced by the group generation, not by a
   * producer per task).
   */
  readonly producer: ProducerPort;
  readonly exactlyOnce: boolean;
  readonly commitInputOffsets: (offsets: readonly OffsetToCommit[]) => Promise<void>;
}

type CommitState = 'started' | 'prepared' | 'committed' | 'failed';
const COMMIT_TRANSITIONS: { readonly [S in CommitState]: readonly CommitState[] } = {
  started: ['prepared', 'failed'],
  prepared: ['committed', 'failed'],
  committed: [],
  failed: [],
};

/**
 * The only place that knows the commit order.
 *
 *  1. Flush every task's write cache: change logging turns dirty entries into changelog records in the
 *     task's collector, and the RocksDB layer stages them (nothing written to RocksDB yet).
 *  2. Produce everything collected (outputs, dead letters, changelog records) behind the outputs sent
 *     early (`sendOutputsEarly`), and wait for all their acks, in ONE produce call for all tasks.
 *     Exactly-once: in the instance's open transaction, together with every task's input offsets
 *     (TxnOffsetCommit with the group generation), then commit the transaction. Because that transaction
 *     holds every task's early outputs, an exactly-once commit covers every running task.
 *  3. Write each task's staged RocksDB writes plus the new changelog offsets as ONE write batch.
 *     RocksDB is therefore never ahead of the changelog: a crash before this step restores the
 *     missing tail from the changelog.
 *  4. At-least-once: commit the input offsets (exactly-once committed them in step 2).
 *
 * Steps 1 and the start of 2 are `beginCommit`, which must run where processing is excluded (the app's
 * mutex): it fixes what this commit covers. The waits of steps 2-4 are the returned `InFlightCommit`,
 * which may run while processing goes on, because nothing it touches changes underneath it: later
 * writes stay in the write caches (the next commit's step 1), later outputs queue behind this commit on
 * the same producer (under exactly-once they open the next transaction), and the staged RocksDB writes
 * are only changed by a step 1, which the caller must not start before this commit settled (`settled`).
 *
 * A failure anywhere marks the commit `failed` and rejects with PS_ERR_COMMIT_FAILED; nothing of a
 * failed commit reaches RocksDB, and the caller must drop the tasks' uncommitted state (the records
 * processed since are above the committed input offsets and will be read again).
 */
export async function beginCommit(units: readonly CommitUnit[], ctx: CommitContext): Promise<InFlightCommit> {
  const machine = new StateMachine<CommitState>('commit', 'started', COMMIT_TRANSITIONS);
  const fail = (err: unknown): StreamsError => {
    if (machine.canMoveTo('failed')) machine.moveTo('failed');
    return new StreamsError('PS_ERR_COMMIT_FAILED', `commit of tasks ${units.map((u) => u.task.id).join(', ')} failed in state ${machine.state}: ${(err as Error).message}`, { cause: err });
  };
  let drained: Drained[];
  let inputOffsets: OffsetToCommit[][];
  let early: Array<Promise<unknown>>;
  let sending: Promise<ProduceResult[][]>;
  try {
    // Step 1.
    await Promise.all(units.map((u) => u.task.flushStores()));
    drained = await Promise.all(units.map((u) => u.task.collector.drain(ctx.partitionsOf)));
    inputOffsets = units.map((u) => pendingInputOffsets(u));
    machine.moveTo('prepared');
    // Step 2, started. Outputs sent early are ahead of these on the same producer, in order.
    early = units.flatMap((u) => u.inFlight.splice(0));
    const records = drained.flatMap((d) => d.records);
    const all = ctx.exactlyOnce
      ? records.length === 0 && inputOffsets.every((o) => o.length === 0) && early.length === 0
        ? Promise.resolve([])
        : ctx.producer.sendTransactionally(records, ctx.groupId, inputOffsets.flat())
      : ctx.producer.send(records);
    sending = all.then((r) => units.map(() => r));
  } catch (err) {
    throw fail(err);
  }
  sending.catch(() => undefined); // observed in `settled`; not an unhandled rejection meanwhile

  const settled = (async (): Promise<void> => {
    try {
      // Step 2, waited for: the early outputs first, so input offsets never pass an output not acked.
      const earlyError = (await Promise.all(early)).find((e: unknown) => e !== undefined);
      if (earlyError !== undefined) throw earlyError;
      const results = await sending;
      // Step 3.
      await Promise.all(
        units.map(async (u, i) => {
          const next = nextChangelogOffsets(drained[i]!, results[i]!);
          for (const [k, v] of next) u.changelogOffsets.set(k, v);
          if (u.db && (u.db.hasStaged() || next.size > 0)) await u.db.commitStaged(u.changelogOffsets);
        }),
      );
      // Step 4.
      if (!ctx.exactlyOnce) await ctx.commitInputOffsets(inputOffsets.flat());
      units.forEach((u, i) => {
        for (const o of inputOffsets[i]!) u.committedInput.set(o.topic, o.offset);
      });
      machine.moveTo('committed');
    } catch (err) {
      throw fail(err);
    }
  })();
  settled.catch(() => undefined);
  return { tasks: units.map((u) => u.task.id), settled };
}

/** A commit whose records are on their way: `settled` resolves once it is durable everywhere. */
export interface InFlightCommit {
  readonly tasks: readonly string[];
  readonly settled: Promise<void>;
}

/** `beginCommit` and wait for it: for commits nothing may overtake (rebalance, revoke, close). */
export async function commitTasks(units: readonly CommitUnit[], ctx: CommitContext): Promise<void> {
  await (await beginCommit(units, ctx)).settled;
}

function pendingInputOffsets(u: CommitUnit): OffsetToCommit[] {
  const out: OffsetToCommit[] = [];
  for (const [topic, offset] of u.task.committable) {
    if (u.committedInput.get(topic) !== offset) out.push({ topic, partition: u.task.partition, offset });
  }
  return out;
}

/** The next changelog offset after this commit: base offset of the acked batch + records sent. */
function nextChangelogOffsets(drained: Drained, results: readonly ProduceResult[]): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const c of drained.changelogs) {
    const r = results.find((x) => x.topic === c.topic && x.partition === c.partition);
    if (!r || r.baseOffset < 0n) throw new Error(`no acknowledged offset for changelog ${c.topic}/${c.partition}`);
    out.set(changelogOffsetKey(c.topic, c.partition), r.baseOffset + BigInt(c.count));
  }
  return out;
}
