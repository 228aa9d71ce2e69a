import type { Logger } from 'pino';
import type { KeyValueStore, ProcessorContext } from '../../streams/index.ts';
import { Record } from '../../streams/index.ts';
import { applySeedToUser, type UserAggregates } from '../../audiences/aggregates.ts';
import type { Definitions } from '../../audiences/definitions.ts';
import { viewOf } from '../../audiences/event-view.ts';
import { refreshUser, type RefreshResult } from '../../audiences/user-refresh.ts';
import type { Seed } from '../../audiences/seed.ts';
import { batchTime } from '../../shared/write-stamp.ts';
import type { AudienceMembershipChange } from '../../schema/audience-membership-change.ts';
import type { Batch } from '../../schema/batch.ts';
import type { ProfileState } from '../../schema/profile-state.ts';

export const AGGREGATES_STORE = 'aggregates';
/** `<due ms, 15 digits>:<mpid>` -> mpid: users whose values change with time alone, in due order. */
export const AUDIENCE_DUE_STORE = 'audience-due';
export const AUDIENCE_MEMBERSHIPS_SINK = 'audience-memberships';
export const DEFAULT_AUDIENCE_SWEEP_INTERVAL_MS = 60_000;

/** The `aggregates` store value: the domain's aggregates and the due-index entry that points at them. */
export type StoredAggregates = UserAggregates & { due_ms: number | null };

export const dueKey = (dueMs: number, mpid: string): string => `${String(dueMs).padStart(15, '0')}:${mpid}`;

/**
 * Calculated attributes and audiences inside the profile processor: `afterMerge` runs between the merge
 * and enrichment, so the enriched batch that carries an event carries the values it changed; a
 * punctuator sweeps the users whose windows moved (`audience-due`), with no event needed. Membership
 * changes go to the `audience-memberships` sink keyed by MPID, in the same commit as the stores.
 */
export class AudienceStep {
  private ctx!: ProcessorContext<unknown, unknown>;
  private profiles!: KeyValueStore<string, ProfileState>;
  private aggregates!: KeyValueStore<string, StoredAggregates>;
  private due!: KeyValueStore<string, string>;

  constructor(
    private readonly definitions: Definitions,
    private readonly logger: Logger,
    private readonly options: {
      readonly profilesStore: string;
      readonly sweepIntervalMs?: number;
      /** False for a second user of the same stores in the task (the seed processor): one sweep per task. */
      readonly sweep?: boolean;
    },
  ) {}

  init(context: ProcessorContext<unknown, unknown>): void {
    this.ctx = context;
    this.profiles = context.store<string, ProfileState>(this.options.profilesStore);
    this.aggregates = context.store<string, StoredAggregates>(AGGREGATES_STORE);
    this.due = context.store<string, string>(AUDIENCE_DUE_STORE);
    if (this.options.sweep !== false) context.schedule(this.options.sweepIntervalMs ?? DEFAULT_AUDIENCE_SWEEP_INTERVAL_MS, (now) => this.sweep(now));
  }

  async prefetch(mpids: readonly string[]): Promise<void> {
    await this.aggregates.getMany(mpids);
  }

  /** The merged profile with its calculated attributes and memberships brought up to date (the caller stores it). */
  async afterMerge(mpid: string, batch: Batch, merged: ProfileState, recordTimestampMs: number): Promise<ProfileState> {
    const now = this.ctx.currentWallClockTime();
    const batchMs = batchTime(batch, recordTimestampMs);
    const stored = await this.aggregates.get(mpid);
    const result = refreshUser({
      profile: merged,
      aggregates: stored,
      definitions: this.definitions,
      nowMs: now,
      events: { workspace: batch.workspace_id, views: batch.events.map((e) => viewOf(e, batchMs)) },
    });
    await this.save(mpid, stored, result, now);
    return result.profile;
  }

  /**
   * Restarts one calculated attribute of the user from a seed (live events count from its cutoff on) and
   * refreshes values and memberships, emitting changes like a batch would. A user not seen yet keeps the
   * seed in `aggregates` until the first batch. Throws `SeedInvalidError` (the runtime dead-letters it).
   */
  async applySeed(mpid: string, seed: Seed): Promise<void> {
    const now = this.ctx.currentWallClockTime();
    const [stored, profile] = await Promise.all([this.aggregates.get(mpid), this.profiles.get(mpid)]);
    const seeded = applySeedToUser(stored, this.definitions.calculated, seed, now);
    if (profile === undefined) {
      await this.aggregates.put(mpid, { ...seeded, due_ms: stored?.due_ms ?? null });
      return;
    }
    const result = refreshUser({ profile, aggregates: seeded, definitions: this.definitions, nowMs: now });
    if (result.profile !== profile) await this.profiles.put(mpid, result.profile);
    // The seeded aggregates differ from the stored ones even when the refresh found nothing more to change.
    await this.save(mpid, stored, { ...result, aggregatesChanged: true }, now);
  }

  /** Refreshes every user due by `now`: windows that moved change values and memberships without an event. */
  async sweep(now: number): Promise<void> {
    const due: Array<{ key: string; mpid: string }> = [];
    for await (const { key, value } of this.due.range(undefined, `${String(now).padStart(15, '0')}:\uffff`)) due.push({ key, mpid: value });
    for (const { key, mpid } of due) {
      await this.due.delete(key);
      const [profile, stored] = await Promise.all([this.profiles.get(mpid), this.aggregates.get(mpid)]);
      if (profile === undefined || stored === undefined) {
        // The profile expired or was erased: its aggregates go with it.
        if (stored !== undefined) await this.aggregates.delete(mpid);
        continue;
      }
      const result = refreshUser({ profile, aggregates: stored, definitions: this.definitions, nowMs: now });
      if (result.profile !== profile) await this.profiles.put(mpid, result.profile);
      await this.save(mpid, { ...stored, due_ms: null }, result, now);
    }
    if (due.length > 0) this.logger.debug({ task: this.ctx.taskId, users: due.length }, 'audience sweep refreshed due users');
  }

  private async save(mpid: string, stored: StoredAggregates | undefined, result: RefreshResult, now: number): Promise<void> {
    const previousDue = stored?.due_ms ?? null;
    if (result.aggregatesChanged || previousDue !== result.nextChangeAtMs) {
      await this.aggregates.put(mpid, { ...result.aggregates, due_ms: result.nextChangeAtMs });
    }
    if (previousDue !== result.nextChangeAtMs) {
      if (previousDue !== null) await this.due.delete(dueKey(previousDue, mpid));
      if (result.nextChangeAtMs !== null) await this.due.put(dueKey(result.nextChangeAtMs, mpid), mpid);
    }
    await Promise.all(result.changes.map((change) =>
      this.ctx.forward(new Record<string, AudienceMembershipChange>(mpid, change, now), AUDIENCE_MEMBERSHIPS_SINK)));
  }
}
