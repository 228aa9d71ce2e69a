import type { Batch } from '../schema/batch.ts';
import type { ProfileState } from '../schema/profile-state.ts';
import { get } from '../shared/dictionary.ts';
import { consentAllows, filterEvents } from './integration-filter.ts';
import type { IntegrationConfig } from './integration.ts';
import { emptyConsentState } from './profile.ts';

/** Why an integration received nothing of a batch. */
export type NotForwardedReason = 'consent' | 'filter' | 'profile-only';

export type ForwardingDecision =
  | { readonly integration: string; readonly forwarded: true; readonly events_forwarded: number; readonly events_total: number }
  | { readonly integration: string; readonly forwarded: false; readonly reason: NotForwardedReason; readonly detail: string };

/**
 * Whether `enrich` sent the batch to the integration, and if not, why. It follows `enrich`'s two
 * checks in the same order (consent first, then "no events left and no profile-only batches"), so for
 * the profile `mergeBatch` returned for this batch (the history record's snapshot) `forwarded` is true
 * exactly when `enrich` returned a batch. The reasons split the second check: the batch had no events
 * at all (`profile-only`), or the integration's filter removed every one (`filter`).
 *
 * @example safe — the snapshot stored with the batch in history is the profile enrich saw:
 * forwardingDecisions(record.batch, record.profile, integrations)
 * @example unsafe — the current profile may have different consent than when the batch was processed:
 * forwardingDecisions(record.batch, await profiles.get(mpid), integrations)
 */
export function forwardingDecision(batch: Batch, profile: ProfileState, integration: IntegrationConfig): ForwardingDecision {
  const consent = get(profile.workspaces, batch.workspace_id)?.consent_state ?? emptyConsentState();
  if (!consentAllows(consent, integration.consent)) {
    const rules = [
      ...(integration.consent.blockOnCcpaDataSaleOptOut ? ['no CCPA data-sale opt-out'] : []),
      ...integration.consent.requiredGdprPurposes.map((p) => `GDPR consent to "${p}"`),
    ];
    return { integration: integration.name, forwarded: false, reason: 'consent', detail: `requires ${rules.join(' and ')}` };
  }
  const events = filterEvents(batch.events, integration.filters);
  if (events.length === 0 && !integration.forwardProfileOnlyBatches) {
    return batch.events.length === 0
      ? { integration: integration.name, forwarded: false, reason: 'profile-only', detail: 'the batch has no events and the integration takes no profile-only batches' }
      : { integration: integration.name, forwarded: false, reason: 'filter', detail: `its filter removed all ${batch.events.length} event(s)` };
  }
  return { integration: integration.name, forwarded: true, events_forwarded: events.length, events_total: batch.events.length };
}

export function forwardingDecisions(batch: Batch, profile: ProfileState, integrations: readonly IntegrationConfig[]): ForwardingDecision[] {
  return integrations.map((i) => forwardingDecision(batch, profile, i));
}
