import type { ProduceResult } from './kafka-port.ts';
import { chunksBySize } from './produce-chunks.ts';
import type { OutgoingRecord } from './record-collector.ts';

/** One request's acknowledgement: the offset of its first record per partition. */
export type SendRequest = (records: readonly OutgoingRecord[]) => Promise<ProduceResult[]>;

interface Waiting {
  readonly records: readonly OutgoingRecord[];
  resolve(results: ProduceResult[]): void;
  reject(err: unknown): void;
}

/**
 * An idempotent producer has one request in flight per broker (the library enforces it), so sends made
 * while one is out wait for it. Sent one after another, each waits for every acknowledgement before it:
 * a step's outputs queue behind a commit's changelog chunks and behind each other. Here everything that
 * queued while a request was out leaves together in the next request(s), in call order, so a send waits
 * for at most the request in flight and its own. Order per partition is call order, as before.
 *
 * Each caller gets the offsets of its own records: per partition, the offset of its first record there
 * (`commit.ts` adds the count of a changelog's records to it).
 */
export class CoalescingSender {
  #waiting: Waiting[] = [];
  #busy = false;

  constructor(private readonly request: SendRequest) {}

  send(records: readonly OutgoingRecord[]): Promise<ProduceResult[]> {
    if (records.length === 0) return Promise.resolve([]);
    return new Promise<ProduceResult[]>((resolve, reject) => {
      this.#waiting.push({ records, resolve, reject });
      if (!this.#busy) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#busy = true;
    try {
      while (this.#waiting.length > 0) {
        const calls = this.#waiting.splice(0);
        const all = calls.flatMap((c) => c.records);
        try {
          const offsets = await sendInChunks(this.request, all);
          let at = 0;
          for (const c of calls) {
            c.resolve(firstPerPartition(c.records, offsets.slice(at, at + c.records.length)));
            at += c.records.length;
          }
        } catch (err) {
          for (const c of calls) c.reject(err);
        }
      }
    } finally {
      this.#busy = false;
    }
  }
}

/** Per partition, the offset of the first of `records` there. */
export function firstPerPartition(records: readonly OutgoingRecord[], offsets: readonly bigint[]): ProduceResult[] {
  const out = new Map<string, ProduceResult>();
  records.forEach((r, i) => {
    const key = `${r.topic}\u0000${r.partition}`;
    if (!out.has(key)) out.set(key, { topic: r.topic, partition: r.partition, baseOffset: offsets[i]! });
  });
  return [...out.values()];
}

/** Sends `records` in requests below the size limit, in order; the offset of every record, in order. */
export async function sendInChunks(request: SendRequest, records: readonly OutgoingRecord[]): Promise<bigint[]> {
  const offsets: bigint[] = [];
  for (const chunk of chunksBySize(records)) {
    const results = await request(chunk);
    const next = new Map<string, bigint>();
    for (const r of results) {
      const key = `${r.topic}\u0000${r.partition}`;
      if (!next.has(key)) next.set(key, r.baseOffset);
    }
    for (const rec of chunk) {
      const key = `${rec.topic}\u0000${rec.partition}`;
      const o = next.get(key);
      if (o === undefined) throw new Error(`no acknowledged offset for ${rec.topic}/${rec.partition}`);
      offsets.push(o);
      next.set(key, o + 1n);
    }
  }
  return offsets;
}
