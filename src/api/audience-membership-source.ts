/** Joins and leaves of one audience in one hour (UTC hour start). */
export interface HourlyChanges {
  readonly hour_ms: number;
  readonly joins: number;
  readonly leaves: number;
}

export interface AudienceMember {
  readonly mpid: string;
  readonly added_ms: number;
}

/**
 * Audience membership as the Audiences page reads it. `src/app/adapters/audience-membership-reader.ts` answers it
 * from the audience membership topic; route tests use an in-memory one.
 */
export interface AudienceMembershipSource {
  /** Resolves true once everything on the topic when it was first asked for has been read, false after `timeoutMs`. */
  caughtUp(timeoutMs: number): Promise<boolean>;
  size(audienceId: string): number;
  /** `hours` buckets, oldest first, the last one holding `nowMs`. */
  hourly(audienceId: string, nowMs: number, hours: number): HourlyChanges[];
  /** Newest members first. */
  members(audienceId: string, offset: number, limit: number): { total: number; members: AudienceMember[] };
}
