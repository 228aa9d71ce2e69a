import type { Batch } from '../schema/batch.ts';
import { eventTime } from '../shared/write-stamp.ts';

export interface OptOutState {
  readonly is_opted_out: boolean;
  readonly opt_out_updated_ms: number | null;
}

/**
 * Applies the batch's `opt_out` events: last-write-wins by event time. The stored state has no source,
 * so at equal times "opted out" wins — a fixed order keeps every arrival order equal, and this one
 * errs towards the user.
 */
export function mergeOptOut(current: OptOutState, batch: Batch, batchMs: number): { state: OptOutState; changed: boolean } {
  let state = current;
  for (const event of batch.events) {
    if (event.event_type !== 'opt_out') continue;
    const at = eventTime(event, batchMs);
    const since = state.opt_out_updated_ms;
    const value = event.data.is_opted_out;
    if (since === null || at > since || (at === since && value && !state.is_opted_out)) {
      state = { is_opted_out: value, opt_out_updated_ms: at };
    }
  }
  const changed =
    state.is_opted_out !== current.is_opted_out || state.opt_out_updated_ms !== current.opt_out_updated_ms;
  return { state, changed };
}
