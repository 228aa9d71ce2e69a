import type { Batch, ConsentState, DeviceInfo, Mpid, UserAttributeValue } from './batch.ts';

/** The enriched output record as decoded from schemas/enriched-batch.avsc (conventions: `batch.ts`). */

export type EnrichedAttribute = { value: UserAttributeValue; updated_ms: number; source: string };
export type EnrichedIdentity = { value: string; updated_ms: number };
export type AudienceMembership = {
  audience_id: string;
  audience_name: string | null;
  added_ms: number;
  expiration_ms: number | null;
};
export type EnrichedCalculatedAttribute = { value: UserAttributeValue; updated_ms: number };

/** The profile after the merge, filtered for one integration. */
export type EnrichedProfile = {
  mpid: Mpid;
  created_timestamp_ms: number;
  last_seen_timestamp_ms: number;
  is_opted_out: boolean;
  limit_ad_tracking: boolean;
  /** All attributes of the batch's workspace, not only those this batch carried. */
  user_attributes: { [name: string]: EnrichedAttribute };
  user_identities: { [type: string]: EnrichedIdentity };
  consent_state: ConsentState;
  /** The device of this batch, as the profile knows it. */
  device_info: DeviceInfo | null;
  audience_memberships: AudienceMembership[];
  calculated_attributes: { [name: string]: EnrichedCalculatedAttribute };
};

export type EnrichedBatch = {
  /** The input batch, its events filtered for the integration. */
  batch: Batch;
  integration: string;
  processed_timestamp_ms: number;
  profile: EnrichedProfile;
};
