import type { Criterion } from './audience-criteria.ts';

/** An audience as the domain evaluates it; `src/config/audiences-config.ts` builds it from YAML. */
export interface AudienceDefinition {
  readonly id: string;
  readonly name: string;
  readonly workspace: string;
  readonly criteria: Criterion;
  readonly version: number;
}
