import type { ProfileState } from '../schema/profile-state.ts';

export const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * A profile expires when the user has been inactive for longer than the lifetime: its newest event
 * time (`last_seen_timestamp_ms`) is more than `lifetimeDays` before `nowMs`. Event time, not arrival
 * time, so a replay of old batches does not keep a user alive.
 *
 * @example safe: `isExpired(profile, ctx.currentWallClockTime(), 30)` inside the sweep punctuator.
 * @example unsafe: `isExpired(profile, Date.now(), 30)` — tests cannot move that clock.
 */
export function isExpired(profile: ProfileState, nowMs: number, lifetimeDays: number): boolean {
  return nowMs - profile.last_seen_timestamp_ms > lifetimeDays * DAY_MS;
}

/** History entries processed before this time are past the long-term retention and are swept. */
export function historyCutoffMs(nowMs: number, retentionDays: number): number {
  return nowMs - retentionDays * DAY_MS;
}
