import type { RecentBatch, RecentBatches } from '../../profiles/batch-dedup.ts';
import type { SyncSerde } from './decode-once.ts';

/**
 * MPID → the user's remembered batches (replay dedup). Its own store so the profile, the profiles
 * changelog and every history snapshot no longer carry the list: it is written only when a batch is
 * merged, at most one changelog record per user per commit (the write cache keeps the last value).
 */
export const BATCH_DEDUP_STORE = 'batch-dedup';

const FORMAT_V1 = 1;
const DIGEST_BYTES = 8;
// The time as a float64: every JS number an Avro long decodes to fits, so encoding never throws at commit.
const ENTRY_BYTES = DIGEST_BYTES + 8;

/**
 * Packed, fixed-width entries: a format byte, then per entry the 8-byte digest and the event time as a
 * big-endian float64, oldest first (16 bytes an entry; 4 KiB for a full list of 256). Far smaller than
 * Avro of the ids themselves (a UUID id alone is 37 bytes), and decoded without a schema walk.
 */
export function recentBatchesSerde(): SyncSerde<RecentBatches> {
  return {
    serialize: (_topic, value) => {
      const out = Buffer.allocUnsafe(1 + value.length * ENTRY_BYTES);
      out[0] = FORMAT_V1;
      let at = 1;
      for (const entry of value) {
        if (out.write(entry.digest, at, DIGEST_BYTES, 'hex') !== DIGEST_BYTES || entry.digest.length !== DIGEST_BYTES * 2) {
          throw new RangeError(`batch digest must be ${DIGEST_BYTES * 2} hex digits, got "${entry.digest}"`);
        }
        out.writeDoubleBE(entry.seen_ms, at + DIGEST_BYTES);
        at += ENTRY_BYTES;
      }
      return out;
    },
    deserialize: (topic, data) => {
      if (data[0] !== FORMAT_V1 || (data.length - 1) % ENTRY_BYTES !== 0) {
        throw new Error(`batch dedup entry on ${topic} has unknown format ${data[0]} or a torn length ${data.length}`);
      }
      const out: RecentBatch[] = new Array((data.length - 1) / ENTRY_BYTES);
      for (let i = 0, at = 1; i < out.length; i++, at += ENTRY_BYTES) {
        out[i] = { digest: data.toString('hex', at, at + DIGEST_BYTES), seen_ms: data.readDoubleBE(at + DIGEST_BYTES) };
      }
      return out;
    },
  };
}
