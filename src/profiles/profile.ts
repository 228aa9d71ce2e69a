import type { ConsentState } from '../schema/batch.ts';
import type { ProfileState, WorkspaceProfile } from '../schema/profile-state.ts';
import { dict } from '../shared/dictionary.ts';

/**
 * The domain works on the stored form itself (`ProfileState`, schemas/profile-state.avsc): the merge
 * reads and returns exactly what the `profiles` store keeps, so there is no second model to drift
 * from it and nothing the merge relies on can be lost across a restore.
 */
export type { ProfileState, WorkspaceProfile } from '../schema/profile-state.ts';

/** A profile that has seen nothing yet; `mergeBatch` starts from this for a new user. */
export function emptyProfile(mpid: string, firstSeenMs: number): ProfileState {
  return {
    mpid,
    created_timestamp_ms: firstSeenMs,
    last_seen_timestamp_ms: firstSeenMs,
    is_opted_out: false,
    opt_out_updated_ms: null,
    limit_ad_tracking: false,
    user_identities: dict(),
    workspaces: dict(),
    audience_memberships: dict(),
  };
}

export function emptyConsentState(): ConsentState {
  return { gdpr: dict(), ccpa: { data_sale_opt_out: null } };
}

export function emptyWorkspace(): WorkspaceProfile {
  return {
    user_attributes: dict(),
    attribute_tombstones: dict(),
    consent_state: emptyConsentState(),
    devices: dict(),
    calculated_attributes: dict(),
  };
}
