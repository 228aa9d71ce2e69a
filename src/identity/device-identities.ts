import type { ProfileState } from '../schema/profile-state.ts';

/**
 * Every device identity the profiles hold, with each device's application stamp: the identities the
 * resolver may have claimed for the user, which an erasure must take out of the identity index too.
 */
export function deviceIdentitiesOf(profiles: readonly ProfileState[]): Array<{ type: string; value: string }> {
  const seen = new Map<string, { type: string; value: string }>();
  const add = (type: string, value: string): void => void seen.set(`${type}:${value}`, { type, value });
  for (const profile of profiles) {
    for (const workspace of Object.values(profile.workspaces)) {
      for (const [stamp, device] of Object.entries(workspace.devices)) {
        add('device_application_stamp', stamp);
        for (const [type, value] of Object.entries(device.device_identities)) add(type, value);
      }
    }
  }
  return [...seen.values()];
}
