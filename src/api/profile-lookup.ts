import type { ProfileState } from '../schema/profile-state.ts';

/** Response header: per raw topic, the input offset the answering task has processed (`<topic>:<partition>@<offset>,...`). */
export const FRESHNESS_HEADER = 'x-profile-stream-offsets';

/**
 * Who answers for a key: this instance, or the one at `applicationServer` (host:port). A local owner may
 * carry the key's partition, so the read that follows does not work it out again.
 */
export type KeyOwner = { readonly local: true; readonly partition?: number } | { readonly local: false; readonly applicationServer: string | undefined };

/** Why a lookup could not answer now; the route turns both into 503 with Retry-After. */
export type Unavailable = { readonly unavailable: 'restoring' | 'not_running' | 'moved'; readonly detail: string };

/**
 * What the Profile API needs of the stream processor. Routes use this and never the runtime directly,
 * so they can be tested with an in-memory implementation and the runtime can change behind it.
 */
export interface ProfileLookup {
  ownerOfProfile(mpid: string): Promise<KeyOwner>;
  ownerOfIdentity(type: string, value: string): Promise<KeyOwner>;
  /**
   * Only for keys this instance owns. `owner`: what `ownerOfProfile` just answered for this MPID, so a
   * request works out ownership once (the read still refuses a key that moved in between: `moved`).
   */
  getProfile(mpid: string, owner?: KeyOwner): Promise<{ profile: ProfileState | undefined; freshness: string } | Unavailable>;
  /** `known`: whether identity resolution saw the holder with a unique (login) identity; absent when it cannot tell. */
  resolveIdentity(type: string, value: string): Promise<{ mpid: string | undefined; known?: boolean } | Unavailable>;
}

export function isUnavailable(value: object): value is Unavailable {
  return 'unavailable' in value;
}
