import type { ProfileState } from '../schema/profile-state.ts';
import { PROFILE_FIELDS, toProfileResponse, type ProfileField } from './profile-response.ts';

/** Distinct (workspace, fields) answers kept per profile object; beyond, the oldest is dropped. */
export const ANSWERS_PER_PROFILE = 8;

/**
 * The Profile API's written answer (the JSON text) per stored profile object, so that repeated reads of a
 * profile that has not changed skip `toProfileResponse` and `JSON.stringify` (~30 µs and the garbage of the
 * intermediate object, per read).
 *
 * Why keying by the object is safe: while the runtime's write cache holds a profile's bytes, every read
 * returns the very same `ProfileState` object (`decodeOnce`, src/app/topology/decode-once.ts), and profile
 * objects are never modified once built. Checked in the code that writes profiles: `mergeBatch` and its
 * `mergeIdentities` / `mergeAttributes` / `mergeConsent` / `mergeDevice`, the audience and calculated
 * attribute steps (src/audiences) all copy a map (`copyDict`, spreads) before `setEntry` / `delete` on the
 * copy and return new objects; erasure and expiry delete the whole profile. So a changed profile is a new
 * object and gets a new answer. The answer depends on nothing but the profile, the workspace and the
 * fields (`toProfileResponse` is pure).
 *
 * Bounded: entries live as long as their profile object (a `WeakMap`), and each profile keeps at most
 * `ANSWERS_PER_PROFILE` answers, so a client cycling through field sets or workspaces cannot grow it.
 */
export class ProfileAnswerCache {
  private readonly answers = new WeakMap<ProfileState, Map<string, string>>();

  /** `JSON.stringify(toProfileResponse(profile, workspaceId, fields))`, written once per profile object. */
  answer(profile: ProfileState, workspaceId: string, fields: ReadonlySet<ProfileField>): string {
    const key = `${fieldsMask(fields)}:${workspaceId}`;
    let byKey = this.answers.get(profile);
    const cached = byKey?.get(key);
    if (cached !== undefined) return cached;
    const written = JSON.stringify(toProfileResponse(profile, workspaceId, fields));
    if (byKey === undefined) {
      byKey = new Map();
      this.answers.set(profile, byKey);
    } else if (byKey.size >= ANSWERS_PER_PROFILE) {
      byKey.delete(byKey.keys().next().value!);
    }
    byKey.set(key, written);
    return written;
  }

  /** How many answers are kept for this profile object (at most `ANSWERS_PER_PROFILE`). */
  heldFor(profile: ProfileState): number {
    return this.answers.get(profile)?.size ?? 0;
  }
}

/** The fields set in a canonical form (the order they were asked in does not matter): one bit per field. */
function fieldsMask(fields: ReadonlySet<ProfileField>): number {
  let mask = 0;
  for (let i = 0; i < PROFILE_FIELDS.length; i++) if (fields.has(PROFILE_FIELDS[i]!)) mask |= 1 << i;
  return mask;
}
