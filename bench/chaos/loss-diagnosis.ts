import { readFileSync } from 'node:fs';
import { Consumer, ListOffsetTimestamps } from '@platformatic/kafka';

/** Where a lost output may be: what the broker holds, what a read-committed reader may read, what the audit read. */
export interface PartitionPlace {
  readonly topic: string;
  readonly partition: number;
  /** Offset after the last record written (read uncommitted). */
  readonly end: bigint;
  /** Last stable offset: a read-committed reader stops before the first open transaction. */
  readonly stable: bigint;
  /** Offset after the last record the audit read there (0 when none). */
  readonly auditRead: bigint;
}

/**
 * Says, for partitions where outputs went missing, which of three very different failures it was: the
 * service never wrote them (end stays low), a transaction left open holds every reader back (stable far
 * below end), or the audit's own consumer stopped reading (it read less than stable). Without this a lost
 * count in a CI log names no culprit, and the machine that ran it is gone.
 */
export async function locateLoss(
  brokers: readonly string[],
  parts: ReadonlyArray<{ topic: string; partition: number; auditRead: bigint }>,
  group?: { id: string; inputTopic: string },
): Promise<string[]> {
  if (parts.length === 0) return [];
  const consumer = new Consumer({ clientId: 'chaos-loss-diagnosis', groupId: group?.id ?? 'chaos-loss-diagnosis', bootstrapBrokers: [...brokers], autocommit: false, retries: 2 });
  try {
    const topics = [...new Set(parts.map((p) => p.topic))];
    const [end, stable] = await Promise.all([
      consumer.listOffsets({ topics, timestamp: ListOffsetTimestamps.LATEST, isolationLevel: 0 }),
      consumer.listOffsets({ topics, timestamp: ListOffsetTimestamps.LATEST, isolationLevel: 1 }),
    ]);
    const out = parts.map((p): string => {
      const place: PartitionPlace = { ...p, end: end.get(p.topic)?.[p.partition] ?? -1n, stable: stable.get(p.topic)?.[p.partition] ?? -1n };
      return `${place.topic}/${place.partition}: end ${place.end}, stable ${place.stable}, audit read to ${place.auditRead} (${verdict(place)})`;
    });
    if (group) {
      const inputPartitions = [...new Set(parts.map((p) => p.partition))];
      const committed = await consumer.listCommittedOffsets({ topics: [{ topic: group.inputTopic, partitions: inputPartitions }] }).catch(() => undefined);
      const inputEnd = await consumer.listOffsets({ topics: [group.inputTopic], timestamp: ListOffsetTimestamps.LATEST, isolationLevel: 0 });
      for (const p of inputPartitions) out.push(`input ${group.inputTopic}/${p}: end ${inputEnd.get(group.inputTopic)?.[p] ?? '?'}, the service's group committed ${committed?.get(group.inputTopic)?.[p] ?? '?'}`);
    }
    return out;
  } catch (e) {
    return [`could not locate the loss: ${(e as Error).message}`];
  } finally {
    await consumer.close().catch(() => undefined);
  }
}

function verdict(p: PartitionPlace): string {
  if (p.stable < p.end) return 'a transaction is still open there';
  // The last readable offset may be a transaction marker, which no reader hands over as a record.
  if (p.auditRead + 1n < p.stable) return 'the audit consumer stopped short of what is readable';
  return 'not written, or written only in aborted transactions';
}

/**
 * What the instances warned about: each distinct warning or error message of their logs (pino JSON lines,
 * level 40 and up) with how often it came and its first `err`, so a CI log shows the service's side too.
 */
export function logWarnings(files: readonly string[], max = 12): string[] {
  const seen = new Map<string, { count: number; err: string }>();
  for (const file of files) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const o = JSON.parse(line) as { level?: number; msg?: string; err?: unknown };
        if ((o.level ?? 0) < 40) continue;
        const key = `${o.level} ${o.msg ?? ''}`;
        const entry = seen.get(key) ?? { count: 0, err: typeof o.err === 'string' ? o.err : JSON.stringify(o.err ?? '') };
        entry.count++;
        seen.set(key, entry);
      } catch {
        // not a log line
      }
    }
  }
  return [...seen].slice(0, max).map(([k, v]) => `${v.count}x ${k}${v.err ? ` (first: ${v.err.slice(0, 200)})` : ''}`);
}
