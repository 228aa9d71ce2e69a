import type { AudienceChange, AudienceMembershipChange, TypedIdentity } from '../schema/audience-membership-change.ts';
import type { ProfileState } from '../schema/profile-state.ts';
import { entriesOf, get } from '../shared/dictionary.ts';

const byType = (a: TypedIdentity, b: TypedIdentity) => (a.type < b.type ? -1 : a.type > b.type ? 1 : a.value < b.value ? -1 : a.value > b.value ? 1 : 0);

/**
 * mParticle's audience membership change message for one user and workspace: the user's current
 * identities (so a downstream audience can be matched without a profile lookup) and the changes.
 */
export function membershipChange(profile: ProfileState, workspaceId: string, audiences: AudienceChange[], nowMs: number): AudienceMembershipChange {
  const userIdentities = entriesOf(profile.user_identities)
    .filter(([, identity]) => identity.value !== null)
    .map(([type, identity]) => ({ type, value: identity.value! }))
    .sort(byType);
  const deviceIdentities = new Map<string, TypedIdentity>();
  const workspace = get(profile.workspaces, workspaceId);
  for (const [, device] of entriesOf(workspace?.devices ?? {})) {
    for (const [type, value] of entriesOf(device.device_identities)) deviceIdentities.set(`${type}\u0000${value}`, { type, value });
  }
  return {
    mpid: profile.mpid,
    workspace_id: workspaceId,
    user_identities: userIdentities,
    device_identities: [...deviceIdentities.values()].sort(byType),
    audiences: [...audiences].sort((a, b) => (a.audience_id < b.audience_id ? -1 : a.audience_id > b.audience_id ? 1 : 0)),
    timestamp_ms: nowMs,
  };
}
