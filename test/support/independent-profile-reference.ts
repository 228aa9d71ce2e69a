import { createHash } from 'node:crypto';
import type { Batch, ConsentDecision, DeviceInfo, UserAttributeValue } from '../../src/schema/batch.ts';
import type {
  AttributeState, AttributeTombstone, DeviceState, IdentityState, InstallAttribution, ProfileState, WorkspaceProfile,
} from '../../src/schema/profile-state.ts';

export interface ReferenceOptions {
  /** The Kafka record timestamp, for batches in which neither the batch nor any event has a time. */
  readonly recordTimestampMs?: number;
  /** The batch's size as received, for the 128 KiB limit (default: its JSON in UTF-8). */
  readonly serializedBytes?: (batch: Batch) => number;
}

export const REFERENCE_LIMITS = { attributesPerBatch: 100, valueLength: 4096, listEntries: 1000, batchBytes: 128 * 1024 } as const;

/**
 * The profile a user should have after a set of batches, computed from the documented merge rules
 * (the design's "Merge rules", `src/profiles/README.md` "How the profile is merged") and nothing
 * else: it imports no code of `src/profiles`, `src/audiences` or `src/app` (a dependency-cruiser
 * rule holds that), only the types that say what a batch and a profile look like.
 *
 * It is written the other way round from `mergeBatch` on purpose. `mergeBatch` folds one batch at a time
 * into a stored profile; this collects every write of every batch first and then, for each register,
 * picks the greatest write in one ordering. If both agree over any arrival order, the incremental merge
 * really is "last write wins by event time", not merely deterministic.
 *
 * The rules it implements are listed in `src/profiles/README.md` ("The rules, precisely"); where the
 * prose once left a case open (consent ties, devices, limit_ad_tracking, identity changes with only an
 * `old` side, which values the limits cover), that list was made precise and this follows it.
 *
 * Undefined when no batch could be merged (all over a limit, or none given).
 */
export function independentProfile(batches: readonly Batch[], options: ReferenceOptions = {}): ProfileState | undefined {
  const distinct = new Map<string, Batch>();
  for (const batch of batches) {
    const id = referenceBatchId(batch);
    if (!distinct.has(id) && !referenceLimitBroken(batch, options)) distinct.set(id, batch);
  }
  if (distinct.size === 0) return undefined;
  const writes = new Writes();
  for (const [id, batch] of distinct) collect(writes, batch, id, options.recordTimestampMs);
  if (writes.mpid === undefined) throw new Error('no merged batch names the user (mpid)');
  return writes.profile();
}

export function referenceBatchId(batch: Batch): string {
  return batch.source_request_id ?? `sha256:${createHash('sha256').update(JSON.stringify(batch)).digest('hex')}`;
}

export function referenceBatchTime(batch: Batch, recordTimestampMs: number | undefined): number {
  if (batch.timestamp_unixtime_ms !== null) return batch.timestamp_unixtime_ms;
  const own = batch.events.map((e) => e.data.timestamp_unixtime_ms).filter((t): t is number => t !== null);
  if (own.length > 0) return Math.max(...own);
  if (recordTimestampMs === undefined) throw new Error('a batch without any time needs the record timestamp');
  return recordTimestampMs;
}

/** The name of the first limit the batch breaks, or undefined. */
export function referenceLimitBroken(batch: Batch, options: ReferenceOptions = {}): string | undefined {
  const values: UserAttributeValue[] = Object.keys(batch.user_attributes).map((name) => batch.user_attributes[name]!);
  for (const event of batch.events) {
    if (event.event_type === 'user_attribute_change') values.push(event.data.new);
    const custom = event.data.custom_attributes;
    for (const name of Object.keys(custom)) values.push(custom[name]!);
  }
  if (Object.keys(batch.user_attributes).length > REFERENCE_LIMITS.attributesPerBatch) return 'attributes per batch';
  for (const value of values) {
    if (Array.isArray(value)) {
      if (value.length > REFERENCE_LIMITS.listEntries) return 'list entries';
      if (value.some((entry) => entry.length > REFERENCE_LIMITS.valueLength)) return 'value length';
    } else if (typeof value === 'string' && value.length > REFERENCE_LIMITS.valueLength) return 'value length';
  }
  const bytes = options.serializedBytes ? options.serializedBytes(batch) : Buffer.byteLength(JSON.stringify(batch), 'utf8');
  if (bytes > REFERENCE_LIMITS.batchBytes) return 'batch bytes';
  return undefined;
}

/**
 * Which arrivals are replays, by the README's dedup rule: a batch is a replay when its id is among the
 * user's remembered batches; after each merged batch the remembered ones are the newest
 * `maxRemembered` (by batch time, then digest) of all merged so far within `windowMs` of the newest.
 * Batches over a limit are neither merged nor remembered.
 */
export function referenceReplays(
  arrivals: readonly Batch[],
  dedup: { windowMs: number; maxRemembered: number },
  options: ReferenceOptions = {},
): { replay: boolean[]; remembered: Array<{ digest: string; seen_ms: number }> } {
  let remembered: Array<{ digest: string; seen_ms: number }> = [];
  const replay: boolean[] = [];
  for (const batch of arrivals) {
    if (referenceLimitBroken(batch, options)) {
      replay.push(false);
      continue;
    }
    const digest = createHash('sha256').update(referenceBatchId(batch)).digest('hex').slice(0, 16);
    if (remembered.some((r) => r.digest === digest)) {
      replay.push(true);
      continue;
    }
    replay.push(false);
    const all = [...remembered, { digest, seen_ms: referenceBatchTime(batch, options.recordTimestampMs) }];
    const newest = Math.max(...all.map((r) => r.seen_ms));
    const kept = all.filter((r) => r.seen_ms >= newest - dedup.windowMs);
    kept.sort((a, b) => a.seen_ms - b.seen_ms || (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
    remembered = kept.slice(Math.max(0, kept.length - dedup.maxRemembered));
  }
  return { replay, remembered };
}

/** Where a write sits in the total order: compared field by field, greater wins. */
type Order = readonly (number | string | boolean)[];

function compareOrder(a: Order, b: Order): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/** The greatest candidate by its order, kept as candidates come in any order. */
class Register<T> {
  private best: { order: Order; value: T } | undefined;
  offer(order: Order, value: T): void {
    if (this.best === undefined || compareOrder(order, this.best.order) > 0) this.best = { order, value };
  }
  get value(): T | undefined {
    return this.best?.value;
  }
}

/** The smallest candidate by its order. */
class EarliestRegister<T> {
  private first: { order: Order; value: T } | undefined;
  offer(order: Order, value: T): void {
    if (this.first === undefined || compareOrder(order, this.first.order) < 0) this.first = { order, value };
  }
  get value(): T | undefined {
    return this.first?.value;
  }
}

type AttributeWrite = { kind: 'set'; state: AttributeState } | { kind: 'remove'; tombstone: AttributeTombstone };

const DEVICE_IDENTITY_FIELDS = [
  'ios_advertising_id', 'ios_idfv', 'android_advertising_id', 'android_uuid', 'push_token', 'roku_advertising_id',
  'roku_publisher_id', 'microsoft_advertising_id', 'microsoft_publisher_id', 'fire_advertising_id', 'amp_id',
] as const;

class DeviceWrites {
  info = new Register<DeviceInfo>();
  firstSeen = Infinity;
  lastSeen = -Infinity;
  att = new Register<{ status: DeviceInfo['att_authorization_status']; at: number }>();
  attribution = new EarliestRegister<InstallAttribution>();
}

class WorkspaceWrites {
  attributes = new Map<string, Register<AttributeWrite>>();
  gdpr = new Map<string, Register<ConsentDecision>>();
  ccpa = new Register<ConsentDecision>();
  devices = new Map<string, DeviceWrites>();
}

class Writes {
  mpid: string | undefined;
  created = Infinity;
  lastSeen = -Infinity;
  optOut = new Register<{ value: boolean; at: number }>();
  identities = new Map<string, Register<IdentityState>>();
  workspaces = new Map<string, WorkspaceWrites>();

  workspace(id: string): WorkspaceWrites {
    let w = this.workspaces.get(id);
    if (!w) this.workspaces.set(id, (w = new WorkspaceWrites()));
    return w;
  }

  profile(): ProfileState {
    const identities = plain<IdentityState>();
    for (const [type, register] of this.identities) identities[type] = register.value!;
    const workspaces = plain<WorkspaceProfile>();
    const limitAdTracking = new Register<boolean>();
    for (const [id, w] of this.workspaces) {
      workspaces[id] = workspaceProfile(w);
      for (const device of Object.values(workspaces[id].devices)) {
        const flag = device.device_info.limit_ad_tracking;
        if (flag !== null) limitAdTracking.offer([device.last_seen_ms, JSON.stringify(device.device_info)], flag);
      }
    }
    const optOut = this.optOut.value;
    return {
      mpid: this.mpid!,
      created_timestamp_ms: this.created,
      last_seen_timestamp_ms: this.lastSeen,
      is_opted_out: optOut?.value ?? false,
      opt_out_updated_ms: optOut?.at ?? null,
      limit_ad_tracking: limitAdTracking.value ?? false,
      user_identities: identities,
      workspaces,
      audience_memberships: plain(),
    };
  }
}

function workspaceProfile(w: WorkspaceWrites): WorkspaceProfile {
  const attributes = plain<AttributeState>();
  const tombstones = plain<AttributeTombstone>();
  for (const [name, register] of w.attributes) {
    const write = register.value!;
    if (write.kind === 'set') attributes[name] = write.state;
    else tombstones[name] = write.tombstone;
  }
  const gdpr = plain<ConsentDecision>();
  for (const [purpose, register] of w.gdpr) gdpr[purpose] = register.value!;
  const devices = plain<DeviceState>();
  for (const [stamp, d] of w.devices) {
    const info = d.info.value!;
    const deviceIdentities = plain<string>();
    for (const type of DEVICE_IDENTITY_FIELDS) if (info[type] !== null) deviceIdentities[type] = info[type];
    const att = d.att.value;
    devices[stamp] = {
      device_info: info,
      device_identities: deviceIdentities,
      first_seen_ms: d.firstSeen,
      last_seen_ms: d.lastSeen,
      att_status: att?.status ?? null,
      att_updated_ms: att?.at ?? null,
      install_attribution: d.attribution.value ?? null,
    };
  }
  return {
    user_attributes: attributes,
    attribute_tombstones: tombstones,
    consent_state: { gdpr, ccpa: { data_sale_opt_out: w.ccpa.value ?? null } },
    devices,
    calculated_attributes: plain(),
  };
}

function collect(writes: Writes, batch: Batch, id: string, recordTimestampMs: number | undefined): void {
  const source = batch.source;
  const at = referenceBatchTime(batch, recordTimestampMs);
  const ws = writes.workspace(batch.workspace_id);
  writes.mpid = batch.mpid ?? writes.mpid;
  const times = [at];
  // Events take places 0..n-1 in the batch; the batch's own fields come after every event.
  const afterEvents = batch.events.length;

  const setAttribute = (name: string, value: UserAttributeValue, time: number, place: number) =>
    attributeRegister(ws, name).offer([time, source, id, place], { kind: 'set', state: { value, updated_ms: time, source, batch_id: id } });
  const removeAttribute = (name: string, time: number, place: number) =>
    attributeRegister(ws, name).offer([time, source, id, place], { kind: 'remove', tombstone: { deleted_ms: time, source, batch_id: id } });
  const setIdentity = (type: string, value: string | null, time: number, place: number) =>
    identityRegister(writes, type).offer([time, source, id, place], { value, updated_ms: time, source, batch_id: id });

  batch.events.forEach((event, place) => {
    const time = event.data.timestamp_unixtime_ms ?? at;
    times.push(time);
    switch (event.event_type) {
      case 'user_attribute_change':
        if (event.data.deleted) removeAttribute(event.data.user_attribute_name, time, place);
        else setAttribute(event.data.user_attribute_name, event.data.new, time, place);
        break;
      case 'user_identity_change':
        if (event.data.new) setIdentity(event.data.new.identity_type, event.data.new.identity, event.data.new.timestamp_unixtime_ms ?? time, place);
        else if (event.data.old) setIdentity(event.data.old.identity_type, null, time, place);
        break;
      case 'opt_out':
        writes.optOut.offer([time, event.data.is_opted_out, source, id, place], { value: event.data.is_opted_out, at: time });
        break;
      default:
        break;
    }
  });

  for (const name of Object.keys(batch.user_attributes)) setAttribute(name, batch.user_attributes[name]!, at, afterEvents);
  for (const name of batch.deleted_user_attributes) removeAttribute(name, at, afterEvents + 1);
  for (const [type, value] of Object.entries(batch.user_identities)) if (value !== null) setIdentity(type, value, at, afterEvents);

  if (batch.consent_state) {
    const { gdpr, ccpa } = batch.consent_state;
    for (const purpose of Object.keys(gdpr)) {
      const decision = gdpr[purpose]!;
      let register = ws.gdpr.get(purpose);
      if (!register) ws.gdpr.set(purpose, (register = new Register()));
      register.offer([decision.timestamp_unixtime_ms, !decision.consented, JSON.stringify(decision)], decision);
    }
    const optOut = ccpa.data_sale_opt_out;
    if (optOut) ws.ccpa.offer([optOut.timestamp_unixtime_ms, optOut.consented, JSON.stringify(optOut)], optOut);
  }

  writes.created = Math.min(writes.created, ...times);
  writes.lastSeen = Math.max(writes.lastSeen, ...times);

  const info = batch.device_info;
  if (info && info.device_application_stamp !== null) {
    let device = ws.devices.get(info.device_application_stamp);
    if (!device) ws.devices.set(info.device_application_stamp, (device = new DeviceWrites()));
    const batchLast = Math.max(...times);
    device.info.offer([batchLast, JSON.stringify(info)], info);
    device.firstSeen = Math.min(device.firstSeen, ...times);
    device.lastSeen = Math.max(device.lastSeen, batchLast);
    if (info.att_authorization_status !== null) {
      const attAt = info.att_timestamp_unixtime_ms ?? at;
      device.att.offer([attAt, info.att_authorization_status], { status: info.att_authorization_status, at: attAt });
    }
    const referrer = batch.application_info?.install_referrer ?? null;
    if (referrer !== null) device.attribution.offer([at, referrer], attributionOf(referrer, at));
  }
}

/** A batch carries only the referrer: publisher and campaign stay unknown (null). */
function attributionOf(referrer: string, at: number): InstallAttribution {
  return { install_referrer: referrer, publisher: null, campaign: null, attributed_ms: at };
}

function attributeRegister(ws: WorkspaceWrites, name: string): Register<AttributeWrite> {
  let register = ws.attributes.get(name);
  if (!register) ws.attributes.set(name, (register = new Register()));
  return register;
}

function identityRegister(writes: Writes, type: string): Register<IdentityState> {
  let register = writes.identities.get(type);
  if (!register) writes.identities.set(type, (register = new Register()));
  return register;
}

/** Names are data (`__proto__`, `constructor`): maps without a prototype. */
function plain<T>(): { [key: string]: T } {
  return Object.create(null) as { [key: string]: T };
}
