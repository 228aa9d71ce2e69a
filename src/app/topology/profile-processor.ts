import { MpidMismatchError } from '../../profiles/errors.ts';
import type { Logger } from 'pino';
import type { Processor, ProcessorContext, KeyValueStore } from '../../streams/index.ts';
import { Record } from '../../streams/index.ts';
import { enrich } from '../../profiles/enrich.ts';
import type { IntegrationConfig } from '../../profiles/integration.ts';
import { mergeBatch } from '../../profiles/merge-batch.ts';
import type { RecentBatches } from '../../profiles/batch-dedup.ts';
import type { IdentityChange } from '../../profiles/identity-merge.ts';
import type { Batch } from '../../schema/batch.ts';
import type { HistoryRecord } from '../../schema/history-record.ts';
import type { ProfileState } from '../../schema/profile-state.ts';
import type { ErasureRecord } from '../../profiles/erasure.ts';
import { HISTORY_DAYS_STORE, HISTORY_STORE, historyDayKey, historyKey } from './history-store.ts';
import { ERASURES_STORE, IDENTITY_REPARTITION_SINK, PROFILES_STORE } from './profile-node-names.ts';
import { reengage } from './reengagement-step.ts';
import { BATCH_DEDUP_STORE } from './batch-dedup-store.ts';
import type { AudienceStep } from './audience-step.ts';
import { needsResolution } from '../../identity/resolution.ts';

/** Child node names the processor forwards to; the topology wires sinks under these names. */
export const integrationSinkName = (integration: IntegrationConfig): string => `enriched-${integration.name}`;

/**
 * Merges each raw batch into its user's profile (the `profiles` store, keyed by MPID) and forwards
 * the enriched batch to each integration that takes it and identity changes to the identity index (re-keyed by `type:value`). A replayed batch changes and
 * emits nothing. A batch over a limit throws, and the runtime dead-letters it with the limit named.
 * A user absent from `profiles` is reengaged from the `history` store (unless erased); every batch is
 * kept there with its snapshot; the history topic is that store's changelog, so it gets each one under
 * the same key when the store is flushed. The batch ids that make a
 * replay recognisable live in `batch-dedup`, apart from the profile, so neither the profiles changelog
 * nor the history snapshots carry them.
 */
export class ProfileProcessor implements Processor<string, Batch, unknown, unknown> {
  private ctx!: ProcessorContext<unknown, unknown>;
  private profiles!: KeyValueStore<string, ProfileState>;
  private dedup!: KeyValueStore<string, RecentBatches>;
  private history!: KeyValueStore<string, HistoryRecord>;
  private historyDays!: KeyValueStore<string, string>;
  private erasures!: KeyValueStore<string, ErasureRecord>;

  constructor(
    private readonly integrations: readonly IntegrationConfig[],
    private readonly logger: Logger,
    private readonly rawTopics: readonly string[] = [],
    /** Calculated attributes and audiences; absent when the deployment defines none. */
    private readonly audiences?: AudienceStep,
  ) {}

  init(context: ProcessorContext<unknown, unknown>): void {
    this.ctx = context;
    this.profiles = context.store<string, ProfileState>(PROFILES_STORE);
    this.dedup = context.store<string, RecentBatches>(BATCH_DEDUP_STORE);
    this.history = context.store<string, HistoryRecord>(HISTORY_STORE);
    this.historyDays = context.store<string, string>(HISTORY_DAYS_STORE);
    this.erasures = context.store<string, ErasureRecord>(ERASURES_STORE);
    this.audiences?.init(context);
  }

  async prefetch(records: readonly Record<string, Batch>[]): Promise<void> {
    // One read for the whole fetched batch; the write cache keeps the values for `process`.
    // Unkeyed and identity-keyed batches go to resolution first: their keys are no MPIDs to read.
    const keys = [...new Set(records.filter((r) => r.key !== null && !needsResolution(r.value.mpid, r.key)).map((r) => r.key))];
    await Promise.all([this.profiles.getMany(keys), this.dedup.getMany(keys), this.erasures.getMany(keys), this.audiences?.prefetch(keys)]);
  }

  async process(record: Record<string, Batch>): Promise<void> {
    const batch = record.value;
    // Resolved first by `idsync-route`/`idsync-resolve`, then merged by this processor's twin `idsync-merge`.
    if (needsResolution(batch.mpid, record.key)) return;
    // The key decides the partition, so the task: a batch keyed by another MPID than its own is in a task
    // that does not own its user. Merging it here would keep a second, partial profile where no lookup
    // finds it, so it goes to the dead-letter topic instead (the runtime does that with the error's code).
    if (batch.mpid !== null && batch.mpid !== record.key) throw new MpidMismatchError(record.key, batch.mpid);
    const mpid = batch.mpid ?? record.key;
    const [stored, recent] = await Promise.all([this.profiles.get(mpid), this.dedup.get(mpid)]);
    const restored = stored === undefined ? await reengage(mpid, { history: this.history, erasures: this.erasures }, this.logger) : undefined;
    const current = stored ?? restored?.profile;
    // The size limit is checked against the record as received: measuring the decoded batch again (its JSON) cost
    // ~5% of the pipeline's CPU.
    const size = this.ctx.recordMetadata()?.serializedValueSize;
    const merge = mergeBatch(current, batch.mpid === null ? { ...batch, mpid } : batch, {
      recordTimestampMs: record.timestamp,
      ...(recent === undefined ? {} : { recent }),
      ...(size === undefined || size < 0 ? {} : { serializedBytes: size }),
    });
    const { profile: merged, changes } = merge;
    if (changes.duplicate) return;
    // Before storing and enriching: the enriched batch carries the calculated values its events changed.
    const profile = this.audiences === undefined ? merged : await this.audiences.afterMerge(mpid, batch, merged, record.timestamp);
    if (changes.changed || profile !== merged || restored?.profile) await this.profiles.put(mpid, profile);
    // After the profile, so a batch that fails before this point is not remembered as merged.
    if (merge.recent !== recent && merge.recent.length > 0) await this.dedup.put(mpid, merge.recent);

    const now = this.ctx.currentWallClockTime();
    const forwards: Promise<void>[] = [];
    for (const integration of this.integrations) {
      const enriched = enrich(batch, profile, integration, { processedAtMs: now });
      if (enriched) forwards.push(this.ctx.forward(new Record(mpid, enriched, record.timestamp), integrationSinkName(integration)));
    }
    const history: HistoryRecord = { batch, processed_timestamp_ms: now, profile };
    const key = historyKey(mpid, now, this.historySequence());
    // The history topic is this store's changelog: the put is what reaches the topic (no sink, no second copy).
    await this.history.put(key, history);
    // The write cache keeps one entry per user and day, so this is one changelog record per commit at most.
    await this.historyDays.put(historyDayKey(now, mpid), mpid);
    for (const change of [...(restored?.identities ?? []), ...changes.identities]) {
      forwards.push(this.ctx.forward(new Record<string, IdentityChange>(change.key, change, record.timestamp), IDENTITY_REPARTITION_SINK));
    }
    await Promise.all(forwards);
  }

  /** The input offset, with the raw topic's position beside it: unique per task within one millisecond. */
  private historySequence(): bigint {
    const md = this.ctx.recordMetadata();
    return md ? BigInt(md.offset) * 100n + BigInt(Math.max(0, this.rawTopics.indexOf(md.topic))) : 0n;
  }
}
