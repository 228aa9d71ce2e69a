import type { Batch } from '../schema/batch.ts';
import type { AudienceMembership, EnrichedAttribute, EnrichedBatch, EnrichedProfile } from '../schema/enriched-batch.ts';
import type { ProfileState, WorkspaceProfile } from '../schema/profile-state.ts';
import { dict, entriesOf, get, mapValues, setEntry, type Dict } from '../shared/dictionary.ts';
import { consentAllows, filterByName, filterEvents, filterUserIdentities, passes } from './integration-filter.ts';
import type { DataPointFilter, IntegrationConfig } from './integration.ts';
import { emptyConsentState } from './profile.ts';

export interface EnrichOptions {
  /** Wall-clock time of processing, passed in (the domain reads no clock); goes to `processed_timestamp_ms`. */
  readonly processedAtMs: number;
}

/**
 * The batch as one integration receives it: its events filtered, and the user's profile after the
 * merge (every attribute of the batch's workspace, every identity, consent, the batch's device,
 * audience memberships, calculated attributes) filtered for the integration. Call it with the profile
 * `mergeBatch` returned for this batch.
 *
 * Undefined when the integration gets nothing: its consent rules fail for this user, or the batch has
 * no events left (none to begin with, or all filtered out) and the integration does not take
 * profile-only batches.
 *
 * @example safe
 * const { profile } = mergeBatch(stored, batch, { recordTimestampMs });
 * for (const integration of config.integrations) {
 *   const out = enrich(batch, profile, integration, { processedAtMs: clock.now() });
 *   if (out !== undefined) context.forward(integration.outputTopic, out);
 * }
 * @example unsafe — enriching with the profile from before the merge sends stale attributes:
 * enrich(batch, stored, integration, options);
 */
export function enrich(
  batch: Batch,
  profile: ProfileState,
  integration: IntegrationConfig,
  options: EnrichOptions,
): EnrichedBatch | undefined {
  const { filters } = integration;
  const workspace = get(profile.workspaces, batch.workspace_id);
  const consent = workspace?.consent_state ?? emptyConsentState();
  if (!consentAllows(consent, integration.consent)) return undefined;

  const events = filterEvents(batch.events, filters);
  if (events.length === 0 && !integration.forwardProfileOnlyBatches) return undefined;

  const stamp = batch.device_info?.device_application_stamp ?? null;
  const device = workspace === undefined || stamp === null ? undefined : get(workspace.devices, stamp);

  const enrichedProfile: EnrichedProfile = {
    mpid: profile.mpid,
    created_timestamp_ms: profile.created_timestamp_ms,
    last_seen_timestamp_ms: profile.last_seen_timestamp_ms,
    is_opted_out: profile.is_opted_out,
    limit_ad_tracking: profile.limit_ad_tracking,
    user_attributes: userAttributes(workspace, filters.userAttributes),
    // Removed identities are kept in the profile as `value: null`; integrations only see present ones.
    user_identities: dict(
      entriesOf(profile.user_identities)
        .filter(([type, identity]) => identity.value !== null && passes(filters.identities, type))
        .map(([type, identity]) => [type, { value: identity.value!, updated_ms: identity.updated_ms }] as const),
    ),
    consent_state: consent,
    device_info: device?.device_info ?? batch.device_info,
    audience_memberships: audienceMemberships(profile),
    // Calculated attributes reach integrations as user attributes do, so the same filter applies.
    calculated_attributes: mapValues(filterByName(workspace?.calculated_attributes ?? {}, filters.userAttributes), (c) => ({
      value: c.value,
      updated_ms: c.updated_ms,
    })),
  };

  return {
    batch: {
      ...batch,
      events,
      // The batch's own attribute and identity fields are filtered too, so nothing filtered out of the
      // profile reaches the integration through them.
      user_attributes: filterByName(batch.user_attributes, filters.userAttributes),
      deleted_user_attributes: batch.deleted_user_attributes.filter((name) => passes(filters.userAttributes, name)),
      user_identities: filterUserIdentities(batch.user_identities, filters.identities),
    },
    integration: integration.name,
    processed_timestamp_ms: options.processedAtMs,
    profile: enrichedProfile,
  };
}

/** Marks a user attribute that a calculated attribute of the same name supplies. */
export const CALCULATED_ATTRIBUTE_SOURCE = 'calculated_attribute';

/**
 * The workspace's user attributes with its calculated attributes folded in: mParticle carries calculated
 * attributes as user attributes, and one named like a user attribute overrides it downstream. A
 * calculated attribute with no value yet (null) does not hide the user attribute.
 */
function userAttributes(workspace: WorkspaceProfile | undefined, filter: DataPointFilter): Dict<EnrichedAttribute> {
  const out = mapValues(filterByName(workspace?.user_attributes ?? {}, filter), (a): EnrichedAttribute => ({
    value: a.value,
    updated_ms: a.updated_ms,
    source: a.source,
  }));
  for (const [name, c] of entriesOf(filterByName(workspace?.calculated_attributes ?? {}, filter))) {
    if (c.value !== null) setEntry(out, name, { value: c.value, updated_ms: c.updated_ms, source: CALCULATED_ATTRIBUTE_SOURCE });
  }
  return out;
}

/** Audience memberships as a list ordered by audience id, so equal profiles give equal output. */
function audienceMemberships(profile: ProfileState): AudienceMembership[] {
  return entriesOf(profile.audience_memberships)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([audienceId, membership]) => ({
      audience_id: audienceId,
      audience_name: membership.audience_name,
      added_ms: membership.added_ms,
      expiration_ms: membership.expiration_ms,
    }));
}
