import type { Calculation } from './calculation.ts';
import type { DateRange } from './date-range.ts';
import type { EventCondition } from './event-condition.ts';

/** A calculated attribute as the domain evaluates it; `src/config/calculated-attributes-config.ts` builds it from YAML. */
export interface CalculatedAttributeDefinition {
  readonly name: string;
  readonly workspace: string;
  readonly calculation: Calculation;
  readonly event: EventCondition;
  /** The event attribute aggregated; null for count, first/last timestamp. */
  readonly attribute: string | null;
  readonly range: DateRange;
  /** Content hash of the definition as written: any change gives a new version (and a recomputation). */
  readonly version: number;
}
