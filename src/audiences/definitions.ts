import type { TrackedDefinition } from './aggregates.ts';
import type { AudienceDefinition } from './audience-definition.ts';
import type { CalculatedAttributeDefinition } from './calculated-attribute-definition.ts';
import { countersOf } from './audience-criteria.ts';

/** Both YAML files, indexed the way evaluation needs them. */
export interface Definitions {
  readonly calculated: readonly CalculatedAttributeDefinition[];
  /** In dependency order (an audience after the ones it is a member_of of). */
  readonly audiences: readonly AudienceDefinition[];
  /** Workspace -> what to keep per user there: calculated attributes and audience event counters. */
  readonly trackedByWorkspace: ReadonlyMap<string, readonly TrackedDefinition[]>;
  readonly audienceIds: ReadonlySet<string>;
}

export function compileDefinitions(calculated: readonly CalculatedAttributeDefinition[], audiences: readonly AudienceDefinition[]): Definitions {
  const tracked = new Map<string, Map<string, TrackedDefinition>>();
  const add = (workspace: string, def: TrackedDefinition) => {
    const byKey = tracked.get(workspace) ?? new Map<string, TrackedDefinition>();
    byKey.set(def.key, def);
    tracked.set(workspace, byKey);
  };
  for (const c of calculated) add(c.workspace, { key: c.name, version: c.version, event: c.event, attribute: c.attribute, range: c.range });
  for (const a of audiences) {
    for (const counter of countersOf(a.criteria)) add(a.workspace, counter);
  }
  return {
    calculated,
    audiences,
    trackedByWorkspace: new Map([...tracked].map(([ws, byKey]) => [ws, [...byKey.values()]])),
    audienceIds: new Set(audiences.map((a) => a.id)),
  };
}

export function hasDefinitions(d: Definitions): boolean {
  return d.calculated.length > 0 || d.audiences.length > 0;
}
