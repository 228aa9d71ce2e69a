import { Consumer, ListOffsetTimestamps } from '@platformatic/kafka';
import type { ReadRequest } from '../kafka-port.ts';
import type { BaseClientOptions } from './client-options.ts';
import { fetchPartitions, partitionKey } from './fetch.ts';

/**
 * Small fetches. At 200,000 profiles (670 MB of changelog) 32 MiB fetches of 8 MiB per partition left the process
 * ~150-200 MB larger once restored than 2 MiB ones of 512 KiB (glibc keeps what the large response buffers and
 * write batches leave behind), and restored no faster: the writes, not the round trips, set the pace
 * (bench/ANALYSIS.md "Memory at 200,000 users, session 9"). A batch larger than the limit still comes whole (KIP-74).
 */
const RESTORE_FETCH_BYTES = 2 * 1024 * 1024;
const RESTORE_PARTITION_FETCH_BYTES = 512 * 1024;

/**
 * Restore reads changelog partitions by direct assignment: a Consumer that never joins a group (so no
 * throwaway group is left on the broker) fetches the requested partitions from the given offsets until
 * each reached its end offset. Batches reach `onBatch` in offset order per partition; the next fetch
 * of a partition is sent only after its batch was handed over, so the caller bounds memory by how
 * long it takes (restore's WriteBehind).
 */
export async function readPartitions(base: BaseClientOptions, req: ReadRequest): Promise<void> {
  const wanted = req.partitions.filter((p) => p.from < p.to);
  if (wanted.length === 0) return;
  const positions = new Map(wanted.map((w) => [partitionKey(w.topic, w.partition), { topic: w.topic, partition: w.partition, offset: w.from, to: w.to }]));
  const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({ ...base, clientId: `${base.clientId}-restore`, groupId: `${base.clientId}-restore-reader`, autocommit: false });
  const deadline = Date.now() + req.timeoutMs;
  try {
    // A stored offset below the log start (time retention, deleted records: the history topic serves as
    // its store's changelog) would be refused with OFFSET_OUT_OF_RANGE: what is gone is gone, read from the start.
    const earliest = await consumer.listOffsets({ topics: [...new Set(wanted.map((w) => w.topic))], timestamp: ListOffsetTimestamps.EARLIEST });
    for (const p of positions.values()) {
      const start = earliest.get(p.topic)?.[p.partition];
      if (start !== undefined && start > p.offset) p.offset = start < p.to ? start : p.to;
    }
    for (;;) {
      const open = [...positions.values()].filter((p) => p.offset < p.to);
      if (open.length === 0) return;
      if (Date.now() > deadline) throw new Error(`restore did not reach the end offsets within ${req.timeoutMs} ms`);
      const fetched = await fetchPartitions(consumer, open, {
        isolationLevel: req.readCommitted ? 1 : 0,
        maxWaitTime: 100,
        maxBytes: RESTORE_FETCH_BYTES,
        maxBytesPerPartition: RESTORE_PARTITION_FETCH_BYTES,
      });
      for (const f of fetched) {
        const p = positions.get(partitionKey(f.topic, f.partition));
        if (!p || f.from !== p.offset || f.nextOffset <= f.from) continue;
        await req.onBatch(f.topic, f.partition, f.records, f.nextOffset);
        p.offset = f.nextOffset;
      }
    }
  } finally {
    await consumer.close().catch(() => undefined);
  }
}
