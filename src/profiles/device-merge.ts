import { DEVICE_IDENTITY_TYPES, type Batch, type DeviceInfo } from '../schema/batch.ts';
import type { DeviceState, InstallAttribution, WorkspaceProfile } from '../schema/profile-state.ts';
import { copyDict, dict, get, setEntry, type Dict } from '../shared/dictionary.ts';
import type { BatchContext } from '../shared/write-stamp.ts';

/** Earliest and latest time a batch shows a device in use: its events' times and the batch's own. */
export interface SeenRange {
  readonly first: number;
  readonly last: number;
}

/**
 * Merges the batch's device (keyed by `device_application_stamp`) into a workspace's devices. A batch
 * without device info or stamp leaves devices alone: there is no install to attach it to.
 *
 * - `first_seen_ms` / `last_seen_ms`: min / max over every batch from the install.
 * - `device_info` is one register whose stamp is `last_seen_ms` itself: the device info of the batch
 *   that saw the install last wins (ties: the greater JSON), so any arrival order keeps the same one.
 * - `device_identities` are those of the winning device info. (Keeping an identity the latest info
 *   lacks would need a time per identity, which the stored form does not have.)
 * - ATT status: latest by `att_timestamp_unixtime_ms` (else the batch time); ties to the greater status.
 * - Install attribution: the first one (earliest batch time; ties to the smaller referrer) is kept.
 */
export function mergeDevice(
  devices: Dict<DeviceState>,
  batch: Batch,
  context: BatchContext,
  seen: SeenRange,
): { devices: Dict<DeviceState>; changed: boolean } {
  const info = batch.device_info;
  const stamp = info?.device_application_stamp ?? null;
  if (info === null || stamp === null) return { devices, changed: false };

  const current = get(devices, stamp);
  const next = current === undefined ? newDevice(info, seen) : updateDevice(current, info, seen);
  const withAtt = mergeAtt(next, info, context.batchMs);
  const merged = mergeAttribution(withAtt, batch.application_info?.install_referrer ?? null, context.batchMs);
  if (current !== undefined && sameDevice(current, merged)) return { devices, changed: false };
  const out = copyDict(devices);
  setEntry(out, stamp, merged);
  return { devices: out, changed: true };
}

/**
 * The profile's `limit_ad_tracking`: that of the most recently seen device (over all workspaces) whose
 * info says anything about it. Derived from the devices rather than kept as its own register, so it is
 * the same in every arrival order; false when no device ever said.
 */
export function latestLimitAdTracking(workspaces: Dict<WorkspaceProfile>): boolean {
  let best: DeviceState | undefined;
  for (const workspaceId of Object.keys(workspaces)) {
    const devices = workspaces[workspaceId]!.devices;
    for (const key of Object.keys(devices)) {
      const device = devices[key]!;
      if (device.device_info.limit_ad_tracking === null) continue;
      if (best === undefined || infoWins(device.last_seen_ms, device.device_info, best.last_seen_ms, best.device_info)) {
        best = device;
      }
    }
  }
  return best?.device_info.limit_ad_tracking ?? false;
}

function newDevice(info: DeviceInfo, seen: SeenRange): DeviceState {
  return {
    device_info: { ...info },
    device_identities: identitiesOf(info),
    first_seen_ms: seen.first,
    last_seen_ms: seen.last,
    att_status: null,
    att_updated_ms: null,
    install_attribution: null,
  };
}

function updateDevice(current: DeviceState, info: DeviceInfo, seen: SeenRange): DeviceState {
  const replaceInfo = infoWins(seen.last, info, current.last_seen_ms, current.device_info);
  return {
    ...current,
    device_info: replaceInfo ? { ...info } : current.device_info,
    device_identities: replaceInfo ? identitiesOf(info) : current.device_identities,
    first_seen_ms: Math.min(current.first_seen_ms, seen.first),
    last_seen_ms: Math.max(current.last_seen_ms, seen.last),
  };
}

function infoWins(candidateMs: number, candidate: DeviceInfo, currentMs: number, current: DeviceInfo): boolean {
  if (candidateMs !== currentMs) return candidateMs > currentMs;
  return JSON.stringify(candidate) > JSON.stringify(current);
}

function mergeAtt(device: DeviceState, info: DeviceInfo, batchMs: number): DeviceState {
  const status = info.att_authorization_status;
  if (status === null) return device;
  const at = info.att_timestamp_unixtime_ms ?? batchMs;
  const current = device.att_updated_ms;
  const newer = current === null || at > current || (at === current && status > (device.att_status ?? ''));
  return newer ? { ...device, att_status: status, att_updated_ms: at } : device;
}

function mergeAttribution(device: DeviceState, referrer: string | null, batchMs: number): DeviceState {
  if (referrer === null) return device;
  const current = device.install_attribution;
  const currentMs = current?.attributed_ms ?? null;
  const earlier =
    current === null ||
    currentMs === null ||
    batchMs < currentMs ||
    (batchMs === currentMs && referrer < (current.install_referrer ?? ''));
  if (!earlier) return device;
  const attribution: InstallAttribution = { install_referrer: referrer, publisher: null, campaign: null, attributed_ms: batchMs };
  return { ...device, install_attribution: attribution };
}

function identitiesOf(info: DeviceInfo): Dict<string> {
  const out = dict<string>();
  for (const type of DEVICE_IDENTITY_TYPES) {
    const value = info[type];
    if (value !== null) setEntry(out, type, value);
  }
  return out;
}

function sameDevice(a: DeviceState, b: DeviceState): boolean {
  return (
    a.first_seen_ms === b.first_seen_ms &&
    a.last_seen_ms === b.last_seen_ms &&
    a.device_info === b.device_info &&
    a.att_status === b.att_status &&
    a.att_updated_ms === b.att_updated_ms &&
    a.install_attribution === b.install_attribution
  );
}
