import type { UserAttributeValue } from '../schema/batch.ts';
import type { ProfileState } from '../schema/profile-state.ts';

export const PROFILE_FIELDS = ['user_identities', 'device_identities', 'user_attributes', 'audience_memberships', 'attribution', 'calculated_attributes'] as const;
export type ProfileField = (typeof PROFILE_FIELDS)[number];

/** Parses `fields=a,b`; undefined when it is missing or names anything else (the caller answers 400). */
export function parseFields(raw: string | undefined): Set<ProfileField> | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const parts = raw.split(',').map((p) => p.trim()).filter(Boolean);
  if (parts.length === 0 || !parts.every((p): p is ProfileField => (PROFILE_FIELDS as readonly string[]).includes(p))) return undefined;
  return new Set(parts);
}

export interface ProfileResponse {
  mpid: string;
  created_timestamp_ms: number;
  last_stored_timestamp_ms: number;
  is_opted_out: boolean;
  limit_ad_tracking: boolean;
  user_identities?: Array<{ type: string; encoding: 'none'; value: string }>;
  device_identities?: Array<{ type: string; encoding: 'none'; value: string }>;
  user_attributes?: Record<string, string | string[]>;
  audience_memberships?: Array<{ audience_id: string; audience_name: string | null; added_timestamp_ms: number; expiration_timestamp_ms: number | null }>;
  /** Not in mParticle's API: each calculated attribute with when it changed and the definition version it was computed with. */
  calculated_attributes?: Array<{ name: string; value: string | string[] | null; updated_timestamp_ms: number; definition_version: number }>;
  attribution?: Array<{ device_application_stamp: string; install_referrer: string | null; publisher: string | null; campaign: string | null; attributed_timestamp_ms: number | null }>;
}

/** mParticle's Profile API gives attribute values as strings or string arrays. */
function asString(value: UserAttributeValue): string | string[] | undefined {
  if (typeof value === 'string') return value;
  if (value === null) return undefined;
  if (Array.isArray(value)) return value.map(String);
  return String(value);
}

/**
 * The Profile API's view of a stored profile, in mParticle's shape: one workspace's attributes
 * (calculated attributes included, overriding a user attribute of the same name), identities of the user.
 * Pure: the routes add nothing but HTTP.
 */
export function toProfileResponse(profile: ProfileState, workspaceId: string, fields: ReadonlySet<ProfileField>): ProfileResponse {
  const ws = profile.workspaces[workspaceId];
  const out: ProfileResponse = {
    mpid: profile.mpid,
    created_timestamp_ms: profile.created_timestamp_ms,
    last_stored_timestamp_ms: profile.last_seen_timestamp_ms,
    is_opted_out: profile.is_opted_out,
    limit_ad_tracking: profile.limit_ad_tracking,
  };
  if (fields.has('user_identities')) {
    out.user_identities = Object.entries(profile.user_identities)
      .filter(([, id]) => id.value !== null)
      .map(([type, id]) => ({ type, encoding: 'none' as const, value: id.value! }))
      .sort((a, b) => a.type.localeCompare(b.type));
  }
  if (fields.has('device_identities')) {
    const seen = new Map<string, { type: string; encoding: 'none'; value: string }>();
    for (const device of Object.values(ws?.devices ?? {})) {
      for (const [type, value] of Object.entries(device.device_identities)) seen.set(`${type}:${value}`, { type, encoding: 'none', value });
    }
    out.device_identities = [...seen.values()].sort((a, b) => a.type.localeCompare(b.type) || a.value.localeCompare(b.value));
  }
  if (fields.has('user_attributes')) {
    const attrs: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
    // for-in rather than Object.entries (no array per entry): the stored maps have no prototype to walk.
    const user = ws?.user_attributes ?? {};
    for (const name in user) {
      const v = asString(user[name]!.value);
      if (v !== undefined) attrs[name] = v;
    }
    const calculated = ws?.calculated_attributes ?? {};
    for (const name in calculated) {
      const v = asString(calculated[name]!.value);
      if (v !== undefined) attrs[name] = v;
    }
    out.user_attributes = attrs;
  }
  if (fields.has('audience_memberships')) {
    out.audience_memberships = Object.entries(profile.audience_memberships).map(([audience_id, m]) => ({
      audience_id,
      audience_name: m.audience_name,
      added_timestamp_ms: m.added_ms,
      expiration_timestamp_ms: m.expiration_ms,
    }));
    // Sorted so every instance gives the same bytes, whatever order the memberships were stored in.
    out.audience_memberships.sort((x, y) => (x.audience_id < y.audience_id ? -1 : x.audience_id > y.audience_id ? 1 : 0));
  }
  if (fields.has('calculated_attributes')) {
    out.calculated_attributes = Object.entries(ws?.calculated_attributes ?? {})
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, c]) => ({ name, value: asString(c.value) ?? null, updated_timestamp_ms: c.updated_ms, definition_version: c.definition_version }));
  }
  if (fields.has('attribution')) {
    out.attribution = Object.entries(ws?.devices ?? {})
      .filter(([, d]) => d.install_attribution !== null)
      .map(([stamp, d]) => ({
        device_application_stamp: stamp,
        install_referrer: d.install_attribution!.install_referrer,
        publisher: d.install_attribution!.publisher,
        campaign: d.install_attribution!.campaign,
        attributed_timestamp_ms: d.install_attribution!.attributed_ms,
      }));
  }
  return out;
}
