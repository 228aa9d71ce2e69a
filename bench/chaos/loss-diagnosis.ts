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
