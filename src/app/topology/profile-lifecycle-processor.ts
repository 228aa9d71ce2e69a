import type { Logger } from 'pino';
import { Record, type KeyValueStore, type Processor, type ProcessorContext } from '../../streams/index.ts';
import { erasureRecord, identitiesOf, type DsrCompleted, type ErasureCommand, type ErasureRecord } from '../../profiles/erasure.ts';
import { deviceIdentitiesOf } from '../../identity/device-identities.ts';
import { identityKey } from '../../profiles/identity-merge.ts';
import { entriesOf } from '../../shared/dictionary.ts';
import type { IndexedIdentityChange } from './identity-index-processor.ts';
import { historyCutoffMs, isExpired, DAY_MS } from '../../profiles/retention.ts';
import type { HistoryRecord } from '../../schema/history-record.ts';
import type { ProfileState } from '../../schema/profile-state.ts';
import { HISTORY_DAYS_STORE, HISTORY_STORE, historyDay, historyDayKey, historyKey, historyOf, historyPrefix, parseHistoryDayKey, parseHistoryKey } from './history-store.ts';
import { DSR_COMPLETION_SINK, ERASURES_STORE, IDENTITY_REPARTITION_SINK, PROFILES_STORE } from './profile-node-names.ts';
import type { AudienceExit } from './audience-exit.ts';
import { BATCH_DEDUP_STORE } from './batch-dedup-store.ts';
import type { RecentBatches } from '../../profiles/batch-dedup.ts';

export interface RetentionOptions {
  /** 30, 60 or 90 days of inactivity before a profile expires. */
  readonly profileLifetimeDays: number;
  /** How long the history store keeps a batch (the history topic's retention.ms matches). */
  readonly historyRetentionDays: number;
  /** How often the profiles store is swept for expired profiles. Default one hour. */
  readonly profileSweepIntervalMs?: number;
  /** How often the history store is swept by time. Default one day. */
  readonly historySweepIntervalMs?: number;
}

/**
 * The profile's end of life, in the task that owns the user (same sub-topology and stores as
 * `profile-merge`): the retention sweeps (punctuators on the injected clock) and erasure commands
 * arriving from the DSR sub-topology through the `erasures` repartition topic.
 *
 * Every removal is a store delete, so the changelogs get tombstones; identity index entries go away
 * through `removed` identity changes on the identity repartition topic. The history topic is the history
 * store's changelog, so each history delete is a tombstone there under its own key (the topic is compacted
 * and time-limited); the retention sweep's deletes write them too.
 */
export class ProfileLifecycleProcessor implements Processor<string, ErasureCommand, unknown, unknown> {
  private ctx!: ProcessorContext<unknown, unknown>;
  private profiles!: KeyValueStore<string, ProfileState>;
  private dedup!: KeyValueStore<string, RecentBatches>;
  private history!: KeyValueStore<string, HistoryRecord>;
  private historyDays!: KeyValueStore<string, string>;
  private erasures!: KeyValueStore<string, ErasureRecord>;

  constructor(
    private readonly options: RetentionOptions,
    private readonly logger: Logger,
    /** Membership deletes and aggregate removal; absent when the deployment defines no audiences. */
    private readonly audiences?: AudienceExit,
  ) {}

  init(context: ProcessorContext<unknown, unknown>): void {
    this.ctx = context;
    this.profiles = context.store(PROFILES_STORE);
    this.dedup = context.store(BATCH_DEDUP_STORE);
    this.history = context.store(HISTORY_STORE);
    this.historyDays = context.store(HISTORY_DAYS_STORE);
    this.erasures = context.store(ERASURES_STORE);
    this.audiences?.init(context);
    context.schedule(this.options.profileSweepIntervalMs ?? 60 * 60 * 1000, async (now) => void (await this.sweepProfiles(now)));
    context.schedule(this.options.historySweepIntervalMs ?? DAY_MS, async (now) => void (await this.sweepHistory(now)));
  }

  /**
   * Expires every profile inactive for longer than the lifetime. Its history stays (reengagement reads
   * it), and so do its remembered batch ids in `batch-dedup`: a replay of a batch merged before expiry is
   * still recognised, as when the ids were part of the history snapshot. `sweepHistory` drops them once
   * the user's last history entry is gone.
   */
  async sweepProfiles(nowMs: number): Promise<number> {
    const expired: ProfileState[] = [];
    // Collect first, delete after: no store iterator is held open across writes.
    for await (const { value } of this.profiles.range()) {
      if (isExpired(value, nowMs, this.options.profileLifetimeDays)) expired.push(value);
    }
    for (const profile of expired) {
      await this.audiences?.leave(profile.mpid, profile, nowMs);
      await this.profiles.delete(profile.mpid);
      await this.expireIdentities(profile, nowMs);
    }
    if (expired.length > 0) this.logger.info({ task: this.ctx.taskId, expired: expired.length, lifetimeDays: this.options.profileLifetimeDays }, 'expired inactive profiles');
    return expired.length;
  }

  /**
   * Deletes history entries processed before the retention cutoff. `history-days` says which users have
   * history on the days up to the cutoff, so only their oldest entries are read, not the whole store.
   * A day that straddles the cutoff stays indexed until the next sweep finishes it.
   */
  async sweepHistory(nowMs: number): Promise<number> {
    const cutoff = historyCutoffMs(nowMs, this.options.historyRetentionDays);
    const days: Array<{ key: string; dayMs: number; mpid: string }> = [];
    for await (const { key } of this.historyDays.range(undefined, historyDayKey(cutoff, '\uffff'))) days.push({ key, ...parseHistoryDayKey(key) });
    let removed = 0;
    for (const mpid of new Set(days.map((d) => d.mpid))) {
      const old: string[] = [];
      // Keys order by time within a user; the bound is exclusive of the cutoff millisecond's first key.
      for await (const { key } of this.history.range(historyKey(mpid, 0, 0), historyKey(mpid, cutoff - 1, '9'.repeat(20)))) old.push(key);
      for (const key of old) await this.history.delete(key);
      removed += old.length;
      if (old.length > 0) await this.forgetBatchesOfGoneUser(mpid);
    }
    for (const { key, dayMs } of days) if (dayMs + DAY_MS <= cutoff) await this.historyDays.delete(key);
    if (removed > 0) this.logger.info({ task: this.ctx.taskId, removed, retentionDays: this.options.historyRetentionDays }, 'swept history past retention');
    return removed;
  }

  /** An expired user whose history is all past retention can no longer be reengaged: their dedup ids go too. */
  private async forgetBatchesOfGoneUser(mpid: string): Promise<void> {
    if ((await this.profiles.get(mpid)) !== undefined) return;
    for await (const _ of this.history.prefix(historyPrefix(mpid))) return;
    await this.dedup.delete(mpid);
  }

  async process(record: Record<string, ErasureCommand>): Promise<void> {
    const command = record.value;
    if (command === null || command === undefined) return;
    const now = this.ctx.currentWallClockTime();
    const result = command.mpid === undefined ? 'not_found' : await this.erase(command.mpid, command.request_id, now);
    const completed: DsrCompleted = { kind: 'completed', request_id: command.request_id, workspace_id: command.workspace_id, completed_ms: now, result };
    await this.ctx.forward(new Record(command.request_id, completed, now), DSR_COMPLETION_SINK);
  }

  /**
   * Removes everything of `mpid` this task holds: profile, remembered batch ids, audience memberships and aggregates, history
   * (store and topic), identity index entries; then records the erasure so the user is never restored by reengagement.
   */
  private async erase(mpid: string, requestId: string, nowMs: number): Promise<'erased' | 'not_found'> {
    const [profile, previous] = await Promise.all([this.profiles.get(mpid), this.erasures.get(mpid)]);
    const entries = await historyOf(this.history, mpid);
    const snapshots = entries.flatMap((e) => (e.value.profile ? [e.value.profile] : []));
    await this.audiences?.leave(mpid, profile, nowMs);
    if (profile) await this.profiles.delete(mpid);
    // The remembered batch ids are the user's too; after an erasure new data starts a new, empty user.
    await this.dedup.delete(mpid);
    // Every identity the user ever held here, live or kept for an expired profile; the index only acts on this MPID's own claims.
    const allProfiles = profile ? [profile, ...snapshots] : snapshots;
    await this.forwardIdentityChanges([...identitiesOf(allProfiles), ...deviceIdentitiesOf(allProfiles)].map(({ type, value }) => ({ type, value, updated_ms: nowMs })), mpid, 'erased', nowMs);
    for (const day of new Set(entries.map((e) => historyDay(parseHistoryKey(e.key).processedMs)))) await this.historyDays.delete(historyDayKey(day, mpid));
    // Each delete is a tombstone on the history topic: it is the history store's changelog.
    for (const { key } of entries) await this.history.delete(key);
    const found = profile !== undefined || entries.length > 0;
    await this.erasures.put(mpid, erasureRecord(previous, mpid, requestId, nowMs, allProfiles));
    this.logger.info({ mpid, request_id: requestId, history_entries: entries.length, had_profile: profile !== undefined }, 'erased user');
    return found ? 'erased' : 'not_found';
  }

  /**
   * The index keeps a claim only while the user holds it: one `removed` change per identity the profile
   * has, marked `expired` so the index keeps it aside for an erasure by identity while the history lasts.
   */
  private async expireIdentities(profile: ProfileState, nowMs: number): Promise<void> {
    const held = entriesOf(profile.user_identities).flatMap(([type, state]) => (state.value === null ? [] : [{ type, value: state.value, updated_ms: state.updated_ms }]));
    await this.forwardIdentityChanges(held, profile.mpid, 'expired', nowMs);
  }

  private async forwardIdentityChanges(identities: ReadonlyArray<{ type: string; value: string; updated_ms: number }>, mpid: string, reason: 'expired' | 'erased', nowMs: number): Promise<void> {
    await Promise.all(identities.map(({ type, value, updated_ms }) => {
      const key = identityKey(type, value);
      const change: IndexedIdentityChange = { op: 'removed', identity_type: type, value, key, mpid, updated_ms, reason };
      return this.ctx.forward(new Record(key, change, nowMs), IDENTITY_REPARTITION_SINK);
    }));
  }
}
