import { describe, expect, it } from 'vitest';
import { leftoversSince } from '../../support/run-leftovers.ts';

describe('leftoversSince (what a test run left on a shared stack)', () => {
  const before = { topics: new Set(['profile-stream.raw.web', '__consumer_offsets']), subjects: new Set(['profile-stream.raw.web-value']) };

  it('names topics and subjects that appeared without a run prefix', () => {
    const after = { topics: new Set([...before.topics, 'orders', 'psrun-ab12-x']), subjects: new Set([...before.subjects, 'orders-value']) };
    expect(leftoversSince(before, after)).toEqual(['topic orders', 'subject orders-value']);
  });

  it("leaves out other runs' own names, Kafka's internal topics and what was there before", () => {
    const after = { topics: new Set([...before.topics, 'bench-1f-raw', 'chaos-9a-in', '__transaction_state', '_schemas']), subjects: new Set([...before.subjects, 'psrun-77-raw-value']) };
    expect(leftoversSince(before, after)).toEqual([]);
  });
});
