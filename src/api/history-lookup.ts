import type { HistoryRecord } from '../schema/history-record.ts';
import type { Unavailable } from './profile-lookup.ts';

/** One user's history as the owning instance holds it, oldest first. */
export interface HistoryLookup {
  /** Only for MPIDs this instance owns (see `ProfileLookup.ownerOfProfile`). */
  getHistory(mpid: string): Promise<{ entries: Array<{ key: string; value: HistoryRecord }> } | Unavailable>;
}
