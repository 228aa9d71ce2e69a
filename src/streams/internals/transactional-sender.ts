import { firstPerPartition, sendInChunks } from './coalescing-sender.ts';
import type { OffsetToCommit, ProduceResult } from './kafka-port.ts';
import { OpenTransaction } from './open-transaction.ts';
import type { OutgoingRecord } from './record-collector.ts';

/** What a client does for one transaction; `TransactionalSender` decides when. */
export interface TransactionSteps<T> {
  /** Begins a transaction (the client sends nothing before the first produce). */
  begin(): Promise<T>;
  /** One produce request inside `txn`, below the size limit. */
  send(txn: T, records: readonly OutgoingRecord[]): Promise<ProduceResult[]>;
  /** Adds the input offsets to `txn` (when there are any) and commits it. */
  commit(txn: T, groupId: string, offsets: readonly OffsetToCommit[]): Promise<void>;
  /** Ends `txn` without committing it; never throws. */
  abort(txn: T): Promise<void>;
}

interface Entry {
  readonly records: readonly OutgoingRecord[];
  /** Set on a commit: everything queued before it, and its own records, go into the transaction it ends. */
  readonly commit?: { readonly groupId: string; readonly offsets: readonly OffsetToCommit[] };
  resolve(results: ProduceResult[]): void;
  reject(err: unknown): void;
}

/**
 * The one transactional producer of an instance (exactly-once, KIP-447) carries every task's outputs. A
 * client has one produce request in flight per broker, so sends made one after another would each wait for
 * every send and commit before them: measured, a commit waited 5-245 ms (40 on average) for the early
 * outputs queued ahead of it. Here, as in `CoalescingSender`, everything queued while a request is out
 * leaves together in the next request(s), in call order.
 *
 * A commit is a boundary in that order: the sends queued before it, and its own records, go into the
 * transaction it ends; sends queued after it go into the next one, never into the one it commits (the
 * commit's input offsets were fixed when it was called, and do not cover records processed since).
 *
 * A transaction in which a send failed is aborted at its commit, never committed (`OpenTransaction`).
 */
export class TransactionalSender<T> {
  readonly #queue: Entry[] = [];
  readonly #open: OpenTransaction<T>;
  #busy = false;

  constructor(private readonly steps: TransactionSteps<T>) {
    this.#open = new OpenTransaction(() => steps.begin());
  }

  /** Produces into the open transaction (begun if none); the next `commit` commits it. */
  send(records: readonly OutgoingRecord[]): Promise<ProduceResult[]> {
    if (records.length === 0) return Promise.resolve([]);
    return this.#enqueue(records);
  }

  /** Produces `records` behind everything sent so far, then commits the transaction with `offsets`; aborts it on any failure. */
  commit(records: readonly OutgoingRecord[], groupId: string, offsets: readonly OffsetToCommit[]): Promise<ProduceResult[]> {
    return this.#enqueue(records, { groupId, offsets });
  }

  #enqueue(records: readonly OutgoingRecord[], commit?: Entry['commit']): Promise<ProduceResult[]> {
    return new Promise<ProduceResult[]>((resolve, reject) => {
      this.#queue.push({ records, ...(commit ? { commit } : {}), resolve, reject });
      if (!this.#busy) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#busy = true;
    try {
      while (this.#queue.length > 0) {
        const boundary = this.#queue.findIndex((e) => e.commit !== undefined);
        const batch = this.#queue.splice(0, boundary < 0 ? this.#queue.length : boundary + 1);
        const results = await this.#produce(batch);
        const last = batch[batch.length - 1]!;
        if (last.commit) await this.#commit(last, results.get(last));
      }
    } finally {
      this.#busy = false;
    }
  }

  /** Sends every entry's records in call order; settles the sends (not a commit) and returns each entry's results. */
  async #produce(batch: readonly Entry[]): Promise<Map<Entry, ProduceResult[] | { failed: unknown }>> {
    const out = new Map<Entry, ProduceResult[] | { failed: unknown }>();
    const all = batch.flatMap((e) => e.records);
    try {
      const offsets = all.length === 0 ? [] : await sendInChunks(async (chunk) => this.steps.send(await this.#open.current(), chunk), all);
      let at = 0;
      for (const e of batch) {
        out.set(e, firstPerPartition(e.records, offsets.slice(at, at + e.records.length)));
        at += e.records.length;
      }
    } catch (err) {
      this.#open.sendFailed(err);
      for (const e of batch) out.set(e, { failed: err });
    }
    for (const e of batch) {
      if (e.commit) continue;
      const r = out.get(e)!;
      if (Array.isArray(r)) e.resolve(r);
      else e.reject(r.failed);
    }
    return out;
  }

  async #commit(entry: Entry, produced: ProduceResult[] | { failed: unknown } | undefined): Promise<void> {
    const { transaction, failure } = this.#open.take();
    let txn: T;
    try {
      txn = await transaction;
    } catch (err) {
      entry.reject(err);
      return;
    }
    try {
      if (failure) throw failure.error;
      if (!Array.isArray(produced)) throw produced?.failed ?? new Error('commit records were not produced');
      await this.steps.commit(txn, entry.commit!.groupId, entry.commit!.offsets);
      entry.resolve(produced);
    } catch (err) {
      await this.steps.abort(txn);
      entry.reject(err);
    }
  }
}
