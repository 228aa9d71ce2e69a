import { describe, expect, it } from 'vitest';
import { decodeSubscription, encodeSubscription } from '../../../src/streams/internals/assignor.ts';
import { DepartedProducers } from '../../../src/streams/internals/departed-producers.ts';
import type { GroupMemberInfo } from '../../../src/streams/internals/kafka-port.ts';

const member = (memberId: string, transactionalId?: string): GroupMemberInfo => ({
  memberId,
  metadataUserData: encodeSubscription({ applicationServer: '', ownedTasks: [], ...(transactionalId ? { transactionalId } : {}) }),
  assignmentUserData: Buffer.alloc(0),
});

describe('departed producers (internals/departed-producers.ts)', () => {
  it('names the transactional ids of members seen before that are gone from the current generation', () => {
    const d = new DepartedProducers('me');
    expect(d.departed([member('1', 'me'), member('2', 'a'), member('3', 'b')])).toEqual([]);
    expect(d.departed([member('1', 'me'), member('3', 'b')])).toEqual(['a']);
    // Named once: it is not a member any more, so the next generation does not name it again.
    expect(d.departed([member('1', 'me'), member('3', 'b')])).toEqual([]);
  });

  it('never names itself, a member that came back under a new member id, or members without an id (at-least-once)', () => {
    const d = new DepartedProducers('me');
    d.departed([member('1', 'me'), member('2', 'a'), member('3')]);
    expect(d.departed([member('9', 'a')])).toEqual([]);
  });

  it('the subscription carries the transactional id, and one without it decodes as before', () => {
    expect(decodeSubscription(encodeSubscription({ applicationServer: 'h:1', ownedTasks: ['0_1'], transactionalId: 'app-x' })).transactionalId).toBe('app-x');
    expect(decodeSubscription(encodeSubscription({ applicationServer: 'h:1', ownedTasks: [] }))).not.toHaveProperty('transactionalId');
  });
});
