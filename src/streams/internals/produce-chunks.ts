import type { OutgoingRecord } from './record-collector.ts';

/**
 * The broker refuses a record batch over its `message.max.bytes` (1 MiB by default), and both clients
 * put everything one call sends to one partition into one batch; so a commit's records go out in calls
 * of at most this many bytes, in order (results keep that order, so the first result per partition is
 * the lowest offset).
 */
export const MAX_REQUEST_BYTES = 512 * 1024;

/** Per-record overhead in a v2 record batch, rounded up (varints, attributes, deltas, header framing). */
const RECORD_OVERHEAD = 64;

export function chunksBySize(records: readonly OutgoingRecord[], maxBytes = MAX_REQUEST_BYTES): OutgoingRecord[][] {
  const chunks: OutgoingRecord[][] = [];
  let current: OutgoingRecord[] = [];
  let bytes = 0;
  for (const r of records) {
    let size = (r.key?.length ?? 0) + (r.value?.length ?? 0) + RECORD_OVERHEAD;
    for (const [k, v] of Object.entries(r.headers)) size += k.length + (v === undefined ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length);
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
