import { createHash } from 'node:crypto';
import type { ProfileState } from '../schema/profile-state.ts';
import { entriesOf } from '../shared/dictionary.ts';

/**
 * Data subject requests (erasure). The DSR topic carries JSON events keyed by request id:
 * `requested` (from `POST /v1/dsr` or any producer) and `completed` (from the stream processor).
 */
export type DsrTarget = { readonly mpid: string } | { readonly identity: { readonly type: string; readonly value: string } };

export interface DsrRequested {
  readonly kind: 'requested';
  readonly request_id: string;
  readonly workspace_id: string;
  readonly requested_ms: number;
  readonly target: DsrTarget;
}

/** `erased`: a user was found and removed; `not_found`: nothing was known of the target (nothing to erase). */
export type DsrResult = 'erased' | 'not_found';

export interface DsrCompleted {
  readonly kind: 'completed';
  readonly request_id: string;
  readonly workspace_id: string;
  readonly completed_ms: number;
  readonly result: DsrResult;
}

export type DsrEvent = DsrRequested | DsrCompleted;

/** An erasure resolved to one MPID, on its way to the task that owns the user. */
export interface ErasureCommand {
  readonly request_id: string;
  readonly workspace_id: string;
  readonly requested_ms: number;
  /** Undefined when the target identity resolved to nobody: the owner only reports completion. */
  readonly mpid: string | undefined;
}

/**
 * What stays of an erased user, forever: enough to refuse reengagement and to prove the erasure
 * happened, nothing that reads back as the user (identities only as SHA-256 hashes).
 */
export interface ErasureRecord {
  readonly mpid: string;
  readonly erased_ms: number;
  readonly request_ids: readonly string[];
  readonly identity_hashes: readonly string[];
}

/** The DSR status a reader sees; holds no identity or MPID, so it may outlive the user. */
export interface DsrStatus {
  readonly request_id: string;
  readonly workspace_id: string;
  readonly status: 'pending' | 'completed';
  readonly requested_ms: number;
  readonly completed_ms: number | null;
  readonly result: DsrResult | null;
}

export function identityHash(type: string, value: string): string {
  return createHash('sha256').update(`${type}:${value}`).digest('hex');
}

/** Every identity (type, value) any of the given profile versions held, deduplicated. */
export function identitiesOf(profiles: readonly ProfileState[]): Array<{ type: string; value: string }> {
  const seen = new Map<string, { type: string; value: string }>();
  for (const p of profiles) {
    for (const [type, state] of entriesOf(p.user_identities)) {
      if (state.value !== null) seen.set(`${type}:${state.value}`, { type, value: state.value });
    }
  }
  return [...seen.values()];
}

/** The erasure record after erasing `mpid` again or for the first time (records merge, never shrink). */
export function erasureRecord(previous: ErasureRecord | undefined, mpid: string, requestId: string, erasedMs: number, profiles: readonly ProfileState[]): ErasureRecord {
  const hashes = new Set(previous?.identity_hashes ?? []);
  for (const { type, value } of identitiesOf(profiles)) hashes.add(identityHash(type, value));
  const ids = new Set(previous?.request_ids ?? []);
  ids.add(requestId);
  return { mpid, erased_ms: erasedMs, request_ids: [...ids], identity_hashes: [...hashes].sort() };
}

export function pendingStatus(event: DsrRequested): DsrStatus {
  return { request_id: event.request_id, workspace_id: event.workspace_id, status: 'pending', requested_ms: event.requested_ms, completed_ms: null, result: null };
}

/** A completion never goes back to pending, whichever of the two events arrives first. */
export function applyDsrEvent(current: DsrStatus | undefined, event: DsrEvent): DsrStatus {
  if (event.kind === 'requested') return current ?? pendingStatus(event);
  return {
    request_id: event.request_id,
    workspace_id: event.workspace_id,
    status: 'completed',
    requested_ms: current?.requested_ms ?? event.completed_ms,
    completed_ms: event.completed_ms,
    result: event.result,
  };
}
