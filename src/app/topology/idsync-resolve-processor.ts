import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import type { KeyValueStore, Processor, ProcessorContext, Record } from '../../streams/index.ts';
import type { Batch } from '../../schema/batch.ts';
import { IdentityConflictError, InvalidIdentityError } from '../../identity/errors.ts';
import { batchIdentities, type IdentityRef, type IdentityStrategy } from '../../identity/identity-strategy.ts';
import { mintKey, mintMpid } from '../../identity/mpid-mint.ts';
import { decide, linksNeeded, type Claim } from '../../identity/resolution.ts';
import { decodeResolutionState, encodeResolutionState, RESOLUTION_STATE_HEADER, type ResolutionState } from '../../identity/resolution-state.ts';
import { EXPIRED_IDENTITIES_STORE, IDENTITY_INDEX_STORE, type ExpiredIdentity, type IdentityOwner } from './identity-index-processor.ts';

/** The next sequence number of this partition's MPID mint (`src/identity/mpid-mint.ts`). */
export const IDSYNC_SEQUENCE_STORE = 'idsync-sequence';
/** Loops back into the resolution topic, to the next identity's partition. */
export const IDSYNC_NEXT_HOP_SINK = 'idsync-next-hop';
export const IDSYNC_RESOLVED = 'idsync-resolved';
export const IDSYNC_RESOLVED_SINK = `${IDSYNC_RESOLVED}-sink`;

export interface IdSyncResolveOptions {
  /** 16 random bits per mint; injectable so tests can repeat a run. */
  readonly random16?: () => number;
}

/**
 * Resolves batches without MPID, one identity partition at a time (the identity index is partitioned by
 * `type:value`, so each claim has one writer). A batch first visits its lower-priority identities, reading
 * their claims, then its highest-priority one, whose task decides with `decide` and writes that claim (a
 * new MPID when nothing matched); then it visits the identities whose claims must change, writing them,
 * and goes on keyed by its MPID into the profile merge. Conflicts are logged with both MPIDs.
 */
export class IdSyncResolveProcessor implements Processor<string, Batch, string, Batch> {
  private ctx!: ProcessorContext<string, Batch>;
  private index!: KeyValueStore<string, IdentityOwner>;
  private expired!: KeyValueStore<string, ExpiredIdentity>;
  private sequence!: KeyValueStore<string, number>;
  private partition = 0;
  private readonly key: number;

  constructor(
    private readonly strategy: IdentityStrategy,
    private readonly logger: Logger,
    applicationId: string,
    private readonly options: IdSyncResolveOptions = {},
  ) {
    this.key = mintKey(applicationId);
  }

  init(context: ProcessorContext<string, Batch>): void {
    this.ctx = context;
    this.index = context.store(IDENTITY_INDEX_STORE);
    this.expired = context.store(EXPIRED_IDENTITIES_STORE);
    this.sequence = context.store(IDSYNC_SEQUENCE_STORE);
    this.partition = Number(context.taskId.split('_')[1] ?? 0);
  }

  async process(record: Record<string, Batch>): Promise<void> {
    const state = decodeResolutionState(record.headers[RESOLUTION_STATE_HEADER]);
    if (state === undefined || state.hops[state.at] !== record.key) throw new InvalidIdentityError(`record on the resolution topic without a valid ${RESOLUTION_STATE_HEADER} header for key ${record.key}`);
    const refs = batchIdentities(record.value, this.strategy);
    if (state.phase === 'lookup') await this.lookup(record, state, refs);
    else await this.link(record, state, refs);
  }

  /** A claim as resolution sees it: the live one, else an expired profile's (its user comes back by reengagement). */
  private async claimOf(key: string): Promise<Claim | undefined> {
    const live = await this.index.get(key);
    if (live) return { mpid: live.mpid, known: live.known ?? true };
    const expired = await this.expired.get(key);
    return expired ? { mpid: expired.mpid, known: true } : undefined;
  }

  private async lookup(record: Record<string, Batch>, state: ResolutionState, refs: readonly IdentityRef[]): Promise<void> {
    const found = await this.claimOf(record.key);
    const claims = found ? { ...state.claims, [record.key]: found } : state.claims;
    if (state.at < state.hops.length - 1) return this.hop(record, { ...state, claims, at: state.at + 1 });
    // The highest-priority identity's task: the one place batches sharing it are decided, one after the other.
    const byKey = new Map(Object.entries(claims));
    const decision = decide(refs, byKey, this.strategy, state.intent);
    if (decision.kind === 'conflict') {
      this.logger.warn({ identity: decision.identity, mpids: decision.mpids }, 'identity conflict: unique identities of one batch belong to two users; not merged');
      throw new IdentityConflictError(decision.identity, decision.mpids);
    }
    const mpid = decision.kind === 'resolved' ? decision.mpid : await this.mint();
    for (const move of decision.moves) this.logger.warn({ identity: move.key, mpids: [mpid, move.from] }, 'identity moves to another user (not unique; the newer claim wins)');
    for (const drop of decision.dropped) this.logger.warn({ identity: drop.key, mpids: [mpid, drop.from] }, 'identity conflict: unique identity of another user left out of the batch (drop_identity)');
    if (decision.kind === 'mint') this.logger.debug({ mpid, identity: record.key }, 'new user');
    else if (decision.how === 'converted') this.logger.info({ mpid, identity: record.key, via: decision.via }, 'anonymous user converted to known');
    const batchMs = this.batchTime(record);
    await this.claim(record.key, mpid, decision.known, batchMs);
    const links = linksNeeded(refs, byKey, mpid, decision.known, decision.dropped).filter((k) => k !== record.key);
    const dropped = decision.dropped.map((d) => d.key);
    if (links.length === 0) return this.finish(record, mpid, dropped);
    return this.hop(record, { intent: state.intent, phase: 'link', hops: links, at: 0, claims: {}, mpid, known: decision.known, dropped });
  }

  private async link(record: Record<string, Batch>, state: ResolutionState, refs: readonly IdentityRef[]): Promise<void> {
    const mpid = state.mpid!;
    const current = await this.index.get(record.key);
    const unique = refs.find((r) => r.key === record.key)?.unique ?? false;
    if (current && current.mpid !== mpid && unique) {
      // Claimed by someone else since the lookup: a unique identity never changes hands here.
      this.logger.warn({ identity: record.key, mpids: [mpid, current.mpid] }, 'identity conflict: unique identity claimed by another user meanwhile; left with it');
    } else {
      await this.claim(record.key, mpid, state.known ?? true, this.batchTime(record));
    }
    if (state.at < state.hops.length - 1) return this.hop(record, { ...state, at: state.at + 1 });
    return this.finish(record, mpid, state.dropped ?? []);
  }

  /** Writes `key` → `mpid`; another holder keeps it when its claim is newer (the identity index's rule). */
  private async claim(key: string, mpid: string, known: boolean, updatedMs: number): Promise<void> {
    const current = await this.index.get(key);
    if (current && current.mpid !== mpid && current.updated_ms > updatedMs) return;
    const same = current?.mpid === mpid;
    await this.index.put(key, {
      mpid,
      updated_ms: same ? Math.max(current.updated_ms, updatedMs) : updatedMs,
      known: known || (same && current.known === true),
    });
  }

  private async mint(): Promise<string> {
    let sequence = (await this.sequence.get('next')) ?? 0;
    let mpid: string | undefined;
    do {
      mpid = mintMpid({ partition: this.partition, sequence, random16: this.options.random16?.() ?? randomInt(0x10000) }, this.key);
      sequence++;
    } while (mpid === undefined);
    // Same commit as the claim: a sequence number is never handed out twice.
    await this.sequence.put('next', sequence);
    return mpid;
  }

  private batchTime(record: Record<string, Batch>): number {
    return record.value.timestamp_unixtime_ms ?? record.timestamp;
  }

  private hop(record: Record<string, Batch>, state: ResolutionState): Promise<void> {
    const next = record.withKey(state.hops[state.at]!).withHeaders({ ...record.headers, [RESOLUTION_STATE_HEADER]: encodeResolutionState(state) });
    return this.ctx.forward(next, IDSYNC_NEXT_HOP_SINK);
  }

  /** On to the profile merge, keyed by the MPID, without the identities left out and without the resolution state. */
  private finish(record: Record<string, Batch>, mpid: string, dropped: readonly string[]): Promise<void> {
    const batch = record.value;
    let userIdentities = batch.user_identities;
    if (dropped.length > 0) {
      userIdentities = { ...batch.user_identities };
      for (const key of dropped) {
        const type = key.slice(0, key.indexOf(':')) as keyof typeof userIdentities;
        if (type in userIdentities) userIdentities[type] = null;
      }
    }
    const { [RESOLUTION_STATE_HEADER]: _state, ...headers } = record.headers;
    const resolved: Batch = { ...batch, mpid, user_identities: userIdentities };
    return this.ctx.forward(record.withKey(mpid).withValue(resolved).withHeaders(headers), IDSYNC_RESOLVED_SINK);
  }
}
