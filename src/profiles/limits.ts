import { BATCH_LIMITS, checkBatchLimits, type BatchLimit } from '../schema/batch-limits.ts';
import type { Batch } from '../schema/batch.ts';
import { LimitExceededError } from './errors.ts';

export { BATCH_LIMITS, type BatchLimit } from '../schema/batch-limits.ts';

/**
 * Throws `LimitExceededError` naming the first limit the batch breaks (mParticle's limits, defined once
 * in `src/schema/batch-limits.ts`, shared with HTTP ingestion). A batch is rejected whole, never
 * truncated: a half-merged batch would make the profile depend on where the cut fell.
 *
 * `serializedBytes` is the size of the record as received (the processor knows it); without it the
 * UTF-8 size of the batch's JSON is used, which is larger than Avro and so errs on the strict side.
 */
export function checkLimits(batch: Batch, serializedBytes?: number): void {
  const size = serializedBytes ?? Buffer.byteLength(JSON.stringify(batch), 'utf8');
  for (const problem of checkBatchLimits(batch, size)) {
    const limit = problem.limit;
    if (limit !== undefined && Object.hasOwn(BATCH_LIMITS, limit)) {
      throw new LimitExceededError(limit as BatchLimit, BATCH_LIMITS[limit as BatchLimit], problem.path, problem.message);
    }
  }
}
