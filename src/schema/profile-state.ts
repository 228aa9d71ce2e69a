import type { AttAuthorizationStatus, ConsentState, DeviceInfo, Mpid, UserAttributeValue } from './batch.ts';

/**
 * The `profiles` store value as decoded from schemas/profile-state.avsc. Same conventions as
 * `batch.ts`: every field present, optional ones `T | null`, every map a null-prototype object
 * (attribute names, purposes, workspace ids and audience ids are data).
 */

/** A last-write-wins value's provenance: newer `updated_ms` wins, ties by `source`, then `batch_id`. */
export type Provenance = { updated_ms: number; source: string; batch_id: string | null };

/** An identity; `value: null` records a removal so an older set arriving late cannot undo it. */
export type IdentityState = Provenance & { value: string | null };

export type AttributeState = Provenance & { value: UserAttributeValue };

/** A removed attribute; a set with a later time brings the attribute back. */
export type AttributeTombstone = { deleted_ms: number; source: string; batch_id: string | null };

export type CalculatedAttributeState = { value: UserAttributeValue; updated_ms: number; definition_version: number };

export type InstallAttribution = {
  install_referrer: string | null;
  publisher: string | null;
  campaign: string | null;
  attributed_ms: number | null;
};

/** One app install, keyed by device application stamp in `WorkspaceProfile.devices`. */
export type DeviceState = {
  device_info: DeviceInfo;
  /** Device identity type (`ios_advertising_id`, ...) -> value. */
  device_identities: { [type: string]: string };
  first_seen_ms: number;
  last_seen_ms: number;
  att_status: AttAuthorizationStatus | null;
  att_updated_ms: number | null;
  install_attribution: InstallAttribution | null;
};

/** The part of a profile kept per workspace. */
export type WorkspaceProfile = {
  user_attributes: { [name: string]: AttributeState };
  attribute_tombstones: { [name: string]: AttributeTombstone };
  /** Each GDPR purpose and the CCPA decision carry their own `timestamp_unixtime_ms`. */
  consent_state: ConsentState;
  devices: { [deviceApplicationStamp: string]: DeviceState };
  calculated_attributes: { [name: string]: CalculatedAttributeState };
};

export type AudienceMembershipState = { audience_name: string | null; added_ms: number; expiration_ms: number | null };

export type ProfileState = {
  mpid: Mpid;
  created_timestamp_ms: number;
  last_seen_timestamp_ms: number;
  is_opted_out: boolean;
  opt_out_updated_ms: number | null;
  limit_ad_tracking: boolean;
  /** Identity type -> identity (per user, not per workspace). */
  user_identities: { [type: string]: IdentityState };
  /** Workspace id -> that workspace's attributes, tombstones, consent, devices, calculated attributes. */
  workspaces: { [workspaceId: string]: WorkspaceProfile };
  /** Audience id -> membership (per user). */
  audience_memberships: { [audienceId: string]: AudienceMembershipState };
};
