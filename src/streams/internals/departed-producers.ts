import { decodeSubscription } from './assignor.ts';
import type { GroupMemberInfo } from './kafka-port.ts';

/**
 * Exactly-once with one transactional producer per instance: a member that crashed leaves its open
 * transaction behind. Until the coordinator aborts it (the transaction timeout, 30 s, plus up to its
 * 10 s abort check) the partitions it wrote to have a last stable offset below it, so read-committed
 * readers of the outputs see nothing newer, and its new owner may have to wait for stable offsets.
 * Kafka Streams waits that out. Here the members name their transactional ids in their subscriptions,
 * and a member whose former peer is gone from the group initialises a producer with that id, which
 * aborts the transaction at once (InitProducerId), as the peer's own restart would.
 *
 * Fencing a live process is safe: one that is not in the group any more is a zombie, and its next
 * commit fails as migrated, as it would at its generation check.
 */
export class DepartedProducers {
  #known = new Set<string>();

  constructor(private readonly own: string) {}

  /**
   * The transactional ids of members seen in an earlier generation that are not in `members` (the current
   * generation) any more; remembers `members` for the next call.
   */
  departed(members: readonly GroupMemberInfo[]): string[] {
    const current = new Set<string>();
    for (const m of members) {
      const id = decodeSubscription(m.metadataUserData).transactionalId;
      if (id !== undefined) current.add(id);
    }
    const gone = [...this.#known].filter((id) => !current.has(id) && id !== this.own);
    this.#known = current;
    return gone;
  }
}
