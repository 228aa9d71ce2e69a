import { randomUUID } from 'node:crypto';
import { createTopicTail, type TailRecord } from '../app/kafka/topic-tail.ts';
import { createSchemaRegistry } from '../schema/avro-serde.ts';
import { registryEndpoint } from '../app/client-security.ts';
import type { CliOutput } from './cli-output.ts';
import type { Connection } from './connection.ts';
import { CliError } from './errors.ts';

export interface ConsumeOptions {
  count?: string | undefined;
  timeout?: string | undefined;
  from?: string | undefined;
  follow?: boolean | undefined;
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (Buffer.isBuffer(value)) return value.toString('base64');
  return value;
}

interface PartitionRange {
  partition: number;
  /** First offset to print. */
  start: bigint;
  /** The log end offset when consume started: reading is "at the end" once a fetch reached it. */
  end: bigint;
}

/**
 * Where each partition starts. No `--from`: what is already there, and with `--count N` only the N latest
 * (the user who just produced N batches wants to see those, not the topic's oldest). `beginning`: the
 * first offset. `end`: the end offset now, so only what arrives afterwards is printed.
 */
function startOffsets(offsets: { partition: number; low: string; high: string }[], from: 'latest' | 'beginning' | 'end', count: number): PartitionRange[] {
  return offsets.map(({ partition, low, high }) => {
    const lo = BigInt(low);
    const hi = BigInt(high);
    // Offsets are not one per record: on transactionally written topics every commit marker takes one
    // too (at most one per record here, plus a few aborted ones). Reading 2N + 16 back and keeping the
    // last N records of the partition (flushHeld) gives its N latest.
    const back = hi - BigInt(count === Infinity ? 0 : 2 * count + 16);
    const latest = count === Infinity || back < lo ? lo : back;
    return { partition, start: from === 'end' ? hi : from === 'beginning' ? lo : latest, end: hi };
  });
}

/**
 * `profile-stream consume TOPIC`: prints records as JSON lines (Avro decoded with the writer's schema
 * from the registry; anything else shown as text, with its headers), read-committed, by direct
 * assignment (no consumer group, nothing committed). `--help` (command-specs.ts) documents when it stops.
 */
export async function consumeCommand(conn: Connection, topic: string | undefined, options: ConsumeOptions, out: CliOutput): Promise<number> {
  if (!topic) throw new CliError('PS_ERR_CLI_USAGE', 'consume needs a topic, e.g. profile-stream consume profile-stream.enriched.analytics --count 10');
  const count = options.count !== undefined ? Number(options.count) : Infinity;
  const idleSeconds = options.timeout !== undefined ? Number(options.timeout) : 10;
  if (!(count > 0) || !Number.isInteger(count === Infinity ? 1 : count)) throw new CliError('PS_ERR_CLI_USAGE', `--count ${options.count}: expected a positive whole number`);
  if (!(idleSeconds > 0)) throw new CliError('PS_ERR_CLI_USAGE', `--timeout ${options.timeout}: expected a positive number of seconds`);
  if (options.from !== undefined && options.from !== 'beginning' && options.from !== 'end') {
    throw new CliError('PS_ERR_CLI_USAGE', `--from ${options.from}: expected beginning or end`);
  }
  const from = options.from ?? 'latest';
  const follow = options.follow === true;

  const registry = createSchemaRegistry(registryEndpoint(conn.schemaRegistryUrl, conn.security));
  // Direct assignment, nothing committed: reading must not move the offsets of any real consumer.
  const tail = createTopicTail({ brokers: conn.brokers, clientId: `profile-stream-consume-${randomUUID().slice(0, 8)}`, security: conn.security.kafka, topics: [topic], fromBeginning: true });
  let ranges: PartitionRange[];
  try {
    if (!(await tail.topicExists(topic))) {
      throw new CliError('PS_ERR_CLI_TOPIC_NOT_FOUND', `topic ${topic} does not exist (profile-stream topics lists and creates the declared ones)`);
    }
    ranges = startOffsets(await tail.offsets(topic), from, count);
  } catch (error) {
    await tail.stop();
    throw error;
  }

  // Records of the "latest N" window are held and printed oldest first (by timestamp) once every
  // partition reached its end, so N records from several partitions read as one timeline.
  const held: { partition: number; timestamp: number; line: string }[] = [];
  let holding = from === 'latest' && count !== Infinity;
  const reached = new Set(ranges.filter((r) => r.start >= r.end).map((r) => r.partition));
  // With --count, consume waits (up to --timeout idle seconds) for the rest when the topic has fewer.
  const stopAtEnd = from !== 'end' && !follow && count === Infinity;
  let seen = 0;
  let lastActivity = Date.now();
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const atEnd = () => reached.size === ranges.length;
  /** Prints the N latest of the held records (see startOffsets), once, when every partition reached its end. */
  const flushHeld = () => {
    if (!holding) return;
    holding = false;
    // Each partition's last N by offset (held in offset order), then the N latest of those by timestamp.
    const perPartition = ranges.flatMap((r) => held.filter((h) => h.partition === r.partition).slice(-count));
    for (const h of perPartition.sort((a, b) => a.timestamp - b.timestamp).slice(-count)) {
      out.info(h.line);
      seen += 1;
    }
    held.length = 0;
    if (seen >= count) finish();
  };

  const onRecord = (partition: number, message: TailRecord) => {
    const range = ranges.find((r) => r.partition === partition);
    if (seen >= count || (range && BigInt(message.offset) < range.start)) return Promise.resolve();
    lastActivity = Date.now();
    return print(partition, message, range);
  };
  const print = async (partition: number, message: TailRecord, range: PartitionRange | undefined) => {
    let value: unknown = null;
    if (message.value) {
      try {
        value = message.value[0] === 0 ? await registry.decode(message.value) : message.value.toString('utf8');
      } catch (error) {
        value = { undecodable: (error as Error).message, base64: message.value.toString('base64') };
      }
    }
    const line = JSON.stringify({ partition, offset: message.offset, timestamp: message.timestamp, key: message.key?.toString() ?? null, headers: message.headers, value }, jsonReplacer);
    const beforeEnd = range !== undefined && BigInt(message.offset) < range.end;
    if (holding && beforeEnd) {
      held.push({ partition, timestamp: Number(message.timestamp), line });
      return;
    }
    out.info(line);
    seen += 1;
    if (seen >= count) finish();
  };
  await tail.run({
    onBatch: async (batch) => {
      for (const record of batch.records) await onRecord(batch.partition, record);
    },
    // "Reached the end" comes from the batch's last offset, which counts a closing transaction marker
    // (a fetch that ends in one delivers no record for it).
    onBatchEnd: (_topic, partition, lastOffset) => {
      const range = ranges.find((r) => r.partition === partition);
      if (range && BigInt(lastOffset) >= range.end - 1n) reached.add(partition);
      if (atEnd()) flushHeld();
      if (atEnd() && stopAtEnd) finish();
    },
    onJoin: () => {
      if (from === 'end') out.error(`waiting for new records on ${topic} (Ctrl-C to stop)`);
      if (atEnd()) flushHeld();
      if (atEnd() && stopAtEnd) finish();
    },
  });
  for (const r of ranges) tail.seek(topic, r.partition, r.start.toString());
  const idle = setInterval(() => {
    if (!follow && Date.now() - lastActivity > idleSeconds * 1000) finish();
  }, 250);
  const interrupted = () => finish();
  process.once('SIGINT', interrupted);
  await done;
  clearInterval(idle);
  process.off('SIGINT', interrupted);
  await tail.stop();
  flushHeld();
  out.error(`${seen} record(s) from ${topic}`);
  return count !== Infinity && seen < count ? 1 : 0;
}
