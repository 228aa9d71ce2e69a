import type { IdentityType } from '../schema/batch.ts';
import type { StateDefinition } from './calculation-state.ts';
import type { ValueCondition } from './value-condition.ts';

/**
 * An audience's event condition keeps its own per-day count in the user's aggregates, under `key`
 * (a content hash of condition and window): two audiences with the same condition share it. The key is
 * its own version (a changed condition is another counter), so `version` is always 0.
 */
export interface EventCounter extends StateDefinition {
  readonly key: string;
  readonly version: 0;
  readonly attribute: null;
}

export type CountComparison = { readonly op: 'at_least' | 'at_most' | 'exactly'; readonly n: number };

/** An audience's criteria tree: and / or / not over leaf conditions. */
export type Criterion =
  | { readonly kind: 'all'; readonly of: readonly Criterion[] }
  | { readonly kind: 'any'; readonly of: readonly Criterion[] }
  | { readonly kind: 'not'; readonly of: Criterion }
  | { readonly kind: 'event'; readonly counter: EventCounter; readonly count: CountComparison }
  | { readonly kind: 'user_attribute'; readonly name: string; readonly condition: ValueCondition }
  | { readonly kind: 'calculated_attribute'; readonly name: string; readonly condition: ValueCondition }
  | { readonly kind: 'identity_exists'; readonly identity: IdentityType }
  | { readonly kind: 'gdpr_consented'; readonly purpose: string }
  | { readonly kind: 'ccpa_data_sale_opted_out'; readonly value: boolean }
  | { readonly kind: 'member_of'; readonly audience: string }
  | { readonly kind: 'first_seen_before'; readonly ms: number }
  | { readonly kind: 'first_seen_after'; readonly ms: number };

/** Every event counter in a criteria tree. */
export function countersOf(criterion: Criterion): EventCounter[] {
  switch (criterion.kind) {
    case 'all':
    case 'any':
      return criterion.of.flatMap(countersOf);
    case 'not':
      return countersOf(criterion.of);
    case 'event':
      return [criterion.counter];
    default:
      return [];
  }
}

/** Audience ids a criteria tree depends on. */
export function audiencesReferenced(criterion: Criterion): string[] {
  switch (criterion.kind) {
    case 'all':
    case 'any':
      return criterion.of.flatMap(audiencesReferenced);
    case 'not':
      return audiencesReferenced(criterion.of);
    case 'member_of':
      return [criterion.audience];
    default:
      return [];
  }
}
