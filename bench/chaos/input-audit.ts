import { createAvroSerde, createSchemaRegistry } from '../../src/schema/avro-serde.ts';
import type { Batch } from '../../src/schema/batch.ts';
import { SCHEMAS } from '../../src/schema/schema-catalog.ts';
import { benchKafka, sleep } from '../lib/kafka.ts';
import type { SentBatch } from './load.ts';

/** What the input topic holds, against what the load producer was told was acknowledged. */
export interface InputAudit {
  readonly records: number;
  /** Distinct batch ids on the input topic. */
  readonly batches: number;
  /** Records beyond the first for a batch id: the load producer's retries wrote them twice (the service must drop the replay). */
  readonly duplicate_copies: number;
  /** Acknowledged batches the input topic does not hold: Kafka lost an acknowledged write. */
  readonly acked_missing: number;
  readonly acked_missing_examples: string[];
  /** Batch ids on the input that were never acknowledged (a send that failed but was written). */
  readonly unacknowledged_written: number;
}

/**
 * Reads the whole input topic back after the run. The load producer's acknowledgements are not taken on
 * trust across broker faults (a retried send can be written twice, and a kafkajs idempotent producer was
 * seen writing 1,010 records for 1,000 acknowledged sends across a leader change): what the input holds
 * is checked against them, and a batch written twice is reported as the producer's doing.
 */
export async function auditInput(o: { brokers: readonly string[]; registryUrl: string; topic: string; groupId: string; acked: ReadonlyMap<string, SentBatch> }): Promise<{ audit: InputAudit; held: ReadonlySet<string> }> {
  const kafka = benchKafka(o.brokers, `${o.groupId}-client`);
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(o.topic);
  await admin.disconnect();
  const want = ends.reduce((s, e) => s + (Number(e.high) - Number(e.low)), 0);
  const serde = createAvroSerde<Batch>({ registry: createSchemaRegistry(o.registryUrl), schema: SCHEMAS.batch });
  const copies = new Map<string, number>();
  let records = 0;
  const consumer = kafka.consumer({ groupId: o.groupId, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics: [o.topic], fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        records++;
        if (!m.value) continue;
        const id = (await serde.deserialize(o.topic, m.value)).source_request_id ?? '';
        copies.set(id, (copies.get(id) ?? 0) + 1);
      }
    },
  });
  const deadline = Date.now() + 120_000;
  while (records < want && Date.now() < deadline) await sleep(200);
  await consumer.disconnect();
  if (records < want) throw new Error(`read ${records} of the input's ${want} records within 120 s`);
  const missing = [...o.acked.keys()].filter((id) => !copies.has(id));
  const audit: InputAudit = {
    records,
    batches: copies.size,
    duplicate_copies: [...copies.values()].reduce((s, n) => s + n - 1, 0),
    acked_missing: missing.length,
    acked_missing_examples: missing.slice(0, 10),
    unacknowledged_written: [...copies.keys()].filter((id) => !o.acked.has(id)).length,
  };
  return { audit, held: new Set(copies.keys()) };
}
