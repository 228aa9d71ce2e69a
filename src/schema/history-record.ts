import type { Batch } from './batch.ts';
import type { ProfileState } from './profile-state.ts';

/** A processed batch and the profile right after it (schemas/history-record.avsc). */
export type HistoryRecord = {
  batch: Batch;
  processed_timestamp_ms: number;
  /** Null marks an erasure in the history (the user must not come back). */
  profile: ProfileState | null;
};
