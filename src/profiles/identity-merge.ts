import type { Batch, IdentityType, Mpid } from '../schema/batch.ts';
import type { IdentityState } from '../schema/profile-state.ts';
import { copyDict, get, setEntry, type Dict } from '../shared/dictionary.ts';
import { eventTime, stampAt, storedStamp, wins, type BatchContext, type WriteStamp } from '../shared/write-stamp.ts';

/** A set (`value` a string) or removal (`value` null) of one identity type. */
export interface IdentityWrite {
  readonly type: IdentityType;
  readonly value: string | null;
  readonly stamp: WriteStamp;
}

/**
 * A change the identity index must apply: `type:value` now points to (`added`) or no longer points to
 * (`removed`) this MPID. `updated_ms` lets the index keep the newest claim when two users claim one identity.
 */
export interface IdentityChange {
  readonly op: 'added' | 'removed';
  readonly identity_type: string;
  readonly value: string;
  /** `type:value`, the identity index's key. */
  readonly key: string;
  readonly mpid: Mpid;
  readonly updated_ms: number;
}

export function identityKey(type: string, value: string): string {
  return `${type}:${value}`;
}

/**
 * The one write per identity type a batch makes: `user_identity_change` events in order (a `new` side
 * with a null identity, or no `new` side at all, removes the type), then the batch's `user_identities`
 * at batch time, where null means "not sent" and writes nothing. Latest time wins; equal times go to
 * the later position.
 */
export function identityWritesOf(batch: Batch, context: BatchContext): IdentityWrite[] {
  const byType = new Map<IdentityType, IdentityWrite>();
  const offer = (write: IdentityWrite): void => {
    const current = byType.get(write.type);
    if (current === undefined || write.stamp.updated_ms >= current.stamp.updated_ms) byType.set(write.type, write);
  };
  for (const event of batch.events) {
    if (event.event_type !== 'user_identity_change') continue;
    const at = eventTime(event, context.batchMs);
    const { new: next, old } = event.data;
    if (next !== null) {
      offer({ type: next.identity_type, value: next.identity, stamp: stampAt(context, next.timestamp_unixtime_ms ?? at) });
    } else if (old !== null) {
      offer({ type: old.identity_type, value: null, stamp: stampAt(context, at) });
    }
  }
  const batchStamp = stampAt(context, context.batchMs);
  for (const type of Object.keys(batch.user_identities) as IdentityType[]) {
    const value = batch.user_identities[type];
    if (value !== null && value !== undefined) offer({ type, value, stamp: batchStamp });
  }
  return [...byType.values()];
}

export interface IdentityMergeResult {
  readonly user_identities: Dict<IdentityState>;
  readonly changes: IdentityChange[];
  readonly changed: boolean;
}

/**
 * Applies writes to the user's identities, last-write-wins per type. A removal is stored as
 * `value: null` (not deleted) so that an older set arriving later loses to it.
 */
export function mergeIdentities(
  identities: Dict<IdentityState>,
  writes: readonly IdentityWrite[],
  mpid: Mpid,
): IdentityMergeResult {
  let next = identities;
  const changes: IdentityChange[] = [];
  let changed = false;
  for (const write of writes) {
    const current = get(next, write.type);
    if (current !== undefined && !wins(write.stamp, storedStamp(current))) continue;
    if (!changed) {
      next = copyDict(identities);
      changed = true;
    }
    const { updated_ms, source, batch_id } = write.stamp;
    setEntry(next, write.type, { value: write.value, updated_ms, source, batch_id });
    const before = current?.value ?? null;
    if (before === write.value) continue;
    if (before !== null) changes.push(change('removed', write.type, before, mpid, updated_ms));
    if (write.value !== null) changes.push(change('added', write.type, write.value, mpid, updated_ms));
  }
  return { user_identities: next, changes, changed };
}

function change(op: IdentityChange['op'], type: string, value: string, mpid: Mpid, updatedMs: number): IdentityChange {
  return { op, identity_type: type, value, key: identityKey(type, value), mpid, updated_ms: updatedMs };
}
