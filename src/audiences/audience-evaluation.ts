import type { ProfileState, WorkspaceProfile } from '../schema/profile-state.ts';
import { entriesOf, get } from '../profiles/dictionary.ts';
import type { AudienceDefinition } from './audiences-config.ts';
import type { CountComparison, Criterion } from './criteria.ts';
import { matchesValue } from './value-condition.ts';

/** What criteria read besides the profile: event counts in their windows, and audiences decided so far. */
export interface EvaluationContext {
  readonly profile: ProfileState;
  readonly workspace: WorkspaceProfile;
  /** Matching events of an event counter within its window at the evaluation time. */
  eventCount(counterKey: string): number;
  /** Membership in another audience, as decided in this evaluation (audiences go in dependency order). */
  isMember(audienceId: string): boolean;
}

/**
 * Whether the user belongs to the audience. Pure; the caller gives counts computed at the evaluation time.
 *
 * @example safe — evaluate audiences in the order `parseAudiencesConfig` returns, so member_of sees fresh results.
 * @example unsafe — evaluating before the batch's events are folded into the counts uses stale windows.
 */
export function evaluateAudience(audience: AudienceDefinition, context: EvaluationContext): boolean {
  return holds(audience.criteria, context);
}

export function holds(c: Criterion, x: EvaluationContext): boolean {
  switch (c.kind) {
    case 'all':
      return c.of.every((child) => holds(child, x));
    case 'any':
      return c.of.some((child) => holds(child, x));
    case 'not':
      return !holds(c.of, x);
    case 'event':
      return compareCount(x.eventCount(c.counter.key), c.count);
    case 'user_attribute':
      return matchesValue(c.condition, get(x.workspace.user_attributes, c.name)?.value);
    case 'calculated_attribute':
      return matchesValue(c.condition, get(x.workspace.calculated_attributes, c.name)?.value);
    case 'identity_exists': {
      const identity = get(x.profile.user_identities, c.identity);
      return identity !== undefined && identity.value !== null;
    }
    case 'gdpr_consented':
      // Purpose names are matched case-insensitively, like every string in criteria.
      return entriesOf(x.workspace.consent_state.gdpr).some(([purpose, d]) => purpose.toLowerCase() === c.purpose && d.consented);
    case 'ccpa_data_sale_opted_out':
      return (x.workspace.consent_state.ccpa.data_sale_opt_out?.consented === true) === c.value;
    case 'member_of':
      return x.isMember(c.audience);
    case 'first_seen_before':
      return x.profile.created_timestamp_ms < c.ms;
    case 'first_seen_after':
      return x.profile.created_timestamp_ms >= c.ms;
  }
}

function compareCount(n: number, count: CountComparison): boolean {
  return count.op === 'at_least' ? n >= count.n : count.op === 'at_most' ? n <= count.n : n === count.n;
}
