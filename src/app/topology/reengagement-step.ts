import type { Logger } from 'pino';
import type { KeyValueStore } from '../../streams/index.ts';
import { entriesOf } from '../../shared/dictionary.ts';
import type { ErasureRecord } from '../../profiles/erasure.ts';
import { identityKey, type IdentityChange } from '../../profiles/identity-merge.ts';
import { reengagedProfile } from '../../profiles/reengagement.ts';
import type { HistoryRecord } from '../../schema/history-record.ts';
import type { ProfileState } from '../../schema/profile-state.ts';
import { historyOf } from './history-store.ts';

export interface Reengagement {
  /** The profile to merge the batch into; undefined starts an empty one. */
  readonly profile: ProfileState | undefined;
  /** Index entries the restored identities need again (expiry removed them). */
  readonly identities: readonly IdentityChange[];
}

/**
 * For a batch whose user is not in the profiles store: an erased user starts empty (and the log says
 * so); a user with history comes back from the latest snapshot (`reengagedProfile`); anyone else is new.
 */
export async function reengage(
  mpid: string,
  stores: { history: Pick<KeyValueStore<string, HistoryRecord>, 'prefix'>; erasures: Pick<KeyValueStore<string, ErasureRecord>, 'get'> },
  logger: Logger,
): Promise<Reengagement> {
  const erased = await stores.erasures.get(mpid);
  if (erased) {
    logger.info({ mpid, erased_ms: erased.erased_ms }, 'new data for an erased user: starting a new, empty profile (erasure does not stop collection)');
    return { profile: undefined, identities: [] };
  }
  const entries = await historyOf(stores.history, mpid);
  const latest = entries.findLast((e) => e.value.profile !== null)?.value.profile;
  if (!latest) return { profile: undefined, identities: [] };
  const profile = reengagedProfile(latest);
  const identities: IdentityChange[] = entriesOf(profile.user_identities).flatMap(([type, state]) =>
    state.value === null ? [] : [{ op: 'added' as const, identity_type: type, value: state.value, key: identityKey(type, state.value), mpid, updated_ms: state.updated_ms }],
  );
  logger.info({ mpid, last_seen_ms: latest.last_seen_timestamp_ms }, 'reengaged user: profile restored from history');
  return { profile, identities };
}
