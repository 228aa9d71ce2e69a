import type { ProfileState, WorkspaceProfile } from '../schema/profile-state.ts';
import { dict, entriesOf, mapValues } from '../shared/dictionary.ts';

/**
 * The profile a returning user starts from: the last snapshot the history kept, reduced to what
 * survives expiry — consent, user attributes (with their tombstones, so a deleted attribute stays
 * deleted) and user identities. Devices, calculated attributes and audience memberships do not come
 * back: calculated attributes and audiences are evaluated afresh from new events.
 *
 * The batch ids remembered for deduplication are not part of the profile: they stay in the
 * `batch-dedup` store across expiry, so a replay of a batch merged before expiry is still recognised.
 */
export function reengagedProfile(snapshot: ProfileState): ProfileState {
  return {
    mpid: snapshot.mpid,
    created_timestamp_ms: snapshot.created_timestamp_ms,
    last_seen_timestamp_ms: snapshot.last_seen_timestamp_ms,
    is_opted_out: snapshot.is_opted_out,
    opt_out_updated_ms: snapshot.opt_out_updated_ms,
    limit_ad_tracking: false,
    user_identities: dict(entriesOf(snapshot.user_identities)),
    workspaces: mapValues(snapshot.workspaces, restoredWorkspace),
    audience_memberships: dict(),
  };
}

function restoredWorkspace(workspace: WorkspaceProfile): WorkspaceProfile {
  return {
    user_attributes: dict(entriesOf(workspace.user_attributes)),
    attribute_tombstones: dict(entriesOf(workspace.attribute_tombstones)),
    consent_state: workspace.consent_state,
    devices: dict(),
    calculated_attributes: dict(),
  };
}
