import type { ConsentDecision, ConsentState } from '../schema/batch.ts';
import { copyDict, get, setEntry } from '../shared/dictionary.ts';

/**
 * Merges a batch's consent into a workspace's, one last-write-wins register per GDPR purpose and one for
 * CCPA data-sale opt-out, each by the decision's own `timestamp_unixtime_ms` (the time the user decided,
 * which a late batch still carries correctly).
 *
 * The stored decision has no source or batch id, so two decisions of the same millisecond are ordered
 * by what they say: the more private one wins (GDPR: not consented; CCPA: opted out), then the rest of
 * the record as JSON. Any fixed order would do for determinism; this one errs towards the user.
 */
export function mergeConsent(current: ConsentState, incoming: ConsentState | null): { consent_state: ConsentState; changed: boolean } {
  if (incoming === null) return { consent_state: current, changed: false };
  let gdpr = current.gdpr;
  let changed = false;
  for (const purpose of Object.keys(incoming.gdpr)) {
    const decision = incoming.gdpr[purpose]!;
    if (!newer(decision, get(gdpr, purpose) ?? null, false)) continue;
    if (gdpr === current.gdpr) gdpr = copyDict(current.gdpr);
    setEntry(gdpr, purpose, { ...decision });
    changed = true;
  }
  let dataSaleOptOut = current.ccpa.data_sale_opt_out;
  const ccpa = incoming.ccpa.data_sale_opt_out;
  if (ccpa !== null && newer(ccpa, dataSaleOptOut, true)) {
    dataSaleOptOut = { ...ccpa };
    changed = true;
  }
  if (!changed) return { consent_state: current, changed };
  return { consent_state: { gdpr, ccpa: { data_sale_opt_out: dataSaleOptOut } }, changed };
}

/** True when `candidate` should replace `current`; `privateWhen` is the `consented` value that wins a tie. */
function newer(candidate: ConsentDecision, current: ConsentDecision | null, privateWhen: boolean): boolean {
  if (current === null) return true;
  if (candidate.timestamp_unixtime_ms !== current.timestamp_unixtime_ms) {
    return candidate.timestamp_unixtime_ms > current.timestamp_unixtime_ms;
  }
  if (candidate.consented !== current.consented) return candidate.consented === privateWhen;
  return JSON.stringify(candidate) > JSON.stringify(current);
}
