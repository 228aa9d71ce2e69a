import { createReadStream, createWriteStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { CompressionTypes } from 'kafkajs';
import { sampleBatches } from '../../src/generator/sample-batches.ts';
import { createAvroSerde, createSchemaRegistry } from '../../src/schema/avro-serde.ts';
import type { Batch } from '../../src/schema/batch.ts';
import { SCHEMAS } from '../../src/schema/schema-catalog.ts';
import { partitionForKey } from '../../src/streams/partitioner.ts';
import { benchKafka } from './kafka.ts';
import { Progress } from './progress.ts';

export interface WorkloadOptions {
  readonly seed: number;
  readonly batches: number;
  readonly users: number;
  readonly partitions: number;
  readonly workspaceId: string;
  /** Zipf exponent of user activity (default 1; 0 spreads batches uniformly over every user). */
  readonly zipfExponent?: number;
}

/** One encoded raw record: the key (MPID) and the Confluent-framed Avro value, as any producer would send it. */
export interface EncodedRecord {
  readonly key: Buffer;
  readonly value: Buffer;
  readonly partition: number;
}

export interface Workload {
  readonly records: EncodedRecord[];
  readonly distinctUsers: number;
  readonly totalValueBytes: number;
  readonly meanValueBytes: number;
}

export const BENCH_TMP = join(import.meta.dirname, '..', 'tmp');

/**
 * Generates (seeded) and Avro-encodes the workload once, and keeps it in bench/tmp so later runs skip
 * the ~0.5 ms per batch of generation. The encoded value embeds the registry's schema id; the file name
 * includes the registry URL's hash so a fresh stack (new ids) regenerates. Event times are set relative
 * to the day the file was made; a file older than a day is regenerated so records stay within the
 * broker's 7-day retention.
 */
export async function loadWorkload(options: WorkloadOptions, registryUrl: string, subjectTopic: string): Promise<Workload> {
  mkdirSync(BENCH_TMP, { recursive: true });
  const zipf = options.zipfExponent === undefined ? '' : `-z${options.zipfExponent}`;
  const file = join(BENCH_TMP, `workload-s${options.seed}-u${options.users}-b${options.batches}-p${options.partitions}${zipf}-${hash(registryUrl + subjectTopic)}.bin`);
  if (existsSync(file) && Date.now() - statSync(file).mtimeMs < 24 * 3600 * 1000) return readWorkload(file);
  const serde = createAvroSerde<Batch>({ registry: createSchemaRegistry(registryUrl), schema: SCHEMAS.batch });
  const progress = new Progress('generating workload');
  const tmp = `${file}.tmp`;
  const out = createWriteStream(tmp);
  const records: EncodedRecord[] = [];
  const users = new Set<string>();
  let total = 0;
  let i = 0;
  // One event time per millisecond ending now: a million batches span ~17 minutes, all recent.
  const startTimeMs = Date.now() - options.batches - 60_000;
  for (const batch of sampleBatches({ seed: options.seed, users: options.users, batches: options.batches, sources: ['web'], startTimeMs, workspaceId: options.workspaceId, batchIntervalMs: 1, ...(options.zipfExponent === undefined ? {} : { zipfExponent: options.zipfExponent }) })) {
    const value = await serde.serialize(subjectTopic, batch);
    const key = Buffer.from(batch.mpid!);
    const partition = partitionForKey(key, options.partitions);
    records.push({ key, value, partition });
    users.add(batch.mpid!);
    total += value.length;
    const head = Buffer.alloc(9);
    head.writeUInt16BE(key.length, 0);
    head.writeUInt32BE(value.length, 2);
    head.writeUInt8(partition, 6);
    if (!out.write(Buffer.concat([head, key, value]))) await once(out, 'drain');
    progress.update(++i, options.batches);
  }
  out.end();
  await once(out, 'finish');
  await rename(tmp, file);
  return { records, distinctUsers: users.size, totalValueBytes: total, meanValueBytes: total / Math.max(1, records.length) };
}

async function readWorkload(file: string): Promise<Workload> {
  const records: EncodedRecord[] = [];
  const users = new Set<string>();
  let total = 0;
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of createReadStream(file, { highWaterMark: 4 * 1024 * 1024 })) {
    let buf: Buffer = pending.length ? Buffer.concat([pending, chunk as Buffer]) : (chunk as Buffer);
    let at = 0;
    while (buf.length - at >= 9) {
      const kl = buf.readUInt16BE(at);
      const vl = buf.readUInt32BE(at + 2);
      const partition = buf.readUInt8(at + 6);
      if (buf.length - at < 9 + kl + vl) break;
      const key = Buffer.from(buf.subarray(at + 9, at + 9 + kl));
      const value = Buffer.from(buf.subarray(at + 9 + kl, at + 9 + kl + vl));
      records.push({ key, value, partition });
      users.add(key.toString());
      total += vl;
      at += 9 + kl + vl;
    }
    pending = buf.subarray(at);
    buf = pending;
  }
  return { records, distinctUsers: users.size, totalValueBytes: total, meanValueBytes: total / Math.max(1, records.length) };
}

function hash(s: string): string {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h.toString(16);
}

/**
 * Produces the records as fast as the client allows (acks=all, large requests, several in flight), each
 * to its precomputed murmur2 partition; record timestamps are `now` at send.
 */
export async function produceRecords(brokers: readonly string[], topic: string, records: readonly EncodedRecord[], label = `producing to ${topic}`): Promise<number> {
  const producer = benchKafka(brokers, 'bench-producer').producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const progress = new Progress(label);
  const started = Date.now();
  try {
    const chunk = 2000;
    const inflight: Promise<unknown>[] = [];
    for (let i = 0; i < records.length; i += chunk) {
      const slice = records.slice(i, i + chunk);
      const byPartition = new Map<number, { key: Buffer; value: Buffer; partition: number }[]>();
      for (const r of slice) {
        const list = byPartition.get(r.partition) ?? [];
        list.push({ key: r.key, value: r.value, partition: r.partition });
        byPartition.set(r.partition, list);
      }
      inflight.push(producer.sendBatch({ acks: -1, compression: CompressionTypes.None, topicMessages: [{ topic, messages: [...byPartition.values()].flat() }] }));
      if (inflight.length >= 4) await inflight.shift();
      progress.update(Math.min(records.length, i + chunk), records.length);
    }
    await Promise.all(inflight);
  } finally {
    await producer.disconnect();
  }
  return Date.now() - started;
}
