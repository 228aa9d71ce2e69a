import type { Dict } from '../shared/dictionary.ts';
import { copyDict, dict, get, setEntry } from '../shared/dictionary.ts';
import type { CalculatedAttributeDefinition } from './calculated-attribute-definition.ts';
import { applySeed, type CalculationState, type StateDefinition } from './calculation-state.ts';
import { SeedInvalidError } from './errors.ts';
import type { EventView } from './event-view.ts';
import type { Seed } from './seed.ts';

/**
 * Something kept per user and definition in the `aggregates` store: a calculated attribute (key = its
 * name), or an audience's event counter (key = `~` + content hash). `version` changes when the
 * definition does; state of another version is dropped and rebuilt from the retained events.
 */
export interface TrackedDefinition extends StateDefinition {
  readonly key: string;
}

/** A user's aggregates in one workspace. */
export type WorkspaceAggregates = {
  defs: Dict<CalculationState>;
  /** Recent events, newest last, kept so that a changed definition is recomputed, not blended. */
  log: EventView[];
};

/** The `aggregates` store value, keyed by MPID. */
export type UserAggregates = { workspaces: Dict<WorkspaceAggregates> };

/** How much of a user's events is retained for recomputation: bounded in count and age. */
export interface RetentionLimits {
  readonly maxEvents: number;
  readonly maxDays: number;
}
export const DEFAULT_RETENTION: RetentionLimits = { maxEvents: 500, maxDays: 90 };

/** Appends events to the retained log and trims it to the limits (oldest events go first). */
export function retain(log: readonly EventView[], events: readonly EventView[], nowMs: number, limits: RetentionLimits): EventView[] {
  const oldest = nowMs - limits.maxDays * 24 * 60 * 60 * 1000;
  const all = [...log, ...events].filter((e) => e.time_ms >= oldest);
  all.sort((a, b) => a.time_ms - b.time_ms);
  return all.length > limits.maxEvents ? all.slice(all.length - limits.maxEvents) : all;
}

export function stateOf(ws: WorkspaceAggregates | undefined, key: string): CalculationState | undefined {
  return ws === undefined ? undefined : get(ws.defs, key);
}

/**
 * The user's aggregates with a seed applied to its calculated attribute (`applySeed` over the events
 * retained for the user). Refresh the user afterwards (`refreshUser`) so the profile shows the value.
 * Throws `SeedInvalidError` for a seed of an unknown definition or one that does not fit it.
 */
export function applySeedToUser(aggregates: UserAggregates | undefined, definitions: readonly CalculatedAttributeDefinition[], seed: Seed, nowMs: number): UserAggregates {
  const def = definitions.find((d) => d.name === seed.name && d.workspace === seed.workspace);
  if (def === undefined) throw new SeedInvalidError(`no calculated attribute ${seed.name} in workspace ${seed.workspace}`);
  const workspaces = copyDict(aggregates?.workspaces ?? dict<WorkspaceAggregates>());
  const ws = get(workspaces, seed.workspace) ?? { defs: dict<CalculationState>(), log: [] };
  const defs = copyDict(ws.defs);
  setEntry(defs, def.name, applySeed(def, seed, ws.log, nowMs));
  setEntry(workspaces, seed.workspace, { defs, log: ws.log });
  return { workspaces };
}
