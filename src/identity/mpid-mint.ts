import { MpidSpaceExhaustedError } from './errors.ts';

/**
 * New MPIDs: signed 64-bit, random-looking, never reused. Random draws alone can collide (birthday
 * bound: ~3% over a billion users); here uniqueness comes from a slot no one else can hold and the
 * randomness from a keyed permutation of it:
 *   slot = random 16 bits | partition (16 bits) | sequence (32 bits, the partition's changelogged counter)
 *   MPID = 4-round Feistel permutation of the slot (a bijection on 64 bits), as a signed long.
 * Two tasks never share a partition and a task never reuses a sequence number (the counter is
 * written in the same commit as the claim it minted for), so two mints never yield one MPID. Pure:
 * the caller passes the random bits and the key.
 */

export const MAX_MINT_PARTITION = 0xffff;
export const MAX_MINT_SEQUENCE = 0xffff_ffff;

export interface MintSlot {
  readonly partition: number;
  readonly sequence: number;
  /** 16 random bits (0..65535). */
  readonly random16: number;
}

/** A 32-bit permutation key from a text (the application id): FNV-1a. */
export function mintKey(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** murmur3's 32-bit finaliser, keyed per round: the Feistel round function. */
function round(x: number, key: number, i: number): number {
  let h = (x ^ key ^ Math.imul(i + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The MPID of a slot as a decimal string, or undefined for the one slot that maps to 0 (mParticle's
 * "no user"): the caller then takes the next sequence number.
 */
export function mintMpid(slot: MintSlot, key: number): string | undefined {
  if (slot.partition < 0 || slot.partition > MAX_MINT_PARTITION || slot.sequence < 0 || slot.sequence > MAX_MINT_SEQUENCE) {
    throw new MpidSpaceExhaustedError(slot.partition, slot.sequence);
  }
  let left = (((slot.random16 & 0xffff) << 16) | slot.partition) >>> 0;
  let right = slot.sequence >>> 0;
  for (let i = 0; i < 4; i++) [left, right] = [right, (left ^ round(right, key, i)) >>> 0];
  const mpid = BigInt.asIntN(64, (BigInt(left) << 32n) | BigInt(right));
  return mpid === 0n ? undefined : mpid.toString();
}
