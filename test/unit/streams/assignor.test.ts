import { describe, expect, it } from 'vitest';
import { StickyTaskAssignor, assignTasks, decodeSubscription, encodeSubscription, hostMapFromGroup } from '../../../src/streams/internals/assignor.ts';

const tasks = ['0_0', '0_1', '0_2', '0_3', '1_0', '1_1', '1_2', '1_3'];

describe('sticky co-partitioning assignor', () => {
  it('balances tasks within one', () => {
    const out = assignTasks([{ memberId: 'a', owned: [] }, { memberId: 'b', owned: [] }, { memberId: 'c', owned: [] }], tasks);
    const sizes = [...out.values()].map((t) => t.length).sort();
    expect(sizes).toEqual([2, 3, 3]);
    expect([...out.values()].flat().sort()).toEqual([...tasks].sort());
  });

  it('keeps tasks where they were when a member joins', () => {
    const before = assignTasks([{ memberId: 'a', owned: [] }], tasks).get('a')!;
    expect(before).toHaveLength(8);
    const after = assignTasks([{ memberId: 'a', owned: before }, { memberId: 'b', owned: [] }], tasks);
    expect(after.get('a')).toHaveLength(4);
    expect(after.get('b')).toHaveLength(4);
    const again = assignTasks([{ memberId: 'a', owned: after.get('a')! }, { memberId: 'b', owned: after.get('b')! }], tasks);
    expect(again).toEqual(after);
  });

  it('spreads every sub-topology over the members, also when one member owned everything before', () => {
    const many = [0, 1, 2].flatMap((st) => Array.from({ length: 8 }, (_, p) => `${st}_${p}`));
    const alone = assignTasks([{ memberId: 'a', owned: [] }], many).get('a')!;
    const joined = assignTasks([{ memberId: 'a', owned: alone }, { memberId: 'b', owned: [] }], many);
    for (const st of [0, 1, 2]) {
      const counts = [...joined.values()].map((list) => list.filter((t) => t.startsWith(`${st}_`)).length);
      expect(counts, `sub-topology ${st}`).toEqual([4, 4]);
    }
    // Sticky: "a" kept only tasks it had, and a third member takes a share of each sub-topology from both.
    const three = assignTasks([{ memberId: 'a', owned: joined.get('a')! }, { memberId: 'b', owned: joined.get('b')! }, { memberId: 'c', owned: [] }], many);
    for (const st of [0, 1, 2]) {
      const counts = [...three.values()].map((list) => list.filter((t) => t.startsWith(`${st}_`)).length).sort();
      expect(counts, `sub-topology ${st}`).toEqual([2, 3, 3]);
    }
    expect(three.get('a')!.every((t) => joined.get('a')!.includes(t))).toBe(true);
    expect(three.get('b')!.every((t) => joined.get('b')!.includes(t))).toBe(true);
    expect([...three.values()].map((l) => l.length).sort()).toEqual([8, 8, 8]);
  });

  it('gives the same partition of every source topic of a sub-topology to one member, and shares the host map', () => {
    const assignor = new StickyTaskAssignor([{ id: 0, topics: ['left', 'right'] }], () => ({ applicationServer: 'x:1', ownedTasks: [] }));
    const members = [
      { memberId: 'm1', metadata: encodeSubscription({ applicationServer: 'h1:1', ownedTasks: ['0_1'] }) },
      { memberId: 'm2', metadata: encodeSubscription({ applicationServer: 'h2:2', ownedTasks: [] }) },
    ];
    const out = assignor.assign(members, new Map([['left', 4], ['right', 4]]));
    for (const { assignment } of out.values()) {
      const left = assignment.find((a) => a.topic === 'left')!.partitions;
      const right = assignment.find((a) => a.topic === 'right')!.partitions;
      expect(right).toEqual(left);
    }
    expect(out.get('m1')!.assignment[0]!.partitions).toContain(1);
    const hosts = hostMapFromGroup([...out].map(([memberId, a]) => ({ memberId, metadataUserData: Buffer.alloc(0), assignmentUserData: a.userData })));
    expect(hosts.size).toBe(4);
    expect(hosts.get('0_1')).toBe('h1:1');
  });

  it('survives garbage user data', () => {
    expect(decodeSubscription(Buffer.from('nope'))).toEqual({ applicationServer: '', ownedTasks: [] });
  });
});
