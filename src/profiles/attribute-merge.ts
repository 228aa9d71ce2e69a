import type { Batch, UserAttributeValue } from '../schema/batch.ts';
import type { AttributeState, AttributeTombstone } from '../schema/profile-state.ts';
import { copyDict, get, setEntry, type Dict } from '../shared/dictionary.ts';
import { eventTime, stampAt, storedStamp, wins, type BatchContext, type WriteStamp } from '../shared/write-stamp.ts';

/** One set or removal of a user attribute, as a batch asks for it. */
export interface AttributeWrite {
  readonly name: string;
  readonly deleted: boolean;
  readonly value: UserAttributeValue;
  readonly stamp: WriteStamp;
}

/**
 * The one write per attribute name a batch makes. Inside a batch, the latest time wins and equal times
 * go to the later position, in this order: `user_attribute_change` events as listed, then the batch's
 * `user_attributes` (its state at batch time), then `deleted_user_attributes` (an explicit removal
 * beats a set of the same moment). Reducing first means each name is compared with the profile once.
 */
export function attributeWritesOf(batch: Batch, context: BatchContext): AttributeWrite[] {
  const byName = new Map<string, AttributeWrite>();
  const offer = (write: AttributeWrite): void => {
    const current = byName.get(write.name);
    if (current === undefined || write.stamp.updated_ms >= current.stamp.updated_ms) byName.set(write.name, write);
  };
  for (const event of batch.events) {
    if (event.event_type !== 'user_attribute_change') continue;
    const at = stampAt(context, eventTime(event, context.batchMs));
    const { user_attribute_name: name, deleted } = event.data;
    offer({ name, deleted, value: deleted ? null : copyValue(event.data.new), stamp: at });
  }
  const batchStamp = stampAt(context, context.batchMs);
  for (const name of Object.keys(batch.user_attributes)) {
    offer({ name, deleted: false, value: copyValue(batch.user_attributes[name] ?? null), stamp: batchStamp });
  }
  for (const name of batch.deleted_user_attributes) offer({ name, deleted: true, value: null, stamp: batchStamp });
  return [...byName.values()];
}

export interface AttributeMergeResult {
  readonly user_attributes: Dict<AttributeState>;
  readonly attribute_tombstones: Dict<AttributeTombstone>;
  readonly changed: boolean;
}

/**
 * Applies writes to one workspace's attributes. Each name is one last-write-wins register whose current
 * state is either a value (`user_attributes`) or a removal (`attribute_tombstones`), never both: a write
 * replaces it only when strictly newer, so a late set after a newer removal stays removed, a late
 * removal after a newer set changes nothing, and a name the profile lacks is filled by any write.
 */
export function mergeAttributes(
  attributes: Dict<AttributeState>,
  tombstones: Dict<AttributeTombstone>,
  writes: readonly AttributeWrite[],
): AttributeMergeResult {
  let nextAttributes = attributes;
  let nextTombstones = tombstones;
  let changed = false;
  for (const write of writes) {
    const set = get(nextAttributes, write.name);
    const removal = get(nextTombstones, write.name);
    if (set !== undefined && !wins(write.stamp, storedStamp(set))) continue;
    if (removal !== undefined && !wins(write.stamp, tombstoneStamp(removal))) continue;
    if (!changed) {
      nextAttributes = copyDict(attributes);
      nextTombstones = copyDict(tombstones);
      changed = true;
    }
    const { updated_ms, source, batch_id } = write.stamp;
    if (write.deleted) {
      delete nextAttributes[write.name];
      setEntry(nextTombstones, write.name, { deleted_ms: updated_ms, source, batch_id });
    } else {
      delete nextTombstones[write.name];
      setEntry(nextAttributes, write.name, { value: write.value, updated_ms, source, batch_id });
    }
  }
  return { user_attributes: nextAttributes, attribute_tombstones: nextTombstones, changed };
}

function tombstoneStamp(tombstone: AttributeTombstone): WriteStamp {
  return storedStamp({ updated_ms: tombstone.deleted_ms, source: tombstone.source, batch_id: tombstone.batch_id });
}

// Lists are copied so the stored profile never aliases the (caller-owned) batch.
function copyValue(value: UserAttributeValue): UserAttributeValue {
  return Array.isArray(value) ? [...value] : value;
}
