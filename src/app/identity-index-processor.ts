import type { Logger } from 'pino';
import type { KeyValueStore, Processor, ProcessorContext, Record } from '../streams/index.ts';
import type { IdentityChange } from '../profiles/identity-merge.ts';

export const IDENTITY_INDEX_STORE = 'identity-index';

/** The identity index's value: which MPID holds an identity, as of which event time. */
export interface IdentityOwner {
  readonly mpid: string;
  readonly updated_ms: number;
}

/**
 * Keeps `type:value` → MPID, fed by the repartition topic so one task owns each identity. When two
 * MPIDs claim one identity, the newer claim (event time; MPID breaks ties) keeps it and the conflict is
 * logged. A removal only removes the MPID's own claim, and only when it is not older than that claim.
 */
export class IdentityIndexProcessor implements Processor<string, IdentityChange, never, never> {
  private index!: KeyValueStore<string, IdentityOwner>;

  constructor(private readonly logger: Logger) {}

  init(context: ProcessorContext<never, never>): void {
    this.index = context.store<string, IdentityOwner>(IDENTITY_INDEX_STORE);
  }

  async prefetch(records: readonly Record<string, IdentityChange>[]): Promise<void> {
    await this.index.getMany([...new Set(records.map((r) => r.key))]);
  }

  async process(record: Record<string, IdentityChange>): Promise<void> {
    const change = record.value;
    const current = await this.index.get(record.key);
    if (change.op === 'removed') {
      if (current && current.mpid === change.mpid && change.updated_ms >= current.updated_ms) await this.index.delete(record.key);
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
    if (current && current.mpid === change.mpid && current.updated_ms >= change.updated_ms) return;
    await this.index.put(record.key, { mpid: change.mpid, updated_ms: change.updated_ms });
  }
}
