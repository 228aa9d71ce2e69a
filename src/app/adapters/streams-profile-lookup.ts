import { isStreamsError, type StreamsApp } from '../../streams/index.ts';
import type { KeyOwner, ProfileLookup, Unavailable } from '../../api/profile-lookup.ts';
import type { HistoryLookup } from '../../api/history-lookup.ts';
import type { HistoryRecord } from '../../schema/history-record.ts';
import { HISTORY_STORE, historyOf } from '../topology/history-store.ts';
import type { ProfileState } from '../../schema/profile-state.ts';
import { IDENTITY_INDEX_STORE, type IdentityOwner } from '../topology/identity-index-processor.ts';
import { PROFILES_STORE } from '../topology/profile-node-names.ts';

export function unavailable(error: unknown): Unavailable {
  if (isStreamsError(error)) {
    if (error.code === 'PS_ERR_STORE_RESTORING') return { unavailable: 'restoring', detail: error.message };
    if (error.code === 'PS_ERR_KEY_NOT_OWNED') return { unavailable: 'moved', detail: error.message };
    if (error.code === 'PS_ERR_APP_NOT_RUNNING') return { unavailable: 'not_running', detail: error.message };
  }
  throw error;
}

/** The Profile API's and the User Activity View's lookups answered by the stream runtime's interactive queries. */
export class StreamsProfileLookup implements ProfileLookup, HistoryLookup {
  constructor(
    private readonly app: StreamsApp,
    private readonly rawTopics: readonly string[],
  ) {}

  private async owner(store: string, key: string): Promise<KeyOwner> {
    try {
      const md = await this.app.metadataForKey(store, key);
      return md.local ? { local: true, partition: md.partition } : { local: false, applicationServer: md.applicationServer };
    } catch (error) {
      // Before the first assignment nobody is known to own anything: answer here, which says "not ready".
      if (isStreamsError(error) && error.code === 'PS_ERR_APP_NOT_RUNNING') return { local: true };
      throw error;
    }
  }

  ownerOfProfile(mpid: string): Promise<KeyOwner> {
    return this.owner(PROFILES_STORE, mpid);
  }

  ownerOfIdentity(type: string, value: string): Promise<KeyOwner> {
    return this.owner(IDENTITY_INDEX_STORE, `${type}:${value}`);
  }

  async getProfile(mpid: string, owner?: KeyOwner): Promise<{ profile: ProfileState | undefined; freshness: string } | Unavailable> {
    try {
      // The store's read checks ownership itself (a key that moved since `owner` was asked is refused).
      const profile = await this.app.store<string, ProfileState>(PROFILES_STORE).get(mpid);
      const partition = owner?.local && owner.partition !== undefined ? owner.partition : (await this.app.metadataForKey(PROFILES_STORE, mpid)).partition;
      const offsets = this.app.lastProcessedOffsets();
      // The input offsets this task has processed: a caller can compare them with what it produced.
      const freshness = this.rawTopics.map((t) => `${t}:${partition}@${offsets.get(`${t}:${partition}`) ?? 'none'}`).join(',');
      return { profile, freshness };
    } catch (error) {
      return unavailable(error);
    }
  }

  async resolveIdentity(type: string, value: string): Promise<{ mpid: string | undefined; known?: boolean } | Unavailable> {
    try {
      const owner = await this.app.store<string, IdentityOwner>(IDENTITY_INDEX_STORE).get(`${type}:${value}`);
      return owner?.known === undefined ? { mpid: owner?.mpid } : { mpid: owner.mpid, known: owner.known };
    } catch (error) {
      return unavailable(error);
    }
  }

  /** The history store is keyed `mpid|time|seq` in the task that owns the MPID: ask with `ownerOfProfile` first. */
  async getHistory(mpid: string): Promise<{ entries: Array<{ key: string; value: HistoryRecord }> } | Unavailable> {
    try {
      await this.app.metadataForKey(PROFILES_STORE, mpid);
      return { entries: await historyOf(this.app.store<string, HistoryRecord>(HISTORY_STORE), mpid) };
    } catch (error) {
      return unavailable(error);
    }
  }
}
