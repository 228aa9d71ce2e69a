import type { Logger } from 'pino';
import type { KeyValueStore, Processor, ProcessorContext, Record } from '../../streams/index.ts';
import type { IdentityChange } from '../../profiles/identity-merge.ts';
import { DAY_MS, historyCutoffMs } from '../../profiles/retention.ts';

export const IDENTITY_INDEX_STORE = 'identity-index';
/**
 * `type:value` → the MPID of an expired profile that held it: the profile is gone but its history is
 * kept, so an erasure by identity must still find the user (and only an erasure reads this store).
 */
export const EXPIRED_IDENTITIES_STORE = 'expired-identities';

/** An expired profile's identity, kept as long as the history that mentions it. */
export interface ExpiredIdentity {
  readonly mpid: string;
  readonly updated_ms: number;
  readonly expired_ms: number;
}

/**
 * Changes on the identity repartition topic. Removals from the profile lifecycle say why: `expired`
 * moves the claim to `expired-identities`; `erased` removes the MPID's claim in both stores whatever its time.
 */
export type IndexedIdentityChange = IdentityChange & { readonly reason?: 'expired' | 'erased' };

export interface IdentityIndexOptions {
  /** Expired identities are dropped with the last history that could mention them. */
  readonly historyRetentionDays: number;
  /** How often `expired-identities` is swept. Default one day. */
  readonly sweepIntervalMs?: number;
}

/** The identity index's value: which MPID holds an identity, as of which event time. */
export interface IdentityOwner {
  readonly mpid: string;
  readonly updated_ms: number;
  /**
   * Written by identity resolution (`idsync-resolve`): whether the holder has a unique (login) identity.
   * Absent counts as known, so only the resolver's own "anonymous" claims allow a conversion.
   */
  readonly known?: boolean;
}

/**
 * Keeps `type:value` → MPID, fed by the repartition topic so one task owns each identity. When two
 * MPIDs claim one identity, the newer claim (event time; MPID breaks ties) keeps it and the conflict is
 * logged. A removal only removes the MPID's own claim, and only when it is not older than that claim.
 * When a profile expires its claims move to `expired-identities` (see `EXPIRED_IDENTITIES_STORE`); a new
 * claim or an erasure ends them there, and a daily sweep drops those older than the history retention.
 */
export class IdentityIndexProcessor implements Processor<string, IndexedIdentityChange, never, never> {
  private index!: KeyValueStore<string, IdentityOwner>;
  private expired!: KeyValueStore<string, ExpiredIdentity>;

  constructor(
    private readonly logger: Logger,
    private readonly options: IdentityIndexOptions,
  ) {}

  init(context: ProcessorContext<never, never>): void {
    this.index = context.store<string, IdentityOwner>(IDENTITY_INDEX_STORE);
    this.expired = context.store<string, ExpiredIdentity>(EXPIRED_IDENTITIES_STORE);
    context.schedule(this.options.sweepIntervalMs ?? DAY_MS, async (now) => void (await this.sweepExpired(now)));
  }

  async prefetch(records: readonly Record<string, IndexedIdentityChange>[]): Promise<void> {
    const keys = [...new Set(records.map((r) => r.key))];
    await Promise.all([this.index.getMany(keys), this.expired.getMany(keys)]);
  }

  /** Drops expired identities whose profile expired before the history retention cutoff (its history is gone too). */
  async sweepExpired(nowMs: number): Promise<number> {
    const cutoff = historyCutoffMs(nowMs, this.options.historyRetentionDays);
    const old: string[] = [];
    for await (const { key, value } of this.expired.range()) if (value.expired_ms < cutoff) old.push(key);
    for (const key of old) await this.expired.delete(key);
    return old.length;
  }

  async process(record: Record<string, IndexedIdentityChange>): Promise<void> {
    const change = record.value;
    const current = await this.index.get(record.key);
    if (change.op === 'removed') {
      if (change.reason === 'erased') {
        if (current?.mpid === change.mpid) await this.index.delete(record.key);
        if ((await this.expired.get(record.key))?.mpid === change.mpid) await this.expired.delete(record.key);
        return;
      }
      if (current && current.mpid === change.mpid && change.updated_ms >= current.updated_ms) {
        await this.index.delete(record.key);
        if (change.reason === 'expired') await this.expired.put(record.key, { mpid: change.mpid, updated_ms: current.updated_ms, expired_ms: record.timestamp });
      }
      return;
    }
    if (current && current.mpid !== change.mpid) {
      const newer = change.updated_ms > current.updated_ms || (change.updated_ms === current.updated_ms && change.mpid > current.mpid);
      this.logger.warn(
        { identity: record.key, kept: newer ? change.mpid : current.mpid, dropped: newer ? current.mpid : change.mpid },
        'identity claimed by two MPIDs; the newer claim keeps it',
      );
      if (!newer) return;
    }
    // A live claim again (a returning user, or someone new): the expired one no longer answers for it.
    if ((await this.expired.get(record.key)) !== undefined) await this.expired.delete(record.key);
    if (current && current.mpid === change.mpid && current.updated_ms >= change.updated_ms) return;
    // The same holder again keeps what the resolver knew about it (`known`).
    await this.index.put(record.key, { ...(current?.mpid === change.mpid ? current : {}), mpid: change.mpid, updated_ms: change.updated_ms });
  }
}
