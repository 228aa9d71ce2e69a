import type { IdentityRef, IdentityStrategy } from './identity-strategy.ts';

/**
 * The pure part of identity resolution: in which order a batch's identities are visited, and which user
 * the claims found decide. The processor (`src/app/idsync-resolve-processor.ts`) reads and writes the
 * claims; everything it decides comes from here.
 */

/** What the identity index says about one identity: who holds it, and whether that user is known. */
export interface Claim {
  readonly mpid: string;
  /**
   * Whether the holder has a unique (login) identity. Claims written before the resolver knew, or by the
   * profile merge, count as known: that only ever prevents a conversion, never causes one.
   */
  readonly known: boolean;
}

/**
 * `batch`: a batch without MPID or an identify/login request (mParticle's resolution); `logout`: always a
 * new anonymous user for the identities (mParticle's default "on logout: create new user").
 */
export type ResolutionIntent = 'batch' | 'identify' | 'login' | 'logout';
export const RESOLUTION_INTENTS: readonly ResolutionIntent[] = ['batch', 'identify', 'login', 'logout'];

/**
 * Visiting order of the identity partitions: every lower-priority identity first, read only, then the
 * highest-priority one (the primary), whose task decides and writes its claim. Batches that share their
 * primary identity are therefore decided one after the other by one task, so they agree on one MPID.
 */
export function visitOrder(refs: readonly IdentityRef[]): string[] {
  return [...refs].sort((a, b) => b.rank - a.rank).map((r) => r.key);
}

/** A non-unique identity that moves from another user to the decided one (the index's newer claim wins). */
export interface Move {
  readonly key: string;
  readonly from: string;
}

export type Decision =
  | {
      readonly kind: 'resolved';
      readonly mpid: string;
      /** `matched`: an identity of the batch already belonged to the user; `converted`: an anonymous user got a new login id. */
      readonly how: 'matched' | 'converted';
      /** The identity whose claim decided. */
      readonly via: string;
      readonly known: boolean;
      readonly moves: readonly Move[];
      /** Unique identities left out of the batch because they belong to another user (`drop_identity`). */
      readonly dropped: readonly Move[];
    }
  | { readonly kind: 'mint'; readonly known: boolean; readonly moves: readonly Move[]; readonly dropped: readonly Move[] }
  | { readonly kind: 'conflict'; readonly identity: string; readonly mpids: readonly [string, string] };

/**
 * Which user the batch belongs to, from the claims found for its identities (`refs` highest priority first):
 * 1. A unique identity that is claimed decides (the highest-priority one when several are).
 * 2. Else, when the batch brings a unique identity nobody has (a new login id): the best match is converted
 *    if it is anonymous (it keeps its MPID and gains the login id); a known best match, or none, means a new user.
 * 3. Else the highest-priority claimed identity decides; nothing claimed means a new user.
 * `logout` skips 1-3: always a new user. Afterwards, a claimed unique identity of another user is a
 * conflict (`dead_letter`: the whole batch; `drop_identity`: that identity is left out); a claimed
 * non-unique identity of another user moves to this one.
 */
export function decide(refs: readonly IdentityRef[], claims: ReadonlyMap<string, Claim>, strategy: IdentityStrategy, intent: ResolutionIntent): Decision {
  const claimed = refs.filter((r) => claims.has(r.key));
  let winner: { mpid: string; how: 'matched' | 'converted'; via: string; known: boolean } | undefined;
  if (intent !== 'logout') {
    const uniqueClaimed = claimed.find((r) => r.unique);
    const bringsLoginId = refs.some((r) => r.unique);
    const best = claimed[0];
    if (uniqueClaimed) {
      winner = { mpid: claims.get(uniqueClaimed.key)!.mpid, how: 'matched', via: uniqueClaimed.key, known: true };
    } else if (bringsLoginId) {
      const claim = best && claims.get(best.key)!;
      if (best && claim && !claim.known) winner = { mpid: claim.mpid, how: 'converted', via: best.key, known: true };
    } else if (best) {
      const claim = claims.get(best.key)!;
      winner = { mpid: claim.mpid, how: 'matched', via: best.key, known: claim.known };
    }
  }
  const moves: Move[] = [];
  const dropped: Move[] = [];
  for (const r of claimed) {
    const holder = claims.get(r.key)!.mpid;
    if (winner && holder === winner.mpid) continue;
    if (!r.unique) moves.push({ key: r.key, from: holder });
    else if (strategy.onConflict === 'dead_letter') return { kind: 'conflict', identity: r.key, mpids: [winner?.mpid ?? '(new user)', holder] };
    else dropped.push({ key: r.key, from: holder });
  }
  if (winner) return { kind: 'resolved', ...winner, moves, dropped };
  const droppedKeys = new Set(dropped.map((d) => d.key));
  return { kind: 'mint', known: refs.some((r) => r.unique && !droppedKeys.has(r.key)), moves, dropped };
}

/**
 * The identities whose claims must be written for the decided user, highest priority first: those not
 * yet held by it (or held as anonymous by a user who is now known), minus dropped ones. The primary is written where
 * the decision is made; the rest are visited in their own partitions before the batch is merged, so a
 * second batch with any of them finds the user even before the profile merge indexed them.
 */
export function linksNeeded(refs: readonly IdentityRef[], claims: ReadonlyMap<string, Claim>, mpid: string, known: boolean, dropped: readonly Move[]): string[] {
  const skip = new Set(dropped.map((d) => d.key));
  return refs.filter((r) => !skip.has(r.key)).filter((r) => {
    const claim = claims.get(r.key);
    // `known` only ever goes up: a claim that counts as known never becomes convertible again.
    return claim === undefined || claim.mpid !== mpid || (known && !claim.known);
  }).map((r) => r.key);
}

const INT64_DIGITS = /^-?[0-9]{1,19}$/;

/**
 * A batch goes through resolution when it has no MPID and its key is not one either: unkeyed, or keyed
 * by an identity. A batch without MPID keyed by a decimal MPID keeps the key as its MPID (how raw topics
 * were always keyed).
 */
export function needsResolution(mpid: string | null, key: string | null): boolean {
  if (mpid !== null) return false;
  if (key === null || !INT64_DIGITS.test(key)) return true;
  const n = BigInt(key);
  return n < -(2n ** 63n) || n >= 2n ** 63n;
}
