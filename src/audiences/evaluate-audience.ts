import type { AudienceChange } from '../schema/audience-membership-change.ts';
import type { AudienceMembershipState, ProfileState, WorkspaceProfile } from '../schema/profile-state.ts';
import { dict, entriesOf, get, setEntry, type Dict } from '../shared/dictionary.ts';
import { stateOf, type UserAggregates } from './aggregates.ts';
import { countersOf, type CountComparison, type Criterion } from './audience-criteria.ts';
import type { AudienceDefinition } from './audience-definition.ts';
import { nextChangeAt, windowTotal } from './calculation-state.ts';
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

/** What `evaluateAudiences` reads of a user. */
export interface AudienceInput {
  /** With calculated attributes already brought up to date at `nowMs` (calculated attribute conditions read them). */
  readonly profile: ProfileState;
  /** The audiences' event counters (`audience-criteria.ts`), per workspace; undefined = none yet. */
  readonly aggregates: UserAggregates | undefined;
  readonly nowMs: number;
}

/** Audience id -> membership: the profile's `audience_memberships`. */
export type AudienceMemberships = Dict<AudienceMembershipState>;

/**
 * Whether the user belongs to the audience. Pure; the context gives counts at the evaluation time.
 *
 * @example safe — evaluate audiences in the order `parseAudiencesConfig` returns, so member_of sees fresh results.
 * @example unsafe — evaluating before the batch's events are folded into the counts uses stale windows.
 */
export function evaluateAudience(audience: AudienceDefinition, context: EvaluationContext): boolean {
  return holds(audience.criteria, context);
}

/**
 * The user's memberships at `input.nowMs`: members keep the `added_ms` they have in the profile, new
 * members get `nowMs`. `audiences` must be in dependency order (as `parseAudiencesConfig` returns them),
 * so a `member_of` sees this evaluation's result, not the stored one. A user never seen in an audience's
 * workspace is in none of its audiences, even under `not`.
 *
 * @example safe — `diffMemberships(profile.audience_memberships, evaluateAudiences(audiences, { profile, aggregates, nowMs }))`.
 * @example unsafe — a list sorted by id: an audience may be evaluated before one it is a member_of of.
 */
export function evaluateAudiences(audiences: readonly AudienceDefinition[], input: AudienceInput): AudienceMemberships {
  const { profile, aggregates, nowMs } = input;
  const out = dict<AudienceMembershipState>();
  for (const audience of audiences) {
    const workspace = get(profile.workspaces, audience.workspace);
    if (workspace === undefined) continue;
    const agg = aggregates === undefined ? undefined : get(aggregates.workspaces, audience.workspace);
    const counters = new Map(countersOf(audience.criteria).map((c) => [c.key, c]));
    const isIn = evaluateAudience(audience, {
      profile,
      workspace,
      eventCount: (key) => windowTotal(stateOf(agg, key), counters.get(key)!, nowMs).n,
      isMember: (id) => get(out, id) !== undefined,
    });
    if (!isIn) continue;
    const kept = get(profile.audience_memberships, audience.id);
    setEntry(out, audience.id, kept ?? { audience_name: audience.name, added_ms: nowMs, expiration_ms: null });
  }
  return out;
}

/**
 * The add / delete changes from one membership map to the next, sorted by audience id. A membership of
 * an audience no longer defined is absent from `after`, so it is deleted: downstream must hear it.
 */
export function diffMemberships(before: AudienceMemberships, after: AudienceMemberships): AudienceChange[] {
  const changes: AudienceChange[] = [];
  for (const [id, m] of entriesOf(before)) if (get(after, id) === undefined) changes.push({ audience_id: id, audience_name: m.audience_name, action: 'delete' });
  for (const [id, m] of entriesOf(after)) if (get(before, id) === undefined) changes.push({ audience_id: id, audience_name: m.audience_name, action: 'add' });
  return changes.sort((a, b) => (a.audience_id < b.audience_id ? -1 : a.audience_id > b.audience_id ? 1 : 0));
}

/**
 * When time alone may next change a membership: the earliest time a day of an audience's event
 * counter leaves its window. Null when no audience has a windowed count with events in it. Calculated
 * attribute conditions move with the calculated attributes' own `nextChangeAt`; `refreshUser` takes
 * the minimum of both.
 */
export function nextAudienceChangeAt(audiences: readonly AudienceDefinition[], aggregates: UserAggregates | undefined, nowMs: number): number | null {
  if (aggregates === undefined) return null;
  let next: number | null = null;
  for (const audience of audiences) {
    const agg = get(aggregates.workspaces, audience.workspace);
    for (const counter of countersOf(audience.criteria)) {
      const state = stateOf(agg, counter.key);
      const at = state === undefined ? null : nextChangeAt(state, counter, nowMs);
      if (at !== null && (next === null || at < next)) next = at;
    }
  }
  return next;
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
