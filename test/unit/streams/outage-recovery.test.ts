import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/streams/clock.ts';
import { OutageRecovery, type OutageHooks } from '../../../src/streams/internals/outage-recovery.ts';

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const down = Object.assign(new Error('connect ECONNREFUSED'), { unavailable: true });

function hooks(overrides: Partial<OutageHooks> & { brokerUpAfter?: number }) {
  const calls: string[] = [];
  let probes = 0;
  const h: OutageHooks = {
    clock: new ManualClock(1000),
    logger: silent,
    closing: () => false,
    isUnavailable: (e) => (e as { unavailable?: boolean }).unavailable === true,
    paused: () => calls.push('paused'),
    stopProcessing: async () => {
      calls.push('stop');
    },
    probe: async () => {
      calls.push('probe');
      if (++probes <= (overrides.brokerUpAfter ?? 0)) throw down;
    },
    rejoin: async () => {
      calls.push('rejoin');
    },
    fatal: (e) => calls.push(`fatal ${(e as Error).message}`),
    ...overrides,
  };
  return { h, calls };
}

describe('OutageRecovery', () => {
  it('stops, waits until a broker answers, rejoins, and clears the outage', async () => {
    const { h, calls } = hooks({ brokerUpAfter: 2 });
    const r = new OutageRecovery(h);
    r.report(down, 'consumer crashed');
    expect(r.outage).toMatchObject({ since: 1000, reason: 'consumer crashed: connect ECONNREFUSED' });
    await r.settled();
    expect(calls).toEqual(['paused', 'stop', 'probe', 'probe', 'probe', 'rejoin']);
    expect(r.outage).toBeUndefined();
  });

  it('a second report while recovering goes round once more instead of being lost', async () => {
    const { h, calls } = hooks({});
    const r = new OutageRecovery(h);
    let first = true;
    h.rejoin = async () => {
      calls.push('rejoin');
      if (first) {
        first = false;
        r.report(down, 'the new member crashed'); // while this recovery is still finishing
      }
    };
    r.report(down, 'consumer crashed');
    await r.settled();
    expect(calls).toEqual(['paused', 'stop', 'probe', 'rejoin', 'stop', 'probe', 'rejoin']);
    expect(r.outage).toBeUndefined();
  });

  it('failures of the work being stopped are the same outage: no second round for them', async () => {
    const { h, calls } = hooks({ brokerUpAfter: 1 });
    const r = new OutageRecovery(h);
    h.stopProcessing = async () => {
      calls.push('stop');
      // The commit the stop interrupts fails, and the old heartbeat too: reported, but nothing new.
      r.report(down, 'commit failed');
      r.report(down, 'heartbeat failed');
    };
    r.report(down, 'consumer crashed');
    await r.settled();
    expect(calls).toEqual(['paused', 'stop', 'probe', 'probe', 'rejoin']);
    expect(r.outage).toBeUndefined();
  });

  it('an error that is not an outage while recovering is fatal', async () => {
    const { h, calls } = hooks({ probe: async () => Promise.reject(new Error('topic authorization failed')) });
    const r = new OutageRecovery(h);
    r.report(down, 'consumer crashed');
    await r.settled();
    expect(calls).toEqual(['paused', 'stop', 'fatal topic authorization failed']);
  });
});
