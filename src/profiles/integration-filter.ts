import type { BatchEvent, ConsentState, UserIdentities } from '../schema/batch.ts';
import { dict, entriesOf, setEntry, type Dict } from '../shared/dictionary.ts';
import type { ConsentRules, DataPointFilter, IntegrationFilters } from './integration.ts';

/**
 * An integration's data filter applied to values: which events, attributes and identities it may see.
 * Pure; `enrich.ts` composes these into the enriched batch.
 */

/** Allow mode: only listed points pass. Deny mode ("send new data points by default"): all but the listed. */
export function passes(filter: DataPointFilter, point: string): boolean {
  return filter.mode === 'allow' ? filter.list.has(point) : !filter.list.has(point);
}

/** The name the event-name filter matches: custom event name, screen name, or a commerce event's name. */
export function eventNameOf(event: BatchEvent): string | null {
  switch (event.event_type) {
    case 'custom_event':
      return event.data.event_name;
    case 'screen_view':
      return event.data.screen_name;
    case 'commerce_event':
      return event.data.event_name;
    default:
      return null;
  }
}

/**
 * The events the integration may receive. An event passes when its type passes, its name (if it has
 * one) passes, and — so that a filtered attribute or identity cannot leak through the event stream —
 * an attribute or identity change passes only when that attribute or identity type passes.
 */
export function filterEvents(events: readonly BatchEvent[], filters: IntegrationFilters): BatchEvent[] {
  return events.filter((event) => {
    if (!passes(filters.eventTypes, event.event_type)) return false;
    const name = eventNameOf(event);
    if (name !== null && !passes(filters.eventNames, name)) return false;
    if (event.event_type === 'user_attribute_change') return passes(filters.userAttributes, event.data.user_attribute_name);
    if (event.event_type === 'user_identity_change') {
      const type = event.data.new?.identity_type ?? event.data.old?.identity_type;
      return type === undefined || passes(filters.identities, type);
    }
    return true;
  });
}

/** The entries of a name-keyed record whose names pass (a null-prototype copy). */
export function filterByName<T>(record: Dict<T>, filter: DataPointFilter): Dict<T> {
  const out = dict<T>();
  for (const name of Object.keys(record)) if (passes(filter, name)) setEntry(out, name, record[name] as T);
  return out;
}

/** The batch's identities with those the integration may not see set to null ("not sent"). */
export function filterUserIdentities(identities: UserIdentities, filter: DataPointFilter): UserIdentities {
  const out = { ...identities };
  for (const type of Object.keys(out) as (keyof UserIdentities)[]) {
    if (!passes(filter, type)) out[type] = null;
  }
  return out;
}

/**
 * Whether the user's consent (the workspace's, after the merge) lets this integration receive anything.
 * A purpose never decided counts as not consented: consent is opt-in.
 */
export function consentAllows(consent: ConsentState, rules: ConsentRules): boolean {
  if (rules.blockOnCcpaDataSaleOptOut && consent.ccpa.data_sale_opt_out?.consented === true) return false;
  if (rules.requiredGdprPurposes.length === 0) return true;
  const consented = new Set<string>();
  for (const [purpose, decision] of entriesOf(consent.gdpr)) {
    if (decision.consented) consented.add(purpose.toLowerCase());
  }
  return rules.requiredGdprPurposes.every((purpose) => consented.has(purpose));
}
