import type { Batch } from '../schema/batch.ts';
import type { ProfileState } from '../schema/profile-state.ts';
import { attributeWritesOf, mergeAttributes } from './attribute-merge.ts';
import { batchDigestOf, batchIdOf, DEFAULT_DEDUP, isReplay, NO_RECENT_BATCHES, rememberBatch, sameRecentBatches, type DedupOptions, type RecentBatches } from './batch-dedup.ts';
import { mergeConsent } from './consent-merge.ts';
import { latestLimitAdTracking, mergeDevice, type SeenRange } from './device-merge.ts';
import { copyDict, get, setEntry } from '../shared/dictionary.ts';
import { MpidMismatchError, MpidMissingError } from './errors.ts';
import { identityWritesOf, mergeIdentities, type IdentityChange } from './identity-merge.ts';
import { checkLimits } from './limits.ts';
import { mergeOptOut } from './opt-out-merge.ts';
import { emptyProfile, emptyWorkspace } from './profile.ts';
import { batchTime, eventTime, type BatchContext } from '../shared/write-stamp.ts';

export interface MergeOptions {
  /**
   * The Kafka record's timestamp: the batch's time only when neither the batch nor any event has one.
   * Pass the record timestamp, never the wall clock, so a replay sees the same time.
   */
  readonly recordTimestampMs?: number;
  /** Size of the record as received, for the batch size limit (default: the batch's JSON size). */
  readonly serializedBytes?: number;
  readonly dedup?: DedupOptions;
  /**
   * The user's remembered batches (the `batch-dedup` store's value; none for a new user). They live
   * apart from the profile so the profile, its changelog and every history snapshot stay small.
   */
  readonly recent?: RecentBatches;
}

export interface MergeChanges {
  /** The returned profile differs from the given one: write it to the profiles store. */
  readonly changed: boolean;
  /** Something a reader can see changed (identities, attributes, consent, devices, seen times, opt-out). */
  readonly contentChanged: boolean;
  /** The batch was merged before (same `source_request_id`, or same content when it has none): emit nothing. */
  readonly duplicate: boolean;
  /** For the identity index, in the order they happened. */
  readonly identities: readonly IdentityChange[];
}

export interface MergeResult {
  readonly profile: ProfileState;
  /**
   * The remembered batches after this one: the very `options.recent` object when nothing changed (a
   * duplicate, or a batch too old to remember), so `result.recent !== recent` says "write it back".
   */
  readonly recent: RecentBatches;
  readonly changes: MergeChanges;
}

/**
 * Merges one batch into a user's profile and says what changed. Pure: the inputs are not modified, and
 * the result depends only on them — so merging any set of batches in any order gives the same profile
 * (every field is a last-write-wins register by event time, a min/max, or derived from those).
 *
 * Throws `LimitExceededError` (batch over a limit: dead-letter it), `MpidMismatchError` or
 * `MpidMissingError` (a wiring bug upstream).
 *
 * @example safe — the processor keeps the returned profile and remembered batches, and forwards only non-duplicates:
 * const { profile: next, recent: after, changes } = mergeBatch(stored, batch, { recordTimestampMs: record.timestamp, recent });
 * if (changes.changed) store.put(mpid, next);
 * if (after !== recent) dedupStore.put(mpid, after);
 * if (!changes.duplicate) forwardEnriched(batch, next);
 * @example unsafe — passing `Date.now()` as the record timestamp makes a replay merge differently.
 */
export function mergeBatch(profile: ProfileState | undefined, batch: Batch, options: MergeOptions = {}): MergeResult {
  checkLimits(batch, options.serializedBytes);
  const mpid = resolveMpid(profile, batch);
  const batchId = batchIdOf(batch);
  const recent = options.recent ?? NO_RECENT_BATCHES;
  const digest = batchDigestOf(batchId);
  if (profile !== undefined && isReplay(recent, digest)) {
    return { profile, recent, changes: { changed: false, contentChanged: false, duplicate: true, identities: [] } };
  }

  const batchMs = batchTime(batch, options.recordTimestampMs);
  const context: BatchContext = { source: batch.source, batchId, batchMs };
  const seen = seenRange(batch, batchMs);
  const base = profile ?? emptyProfile(mpid, seen.first);

  const identities = mergeIdentities(base.user_identities, identityWritesOf(batch, context), mpid);
  const optOut = mergeOptOut(base, batch, batchMs);

  const workspaceBefore = get(base.workspaces, batch.workspace_id);
  const workspace = workspaceBefore ?? emptyWorkspace();
  const attributes = mergeAttributes(workspace.user_attributes, workspace.attribute_tombstones, attributeWritesOf(batch, context));
  const consent = mergeConsent(workspace.consent_state, batch.consent_state);
  const devices = mergeDevice(workspace.devices, batch, context, seen);
  const workspaceChanged = workspaceBefore === undefined || attributes.changed || consent.changed || devices.changed;

  let workspaces = base.workspaces;
  if (workspaceChanged) {
    workspaces = copyDict(base.workspaces);
    setEntry(workspaces, batch.workspace_id, {
      ...workspace,
      user_attributes: attributes.user_attributes,
      attribute_tombstones: attributes.attribute_tombstones,
      consent_state: consent.consent_state,
      devices: devices.devices,
    });
  }

  const next: ProfileState = {
    ...base,
    created_timestamp_ms: Math.min(base.created_timestamp_ms, seen.first),
    last_seen_timestamp_ms: Math.max(base.last_seen_timestamp_ms, seen.last),
    is_opted_out: optOut.state.is_opted_out,
    opt_out_updated_ms: optOut.state.opt_out_updated_ms,
    limit_ad_tracking: devices.changed ? latestLimitAdTracking(workspaces) : base.limit_ad_tracking,
    user_identities: identities.user_identities,
    workspaces,
  };
  const remembered = rememberBatch(recent, digest, batchMs, options.dedup ?? DEFAULT_DEDUP);

  const contentChanged =
    profile === undefined ||
    workspaceChanged ||
    identities.changed ||
    optOut.changed ||
    next.created_timestamp_ms !== base.created_timestamp_ms ||
    next.last_seen_timestamp_ms !== base.last_seen_timestamp_ms;
  // Only content decides: the profile no longer carries the remembered batches.
  const changed = contentChanged;
  return {
    profile: changed ? next : base,
    recent: sameRecentBatches(recent, remembered) ? recent : remembered,
    changes: { changed, contentChanged, duplicate: false, identities: identities.changes },
  };
}

function resolveMpid(profile: ProfileState | undefined, batch: Batch): string {
  if (profile !== undefined) {
    if (batch.mpid !== null && batch.mpid !== profile.mpid) throw new MpidMismatchError(profile.mpid, batch.mpid);
    return profile.mpid;
  }
  if (batch.mpid === null) throw new MpidMissingError();
  return batch.mpid;
}

/** First and last time the batch shows the user active: every event's time and the batch's own. */
function seenRange(batch: Batch, batchMs: number): SeenRange {
  let first = batchMs;
  let last = batchMs;
  for (const event of batch.events) {
    const at = eventTime(event, batchMs);
    if (at < first) first = at;
    if (at > last) last = at;
  }
  return { first, last };
}
