import { describe, expect, it } from 'vitest';
import { StickyTaskAssignor, assignStandbys, assignTasks, decodeSubscription, encodeSubscription, hostMapFromGroup, standbysFromGroup } from '../../../src/streams/internals/assignor.ts';

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
    expect(decodeSubscription(Buffer.from('nope'))).toEqual({ applicationServer: '', ownedTasks: [], processId: '', standbyTasks: [] });
  });
});

describe('standby replicas', () => {
  const tasks = ['0_0', '0_1', '0_2', '0_3'];

  it('puts each standby on a member other than the active owner, spread evenly', () => {
    const active = new Map([['a', ['0_0', '0_1']], ['b', ['0_2', '0_3']]]);
    const out = assignStandbys([{ memberId: 'a', processId: 'pa', standby: [] }, { memberId: 'b', processId: 'pb', standby: [] }], active, tasks, 1);
    expect(out.get('pa')).toEqual(['0_2', '0_3']);
    expect(out.get('pb')).toEqual(['0_0', '0_1']);
  });

  it('keeps a standby where its state is warm, and never places more replicas than other members', () => {
    const active = new Map([['a', ['0_0', '0_1']], ['b', ['0_2']], ['c', ['0_3']]]);
    const members = [
      { memberId: 'a', processId: 'pa', standby: [] },
      { memberId: 'b', processId: 'pb', standby: [] },
      { memberId: 'c', processId: 'pc', standby: ['0_0', '0_1'] },
    ];
    const one = assignStandbys(members, active, tasks, 1);
    expect(one.get('pc')).toEqual(expect.arrayContaining(['0_0', '0_1']));
    const many = assignStandbys(members, active, tasks, 5);
    for (const t of tasks) {
      const holders = [...many].filter(([, ts]) => ts.includes(t)).map(([p]) => p);
      expect(holders).toHaveLength(2);
      expect(holders).not.toContain(`p${[...active].find(([, ts]) => ts.includes(t))![0]}`);
    }
  });

  it('assigns none with zero replicas, or to a member without a process id', () => {
    const active = new Map([['a', tasks]]);
    expect([...assignStandbys([{ memberId: 'a', processId: 'pa', standby: [] }, { memberId: 'b', processId: 'pb', standby: [] }], active, tasks, 0).values()].flat()).toEqual([]);
    expect(assignStandbys([{ memberId: 'a', processId: 'pa', standby: [] }, { memberId: 'b', processId: '', standby: [] }], active, tasks, 1).get('pa')).toEqual([]);
  });

  it('moves a task whose owner left to the member that kept it warm', () => {
    const out = assignTasks([{ memberId: 'a', owned: ['0_0', '0_1'] }, { memberId: 'c', owned: [], standby: ['0_3'] }], tasks);
    expect(out.get('c')).toContain('0_3');
  });

  it('the leader writes each process its standbys, and every member reads its own', () => {
    const assignor = new StickyTaskAssignor([{ id: 0, topics: ['in'] }], () => ({ applicationServer: '', ownedTasks: [] }), { replicas: 1, eligible: () => true });
    const sub = (s: string, p: string) => encodeSubscription({ applicationServer: s, ownedTasks: [], processId: p, standbyTasks: [] });
    const out = assignor.assign([{ memberId: 'a', metadata: sub('h1:1', 'pa') }, { memberId: 'b', metadata: sub('h2:2', 'pb') }], new Map([['in', 2]]));
    const infos = [...out].map(([memberId, a]) => ({ memberId, assignmentUserData: a.userData }));
    const mine = standbysFromGroup(infos as never, 'pa');
    const theirs = standbysFromGroup(infos as never, 'pb');
    expect(mine.length + theirs.length).toBe(2);
    expect(new Set([...mine, ...theirs])).toEqual(new Set(['0_0', '0_1']));
    expect(decodeSubscription(sub('h1:1', 'pa')).processId).toBe('pa');
  });
});
