import { logLevel, type Consumer } from 'kafkajs';
import { createAvroSerde, createSchemaRegistry } from '../../src/schema/avro-serde.ts';
import type { EnrichedBatch } from '../../src/schema/enriched-batch.ts';
import { SCHEMAS } from '../../src/schema/schema-catalog.ts';
import { benchKafka, sleep } from '../lib/kafka.ts';
import type { SentBatch } from './load.ts';

export interface TopicAudit {
  /** Acknowledged batches with no record on the topic. */
  readonly lost: number;
  /** Records beyond the first for a batch (each at its own offset: a re-delivery to this reader is not one). */
  readonly duplicated: number;
  /** Records whose batch id no acknowledged batch has (never expected). */
  readonly unexpected: number;
  readonly records: number;
}

/**
 * Reads the enriched topics as a downstream consumer does (read committed, its own group) and keeps,
 * per batch id, the distinct offsets it arrived at, and per partition when the service processed each
 * output (`processed_timestamp_ms`, the service's clock): "outputs flow again" is measured from that, not
 * from when this reader got around to them, so the reader's own reconnect after a broker outage is not
 * counted against the service.
 */
export class OutputAudit {
  readonly #offsets = new Map<string, Map<string, Set<string>>>();
  readonly #processedAt = new Map<number, number[]>();
  /** Per topic and partition, the offset after the last record read. */
  readonly #readTo = new Map<string, bigint>();
  /** Outputs on the first topic whose profile `seq` is not the batch's own number (enriched with another state). */
  staleEnrichment = 0;
  readonly staleExamples: string[] = [];
  #consumer: Consumer | undefined;
  readonly #serde;

  constructor(private readonly o: { brokers: readonly string[]; registryUrl: string; topics: readonly string[]; groupId: string; runTag: string }) {
    this.#serde = createAvroSerde<EnrichedBatch>({ registry: createSchemaRegistry(o.registryUrl), schema: SCHEMAS['enriched-batch'] });
    for (const t of o.topics) this.#offsets.set(t, new Map());
  }

  async start(): Promise<void> {
    const kafka = benchKafka(this.o.brokers, `${this.o.groupId}-client`);
    // Retries for ever with a short backoff: a broker outage must not end the audit, and must not make it late.
    const consumer = kafka.consumer({
      groupId: this.o.groupId, readUncommitted: false, maxWaitTimeInMs: 100, sessionTimeout: 10_000, heartbeatInterval: 1000,
      retry: { initialRetryTime: 100, maxRetryTime: 1000, retries: 1_000_000, restartOnFailure: async () => true },
    });
    this.#consumer = consumer;
    void logLevel;
    await consumer.connect();
    await consumer.subscribe({ topics: [...this.o.topics], fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const byId = this.#offsets.get(batch.topic)!;
        const first = batch.topic === this.o.topics[0];
        const last = batch.messages.at(-1);
        if (last) this.#readTo.set(`${batch.topic}/${batch.partition}`, BigInt(last.offset) + 1n);
        for (const m of batch.messages) {
          if (!m.value) continue;
          const value = await this.#serde.deserialize(batch.topic, m.value);
          const id = value.batch.source_request_id ?? '';
          let set = byId.get(id);
          if (!set) byId.set(id, (set = new Set()));
          set.add(`${batch.partition}@${m.offset}`);
          if (first) {
            let list = this.#processedAt.get(batch.partition);
            if (!list) this.#processedAt.set(batch.partition, (list = []));
            list.push(value.processed_timestamp_ms);
            const k = /-k(\d+)$/.exec(id)?.[1];
            const seq = value.profile.user_attributes.seq?.value;
            if (k !== undefined && seq !== String(k)) {
              this.staleEnrichment++;
              if (this.staleExamples.length < 5) this.staleExamples.push(`${id} at ${batch.partition}@${m.offset} carried seq ${String(seq)}`);
            }
          }
        }
      },
    });
  }

  async stop(): Promise<void> {
    await this.#consumer?.disconnect().catch(() => undefined);
  }

  /** The offset after the last record read on this partition (0 when none). */
  readTo(topic: string, partition: number): bigint {
    return this.#readTo.get(`${topic}/${partition}`) ?? 0n;
  }

  /** Every partition of every topic where an expected batch has no record, with how far this reader read there. */
  lostPlaces(expected: ReadonlyMap<string, SentBatch>): Array<{ topic: string; partition: number; auditRead: bigint }> {
    const out: Array<{ topic: string; partition: number; auditRead: bigint }> = [];
    for (const [topic, byId] of this.#offsets) {
      const partitions = new Set<number>();
      for (const [id, sent] of expected) if (!byId.has(id)) partitions.add(sent.partition);
      for (const partition of [...partitions].sort((a, b) => a - b)) out.push({ topic, partition, auditRead: this.readTo(topic, partition) });
    }
    return out;
  }

  /** Records seen on `topic` so far (distinct offsets). */
  records(topic: string): number {
    let n = 0;
    for (const s of this.#offsets.get(topic)!.values()) n += s.size;
    return n;
  }

  /** True once every acknowledged batch has at least one record on every topic. */
  complete(acked: ReadonlyMap<string, SentBatch>): boolean {
    for (const byId of this.#offsets.values()) for (const id of acked.keys()) if (!byId.has(id)) return false;
    return true;
  }

  audit(acked: ReadonlyMap<string, SentBatch>): Record<string, TopicAudit & { lostExamples: string[]; duplicatedExamples: string[] }> {
    const out: Record<string, TopicAudit & { lostExamples: string[]; duplicatedExamples: string[] }> = {};
    for (const [topic, byId] of this.#offsets) {
      let lost = 0;
      let duplicated = 0;
      let unexpected = 0;
      const lostExamples: string[] = [];
      const duplicatedExamples: string[] = [];
      for (const [id, sent] of acked) {
        const n = byId.get(id)?.size ?? 0;
        if (n === 0) {
          lost++;
          if (lostExamples.length < 10) lostExamples.push(`${id} (partition ${sent.partition})`);
        } else if (n > 1) {
          duplicated += n - 1;
          if (duplicatedExamples.length < 10) duplicatedExamples.push(`${id} at ${[...byId.get(id)!].join(', ')}`);
        }
      }
      for (const id of byId.keys()) if (!acked.has(id)) unexpected++;
      out[topic] = { lost, duplicated, unexpected, records: this.records(topic), lostExamples, duplicatedExamples };
    }
    return out;
  }

  /**
   * Milliseconds from `since` until every partition had an output processed after it (undefined while
   * one has none yet).
   */
  flowedAfter(since: number, partitions: number): number | undefined {
    let worst = 0;
    for (let p = 0; p < partitions; p++) {
      let first = Infinity;
      for (const t of this.#processedAt.get(p) ?? []) if (t > since && t < first) first = t;
      if (first === Infinity) return undefined;
      worst = Math.max(worst, first - since);
    }
    return worst;
  }

  /** Waits until every partition flows after `since`; the milliseconds it took, or undefined at the deadline. */
  async waitForFlow(since: number, partitions: number, timeoutMs: number): Promise<number | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ms = this.flowedAfter(since, partitions);
      if (ms !== undefined) return ms;
      if (Date.now() > deadline) return undefined;
      await sleep(100);
    }
  }
}

/**
 * The enriched topics read again from the beginning by a new reader (its own group, read committed), once
 * the run is over: what a downstream consumer starting now would find. The verdict (lost, duplicated,
 * stale) and any resume the live audit could not see come from this, so a live reader that stopped
 * (one long-lived consumer through faults on a loaded machine) is not taken for the service losing data;
 * a loss on the topics shows here all the same.
 */
export async function readOutputsBack(
  o: ConstructorParameters<typeof OutputAudit>[0],
  expected: ReadonlyMap<string, SentBatch>,
  timeoutMs = 90_000,
  quietMs = 10_000,
): Promise<OutputAudit> {
  const reader = new OutputAudit(o);
  await reader.start();
  try {
    const deadline = Date.now() + timeoutMs;
    let seen = -1;
    let lastChange = Date.now();
    while (!reader.complete(expected) && Date.now() < deadline) {
      const n = o.topics.reduce((s, t) => s + reader.records(t), 0);
      if (n !== seen) {
        seen = n;
        lastChange = Date.now();
      } else if (n > 0 && Date.now() - lastChange > quietMs) {
        break;
      }
      await sleep(250);
    }
    // Anything arriving now is a duplicate.
    await sleep(1000);
  } finally {
    await reader.stop();
  }
  return reader;
}
