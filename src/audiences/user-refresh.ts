import type { AudienceChange, AudienceMembershipChange } from '../schema/audience-membership-change.ts';
import type { AudienceMembershipState, CalculatedAttributeState, ProfileState, WorkspaceProfile } from '../schema/profile-state.ts';
import { copyDict, dict, entriesOf, get, setEntry } from '../profiles/dictionary.ts';
import {
  DEFAULT_RETENTION, emptyState, foldEvent, prune, recompute, retain, stateExpiresAt, windowBucket,
  type DefinitionState, type RetentionLimits, type UserAggregates, type WorkspaceAggregates,
} from './aggregates.ts';
import { evaluateAudience } from './audience-evaluation.ts';
import { calculate } from './calculation.ts';
import type { Definitions } from './definitions.ts';
import type { EventView } from './event-view.ts';
import { membershipChange } from './membership-change.ts';

export interface RefreshInput {
  /** The profile after the batch's merge (or as stored, for a time-driven refresh). */
  readonly profile: ProfileState;
  readonly aggregates: UserAggregates | undefined;
  readonly definitions: Definitions;
  /** Wall-clock time of processing: windows are relative to it. */
  readonly nowMs: number;
  /** The batch's events, in the batch's workspace; none for a time-driven refresh. */
  readonly events?: { readonly workspace: string; readonly views: readonly EventView[] };
  readonly retention?: RetentionLimits;
}

export interface RefreshResult {
  /** The same object as the input profile when nothing in it changed. */
  readonly profile: ProfileState;
  readonly aggregates: UserAggregates;
  readonly aggregatesChanged: boolean;
  /** One message per workspace whose audiences changed. */
  readonly changes: AudienceMembershipChange[];
  /** When time alone may next change a value or membership (a window's oldest day ends); null = never. */
  readonly nextChangeAtMs: number | null;
}

/**
 * Brings a user's calculated attributes and audience memberships up to date at `nowMs`: folds the batch's
 * events into the per-definition aggregates, rebuilds those whose definition changed from the retained
 * events (seeds dropped), drops days that left their windows, recomputes every value, evaluates every
 * audience and returns the add/delete changes. Pure; the inputs are not modified.
 *
 * @example safe — after the merge, before enriching, so the enriched batch carries the new values:
 * const r = refreshUser({ profile: merged, aggregates, definitions, nowMs, events: { workspace, views } });
 * @example unsafe — refreshing with the record's event time as `nowMs` makes windows move with late data.
 */
export function refreshUser(input: RefreshInput): RefreshResult {
  const { definitions, nowMs } = input;
  const retention = input.retention ?? DEFAULT_RETENTION;
  const before = input.aggregates?.workspaces ?? dict<WorkspaceAggregates>();
  const aggregates: UserAggregates = { workspaces: dict() };
  let aggregatesChanged = input.aggregates === undefined;
  let profile = input.profile;

  for (const [workspaceId, tracked] of definitions.trackedByWorkspace) {
    const old = get(before, workspaceId);
    const incoming = input.events?.workspace === workspaceId ? input.events.views : [];
    if (old === undefined && incoming.length === 0 && get(profile.workspaces, workspaceId) === undefined) continue;
    const log = incoming.length === 0 && old !== undefined ? old.log : retain(old?.log ?? [], incoming, nowMs, retention);
    const defs = dict<DefinitionState>();
    let changed = old === undefined || log !== old.log || Object.keys(old.defs).length !== tracked.length;
    for (const def of tracked) {
      const previous = old === undefined ? undefined : get(old.defs, def.key);
      let state: DefinitionState;
      if (previous === undefined || previous.version !== def.version) {
        // New or changed definition: from the retained events alone, never blended with the old state.
        state = old === undefined ? emptyState(def.version) : recompute(def, old.log, nowMs);
      } else {
        state = previous;
      }
      for (const event of incoming) state = foldEvent(state, def, event, nowMs);
      state = prune(state, def, nowMs);
      if (state !== previous) changed = true;
      setEntry(defs, def.key, state);
    }
    setEntry(aggregates.workspaces, workspaceId, changed ? { defs, log } : old!);
    aggregatesChanged ||= changed;
    profile = withCalculatedAttributes(profile, workspaceId, definitions, aggregates.workspaces[workspaceId]!, nowMs);
  }
  if (Object.keys(before).some((ws) => !definitions.trackedByWorkspace.has(ws))) aggregatesChanged = true;

  const { profile: withMemberships, changes } = evaluateMemberships(profile, aggregates, definitions, nowMs);
  return { profile: withMemberships, aggregates, aggregatesChanged, changes, nextChangeAtMs: nextChangeAt(aggregates, definitions) };
}

function withCalculatedAttributes(profile: ProfileState, workspaceId: string, definitions: Definitions, agg: WorkspaceAggregates, nowMs: number): ProfileState {
  const workspace = get(profile.workspaces, workspaceId);
  if (workspace === undefined) return profile;
  const tracked = new Map(definitions.trackedByWorkspace.get(workspaceId)!.map((d) => [d.key, d]));
  const next = dict<CalculatedAttributeState>();
  let changed = false;
  for (const def of definitions.calculated) {
    if (def.workspace !== workspaceId) continue;
    const value = calculate(def.calculation, windowBucket(get(agg.defs, def.name), tracked.get(def.name)!, nowMs));
    const current = get(workspace.calculated_attributes, def.name);
    if (current !== undefined && current.definition_version === def.version && sameValue(current.value, value)) {
      setEntry(next, def.name, current);
    } else {
      setEntry(next, def.name, { value, updated_ms: nowMs, definition_version: def.version });
      changed = true;
    }
  }
  if (!changed && Object.keys(next).length === Object.keys(workspace.calculated_attributes).length) return profile;
  const workspaces = copyDict(profile.workspaces);
  setEntry<WorkspaceProfile>(workspaces, workspaceId, { ...workspace, calculated_attributes: next });
  return { ...profile, workspaces };
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

function evaluateMemberships(profile: ProfileState, aggregates: UserAggregates, definitions: Definitions, nowMs: number): { profile: ProfileState; changes: AudienceMembershipChange[] } {
  const members = new Set<string>();
  for (const audience of definitions.audiences) {
    const workspace = get(profile.workspaces, audience.workspace);
    // A user never seen in the audience's workspace is in none of its audiences (even under `not`).
    if (workspace === undefined) continue;
    const agg = get(aggregates.workspaces, audience.workspace);
    const tracked = new Map((definitions.trackedByWorkspace.get(audience.workspace) ?? []).map((d) => [d.key, d]));
    const isIn = evaluateAudience(audience, {
      profile,
      workspace,
      eventCount: (key) => windowBucket(agg === undefined ? undefined : get(agg.defs, key), tracked.get(key)!, nowMs).n,
      isMember: (id) => members.has(id),
    });
    if (isIn) members.add(audience.id);
  }

  const byWorkspace = new Map<string, AudienceChange[]>();
  const note = (workspace: string, change: AudienceChange) => byWorkspace.set(workspace, [...(byWorkspace.get(workspace) ?? []), change]);
  const next = dict<AudienceMembershipState>();
  const workspaceOf = new Map(definitions.audiences.map((a) => [a.id, a]));
  for (const [id, membership] of entriesOf(profile.audience_memberships)) {
    const audience = workspaceOf.get(id);
    // Memberships of audiences no longer defined end: the audience is gone, downstream must hear it.
    if (audience === undefined || !members.has(id)) note(audience?.workspace ?? '', { audience_id: id, audience_name: membership.audience_name, action: 'delete' });
    else setEntry(next, id, membership);
  }
  for (const audience of definitions.audiences) {
    if (!members.has(audience.id) || get(profile.audience_memberships, audience.id) !== undefined) continue;
    setEntry(next, audience.id, { audience_name: audience.name, added_ms: nowMs, expiration_ms: null });
    note(audience.workspace, { audience_id: audience.id, audience_name: audience.name, action: 'add' });
  }
  if (byWorkspace.size === 0) return { profile, changes: [] };
  const updated = { ...profile, audience_memberships: next };
  const changes = [...byWorkspace].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([ws, list]) => membershipChange(updated, ws, list, nowMs));
  return { profile: updated, changes };
}

function nextChangeAt(aggregates: UserAggregates, definitions: Definitions): number | null {
  let next: number | null = null;
  for (const [workspaceId, agg] of entriesOf(aggregates.workspaces)) {
    for (const def of definitions.trackedByWorkspace.get(workspaceId) ?? []) {
      const state = get(agg.defs, def.key);
      const at = state === undefined ? null : stateExpiresAt(state, def);
      if (at !== null && (next === null || at < next)) next = at;
    }
  }
  return next;
}

/** Every membership ends: for a profile that expires or is erased (one delete per audience). */
export function leaveAllAudiences(profile: ProfileState, definitions: Definitions, nowMs: number): AudienceMembershipChange[] {
  const byWorkspace = new Map<string, AudienceChange[]>();
  const workspaceOf = new Map(definitions.audiences.map((a) => [a.id, a.workspace]));
  for (const [id, m] of entriesOf(profile.audience_memberships)) {
    const ws = workspaceOf.get(id) ?? '';
    byWorkspace.set(ws, [...(byWorkspace.get(ws) ?? []), { audience_id: id, audience_name: m.audience_name, action: 'delete' }]);
  }
  return [...byWorkspace].map(([ws, list]) => membershipChange(profile, ws, list, nowMs));
}

