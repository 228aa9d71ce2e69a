import { copyDict, dict, get, setEntry } from '../profiles/dictionary.ts';
import { foldEvent, prune, type DefinitionState, type UserAggregates, type WorkspaceAggregates } from './aggregates.ts';
import { ALL_TIME, dayOf, emptyBucket, type Bucket } from './bucket.ts';
import type { CalculatedAttributeDefinition } from './calculated-attributes-config.ts';
import { SeedInvalidError } from './errors.ts';

/**
 * A seed, as mParticle's calculated attribute seeding API takes one: what the user did before
 * `cutoff_ms`, summarised for the definition's calculation. Live events count only from the cutoff on,
 * so nothing is counted twice. A seed belongs to one definition version: a changed definition drops it.
 */
export interface Seed {
  readonly name: string;
  readonly workspace: string;
  readonly cutoff_ms: number;
  readonly count?: number;
  readonly sum?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  /** Value -> occurrences (most frequent, unique count, unique list). */
  readonly values?: Readonly<Record<string, number>>;
  readonly first?: { readonly timestamp_ms: number; readonly value?: string };
  readonly last?: { readonly timestamp_ms: number; readonly value?: string };
}

/**
 * The user's aggregates with the seed applied to the definition: its state restarts from the seed and
 * the retained events from the cutoff on. Recompute the user's values afterwards
 * (`refreshUser`). Throws `SeedInvalidError` for a seed of an unknown definition or a bad cutoff.
 */
export function applySeed(aggregates: UserAggregates | undefined, definitions: readonly CalculatedAttributeDefinition[], seed: Seed, nowMs: number): UserAggregates {
  const def = definitions.find((d) => d.name === seed.name && d.workspace === seed.workspace);
  if (def === undefined) throw new SeedInvalidError(`no calculated attribute ${seed.name} in workspace ${seed.workspace}`);
  if (!Number.isSafeInteger(seed.cutoff_ms) || seed.cutoff_ms <= 0) throw new SeedInvalidError(`seed cutoff_ms must be epoch milliseconds, got ${seed.cutoff_ms}`);
  const workspaces = copyDict(aggregates?.workspaces ?? dict<WorkspaceAggregates>());
  const ws = get(workspaces, seed.workspace) ?? { defs: dict(), log: [] };
  const defs = copyDict(ws.defs);
  // The state restarts from the seed, plus the retained events from the cutoff on (foldEvent skips
  // events before `cutoff_ms`), so nothing before the cutoff is counted twice.
  const tracked = { key: def.name, version: def.version, event: def.event, attribute: def.attribute, range: def.range };
  let state: DefinitionState = {
    version: def.version,
    buckets: [],
    seed: seedBucket(seed, def.range.kind === 'within_days' ? dayOf(seed.cutoff_ms - 1) : ALL_TIME),
    cutoff_ms: seed.cutoff_ms,
  };
  for (const event of ws.log) state = foldEvent(state, tracked, event, nowMs);
  setEntry(defs, def.name, prune(state, tracked, nowMs));
  setEntry(workspaces, seed.workspace, { defs, log: ws.log });
  return { workspaces };
}

function seedBucket(seed: Seed, d: number): Bucket {
  const b = emptyBucket(d);
  b.n = seed.count ?? 0;
  if (seed.sum !== undefined) {
    b.s = seed.sum;
    b.c = seed.count ?? 1;
  }
  b.lo = seed.minimum ?? null;
  b.hi = seed.maximum ?? null;
  if (seed.minimum !== undefined || seed.maximum !== undefined) b.c = Math.max(b.c, 1);
  b.v = dict(Object.entries(seed.values ?? {}));
  if (seed.first) {
    b.ft = seed.first.timestamp_ms;
    if (seed.first.value !== undefined) b.f = [seed.first.timestamp_ms, seed.first.value];
  }
  if (seed.last) {
    b.lt = seed.last.timestamp_ms;
    if (seed.last.value !== undefined) b.l = [seed.last.timestamp_ms, seed.last.value];
  }
  return b;
}
