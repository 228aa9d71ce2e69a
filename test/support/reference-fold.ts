import type { Batch } from '../../src/schema/batch.ts';
import type { ProfileState } from '../../src/schema/profile-state.ts';
import { batchIdOf, type RecentBatches } from '../../src/profiles/batch-dedup.ts';
import { LimitExceededError } from '../../src/profiles/errors.ts';
import { mergeBatch, type MergeOptions } from '../../src/profiles/merge-batch.ts';
import { batchTime } from '../../src/shared/write-stamp.ts';

/**
 * The profile a user should end up with after `batches`, computed the simplest way: sorted by event
 * time (then source, then batch id), merged one after the other. Integration tests compare what the
 * running topology stored against this. Batches over a limit are skipped, as the processor sends them
 * to the dead-letter topic. Undefined when no batch could be merged.
 */
export function referenceFold(batches: readonly Batch[], options: Omit<MergeOptions, 'serializedBytes'> = {}): ProfileState | undefined {
  const keyed = batches.map((batch) => ({
    batch,
    at: batchTime(batch, options.recordTimestampMs),
    source: batch.source,
    id: batchIdOf(batch),
  }));
  keyed.sort((a, b) => a.at - b.at || compare(a.source, b.source) || compare(a.id, b.id));
  let profile: ProfileState | undefined;
  // Remembered batches are threaded through as the processor keeps them in its dedup store.
  let recent: RecentBatches = [];
  for (const { batch } of keyed) {
    try {
      ({ profile, recent } = mergeBatch(profile, batch, { ...options, recent }));
    } catch (error) {
      if (!(error instanceof LimitExceededError)) throw error;
    }
  }
  return profile;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
