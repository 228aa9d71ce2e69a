import { Producer, findErrorBy, type MessageToProduce } from '@platformatic/kafka';
import { isStreamsError, StreamsError } from '../../errors.ts';
import { TransactionalSender } from '../transactional-sender.ts';
import type { OffsetToCommit, ProduceResult, ProducerPort } from '../kafka-port.ts';
import { CoalescingSender } from '../coalescing-sender.ts';
import type { OutgoingRecord } from '../record-collector.ts';
import type { BaseClientOptions } from './client-options.ts';
import { commitError, isGenerationOver, isProducerFenced, retryDelay, withBrokerErrors } from './errors.ts';
import { callApi, offsetTopics } from './raw-api.ts';

/** What a transactional offset commit needs to know of the group (KIP-447: generation-aware fencing). */
export interface GroupMetadata {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  /** Static membership: the coordinator fences an instance id another process took over. */
  readonly groupInstanceId: string | null;
  readonly coordinatorId: number;
}

export interface ProducerPortOptions {
  readonly base: BaseClientOptions;
  readonly transactionalId?: string;
  /** The live group membership of `groupId` in this process, for TxnOffsetCommit. */
  readonly groupMetadata: (groupId: string) => GroupMetadata | undefined;
  /** Called when a commit found the group moved on or this producer fenced, so the member rejoins. */
  readonly onMigrated: (groupId: string) => void;
}

type Message = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;
type Transaction = Awaited<ReturnType<Producer<Buffer, Buffer, Buffer, Buffer>['beginTransaction']>>;

function toMessages(records: readonly OutgoingRecord[]): Message[] {
  return records.map((r) => {
    const headers = new Map<Buffer, Buffer>();
    for (const [k, v] of Object.entries(r.headers)) if (v !== undefined) headers.set(Buffer.from(k), typeof v === 'string' ? Buffer.from(v) : v);
    const m: Message = { topic: r.topic, partition: r.partition, timestamp: BigInt(r.timestamp), headers };
    if (r.key !== null) m.key = r.key;
    if (r.value !== null) m.value = r.value;
    return m;
  });
}

function toResults(offsets: ReadonlyArray<{ topic: string; partition: number; offset: bigint }> | undefined): ProduceResult[] {
  return (offsets ?? []).map((o) => ({ topic: o.topic, partition: o.partition, baseOffset: o.offset }));
}

/** Attempts of one TxnOffsetCommit on retriable answers (coordinator loading or moved, a connection lost). */
const TXN_OFFSET_COMMIT_ATTEMPTS = 6;

/**
 * Every task's input offsets in ONE TxnOffsetCommit, with the group's generation and member (KIP-447: a
 * member whose generation is over is refused, so a zombie cannot commit). The library sends one request per
 * partition, one after the other: ~0.7 ms each, 16 in a row per commit of an instance with 16 tasks.
 */
async function commitTransactionalOffsets(producer: Producer<Buffer, Buffer, Buffer, Buffer>, transactionalId: string, group: GroupMetadata, offsets: readonly OffsetToCommit[]): Promise<void> {
  const topics = offsetTopics(offsets);
  for (let attempt = 1; ; attempt++) {
    try {
      const metadata = await producer.metadata({ topics: topics.map((t) => t.name) });
      // Read at each attempt: it follows the group coordinator when it moves.
      const broker = metadata.brokers.get(group.coordinatorId);
      if (!broker) throw Object.assign(new Error(`group coordinator ${group.coordinatorId} is not in the cluster metadata`), { canRetry: true });
      await callApi(producer, broker, 'TxnOffsetCommit', transactionalId, group.groupId, producer.producerId, producer.producerEpoch, group.generationId, group.memberId, group.groupInstanceId, topics);
      return;
    } catch (err) {
      // As the library decides: retried unless something in the error chain says it cannot be.
      if (attempt >= TXN_OFFSET_COMMIT_ATTEMPTS || isGenerationOver(err) || isProducerFenced(err) || findErrorBy(err as Error, 'canRetry', false)) throw err;
      await new Promise((resolve) => setTimeout(resolve, retryDelay(producer, 'TxnOffsetCommit', attempt, TXN_OFFSET_COMMIT_ATTEMPTS, err as Error)));
    }
  }
}

/**
 * A producer on @platformatic/kafka: idempotent, acks=all, each call split into requests below the
 * broker's message size limit. With a transactional id it is initialised here (InitProducerId fences a
 * zombie with the same id and aborts its open transaction before the task restores).
 */
export async function createProducerPort(options: ProducerPortOptions): Promise<ProducerPort> {
  const { transactionalId } = options;
  const producer = new Producer<Buffer, Buffer, Buffer, Buffer>({
    ...options.base,
    clientId: transactionalId ? `${options.base.clientId}-${transactionalId}` : `${options.base.clientId}-producer`,
    idempotent: true,
    acks: -1,
    // "No producer yet" in InitProducerId is -1/-1; the library's default 0/0 asks to bump producer 0,
    // which the coordinator refuses with PRODUCER_FENCED once the transactional id belongs to another
    // producer id, i.e. at every restart after a crash.
    producerId: -1n,
    producerEpoch: -1,
    ...(transactionalId ? { transactionalId } : {}),
  });
  if (transactionalId) {
    // The first transaction sends InitProducerId: that is the fencing. Nothing was added to it, so it
    // is dropped locally (EndTxn on an empty transaction is refused with INVALID_TXN_STATE).
    try {
      const t = await producer.beginTransaction();
      await t.cancel();
    } catch (err) {
      await producer.close().catch(() => undefined);
      throw withBrokerErrors(err);
    }
  }
  let closed = false;
  // Each sender has one request or transaction step out at a time (order per partition); a producer is used
  // through one of them: the plain one at-least-once, the transactional one exactly-once.
  const coalesced = new CoalescingSender(async (chunk) => toResults((await producer.send({ messages: toMessages(chunk), acks: -1 })).offsets));
  const transactional = new TransactionalSender<Transaction>({
    begin: () => producer.beginTransaction(),
    send: async (txn, records) => toResults((await txn.send({ messages: toMessages(records) })).offsets),
    commit: async (txn, groupId, offsets) => {
      if (offsets.length > 0) {
        const group = options.groupMetadata(groupId);
        // Between memberships (the coordinator moved with a broker, a rejoin under way): the tasks migrate,
        // as when the generation is over; their transaction is aborted and the rejoin gives them back.
        if (!group) throw new StreamsError('PS_ERR_TASK_MIGRATED', `transaction commit refused: this process has no live membership of group ${groupId} (rejoining)`);
        await txn.addConsumer({ groupId } as never);
        await commitTransactionalOffsets(producer, transactionalId!, group, offsets);
      }
      await txn.commit();
    },
    // An abort the broker refuses (nothing was added yet, or fenced) still ends it here, so the next
    // transaction can begin.
    abort: (txn) => txn.abort().catch(() => txn.cancel().catch(() => undefined)),
  });
  return {
    send(records) {
      return coalesced.send(records);
    },
    sendInTransaction(records) {
      return transactional.send(records).catch((err: unknown) => {
        throw commitError(err, 'produce in transaction');
      });
    },
    sendTransactionally(records, groupId, offsets: readonly OffsetToCommit[]) {
      return transactional.commit(records, groupId, offsets).catch((err: unknown) => {
        const mapped = commitError(err, 'transaction commit');
        if (mapped !== err || isStreamsError(err, 'PS_ERR_TASK_MIGRATED')) options.onMigrated(groupId);
        throw mapped;
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      // Not waiting for sends in flight: with the brokers gone the library retries them for ~17 s, and a
      // close (an outage stopping processing) must make them fail now.
      await producer.close();
    },
  };
}
