import type { Mpid } from './batch.ts';

/** mParticle's audience membership change message (schemas/audience-membership-change.avsc). */
export type TypedIdentity = { type: string; value: string };
export type AudienceAction = 'add' | 'delete';
export type AudienceChange = { audience_id: string; audience_name: string | null; action: AudienceAction };

export type AudienceMembershipChange = {
  mpid: Mpid;
  workspace_id: string | null;
  user_identities: TypedIdentity[];
  device_identities: TypedIdentity[];
  audiences: AudienceChange[];
  timestamp_ms: number;
};
