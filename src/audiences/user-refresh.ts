import type { AudienceChange, AudienceMembershipChange } from '../schema/audience-membership-change.ts';
import type { CalculatedAttributeState, ProfileState, WorkspaceProfile } from '../schema/profile-state.ts';
import { copyDict, dict, entriesOf, get, setEntry } from '../shared/dictionary.ts';
import { DEFAULT_RETENTION, retain, type RetentionLimits, type UserAggregates, type WorkspaceAggregates } from './aggregates.ts';
import { applyEvents, emptyState, expire, nextChangeAt, recompute, valueOf, type CalculationState } from './calculation-state.ts';
import type { Definitions } from './definitions.ts';
import { diffMemberships, evaluateAudiences } from './evaluate-audience.ts';
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
    const defs = dict<CalculationState>();
    let changed = old === undefined || log !== old.log || Object.keys(old.defs).length !== tracked.length;
    for (const def of tracked) {
      const previous = old === undefined ? undefined : get(old.defs, def.key);
      // New or changed definition: from the retained events alone, never blended with the old state.
      const base = previous !== undefined && previous.version === def.version ? previous
        : old === undefined ? emptyState(def.version) : recompute(def, old.log, nowMs);
      const state = expire(applyEvents(base, def, incoming, nowMs), def, nowMs);
      if (state !== previous) changed = true;
      setEntry(defs, def.key, state);
    }
    setEntry(aggregates.workspaces, workspaceId, changed ? { defs, log } : old!);
    aggregatesChanged ||= changed;
    profile = withCalculatedAttributes(profile, workspaceId, definitions, aggregates.workspaces[workspaceId]!, nowMs);
  }
  if (Object.keys(before).some((ws) => !definitions.trackedByWorkspace.has(ws))) aggregatesChanged = true;

  const { profile: withMemberships, changes } = evaluateMemberships(profile, aggregates, definitions, nowMs);
  return { profile: withMemberships, aggregates, aggregatesChanged, changes, nextChangeAtMs: nextDue(aggregates, definitions, nowMs) };
}

function withCalculatedAttributes(profile: ProfileState, workspaceId: string, definitions: Definitions, agg: WorkspaceAggregates, nowMs: number): ProfileState {
  const workspace = get(profile.workspaces, workspaceId);
  if (workspace === undefined) return profile;
  const next = dict<CalculatedAttributeState>();
  let changed = false;
  for (const def of definitions.calculated) {
    if (def.workspace !== workspaceId) continue;
    const value = valueOf(get(agg.defs, def.name), def, nowMs);
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
  const after = evaluateAudiences(definitions.audiences, { profile, aggregates, nowMs });
  const diff = diffMemberships(profile.audience_memberships, after);
  // Unchanged memberships keep the profile object: the caller skips the write and the message.
  if (diff.length === 0) return { profile, changes: [] };
  const updated = { ...profile, audience_memberships: after };
  return { profile: updated, changes: messagesByWorkspace(updated, definitions, diff, nowMs) };
}

/** One change message per workspace (sorted); a deleted audience no longer defined goes under workspace ''. */
function messagesByWorkspace(profile: ProfileState, definitions: Definitions, changes: readonly AudienceChange[], nowMs: number): AudienceMembershipChange[] {
  const workspaceOf = new Map(definitions.audiences.map((a) => [a.id, a.workspace]));
  const byWorkspace = new Map<string, AudienceChange[]>();
  for (const change of changes) {
    const ws = workspaceOf.get(change.audience_id) ?? '';
    byWorkspace.set(ws, [...(byWorkspace.get(ws) ?? []), change]);
  }
  return [...byWorkspace].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([ws, list]) => membershipChange(profile, ws, list, nowMs));
}

/** The earliest time a tracked day (calculated attribute or audience counter) leaves its window. */
function nextDue(aggregates: UserAggregates, definitions: Definitions, nowMs: number): number | null {
  let next: number | null = null;
  for (const [workspaceId, agg] of entriesOf(aggregates.workspaces)) {
    for (const def of definitions.trackedByWorkspace.get(workspaceId) ?? []) {
      const state = get(agg.defs, def.key);
      const at = state === undefined ? null : nextChangeAt(state, def, nowMs);
      if (at !== null && (next === null || at < next)) next = at;
    }
  }
  return next;
}

/** Every membership ends: for a profile that expires or is erased (one delete per audience). */
export function leaveAllAudiences(profile: ProfileState, definitions: Definitions, nowMs: number): AudienceMembershipChange[] {
  return messagesByWorkspace(profile, definitions, diffMemberships(profile.audience_memberships, dict()), nowMs);
}

