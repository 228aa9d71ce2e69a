import { describe, expect, it } from 'vitest';
import { dayOf } from '../../../src/audiences/bucket.ts';
import type { Calculation } from '../../../src/audiences/calculation.ts';
import {
  applyEvent, applyEvents, applySeed, emptyState, expire, MAX_FUTURE_MS, nextChangeAt, recompute, valueOf,
  type CalculationState, type ValueDefinition,
} from '../../../src/audiences/calculation-state.ts';
import type { DateRange } from '../../../src/audiences/date-range.ts';
import type { EventView } from '../../../src/audiences/event-view.ts';
import { DAY, NOW, ev } from './support.ts';

const def = (calculation: Calculation, range: DateRange = { kind: 'lifetime' }, attribute: string | null = 'genre'): ValueDefinition => ({
  version: 1,
  calculation,
  event: { type: 'custom_event', name: 'play', where: [] },
  attribute: calculation === 'count' || calculation.endsWith('_timestamp') ? null : attribute,
  range,
});
const week: DateRange = { kind: 'within_days', days: 7 };
const MIDNIGHT = dayOf(NOW) * DAY;

function fold(d: ValueDefinition, events: EventView[], nowMs = NOW): CalculationState {
  return expire(applyEvents(emptyState(d.version), d, events, nowMs), d, nowMs);
}

describe('calculation state: every calculation over events on several days', () => {
  // Three UTC days, one event without the attribute, one non-numeric value.
  const events = [
    ev('play', NOW - 2 * DAY, { genre: 'rock', secs: 30 }),
    ev('play', NOW - DAY, { genre: 'jazz', secs: '90' }),
    ev('play', NOW - DAY + 1, { genre: 'rock', secs: 'long' }),
    ev('play', NOW, { secs: 60 }),
    ev('pause', NOW, { genre: 'blues', secs: 1000 }),
  ];
  const expected: Record<Calculation, [string, string | string[] | null]> = {
    count: ['genre', '4'],
    sum: ['secs', '180'],
    minimum: ['secs', '30'],
    maximum: ['secs', '90'],
    average: ['secs', '60'],
    most_frequent: ['genre', 'rock'],
    unique_count: ['genre', '2'],
    first_value: ['genre', 'rock'],
    last_value: ['genre', 'rock'],
    first_timestamp: ['genre', new Date(NOW - 2 * DAY).toISOString()],
    last_timestamp: ['genre', new Date(NOW).toISOString()],
    unique_list: ['genre', ['jazz', 'rock']],
  };
  for (const [calculation, [attribute, value]] of Object.entries(expected) as Array<[Calculation, [string, string | string[] | null]]>) {
    it(`${calculation} gives ${JSON.stringify(value)} within the last 7 days`, () => {
      const d = def(calculation, week, attribute);
      expect(valueOf(fold(d, events), d, NOW)).toEqual(value);
    });
  }

  it('events arriving one at a time give the same state as one batch', () => {
    const d = def('most_frequent', week);
    const oneByOne = events.reduce((s, e) => applyEvent(s, d, e, NOW), emptyState(1));
    expect(oneByOne).toEqual(fold(d, events));
  });

  it('does not modify the state it is given, and returns the same object when no event counts', () => {
    const d = def('unique_list', week);
    const before = fold(d, [ev('play', NOW, { genre: 'rock' })]);
    const copy = structuredClone(before);
    applyEvent(before, d, ev('play', NOW, { genre: 'pop' }), NOW);
    expect(before).toEqual(copy);
    expect(applyEvent(before, d, ev('pause', NOW), NOW)).toBe(before);
  });

  it('most frequent breaks a tie across days alphabetically', () => {
    const d = def('most_frequent', week);
    const s = fold(d, [ev('play', NOW - 3 * DAY, { genre: 'rock' }), ev('play', NOW, { genre: 'blues' }), ev('play', NOW - DAY, { genre: 'rock' }), ev('play', NOW, { genre: 'blues' })]);
    expect(valueOf(s, d, NOW)).toBe('blues');
  });

  it('a unique list is capped at 100 values across days, the alphabetically first', () => {
    const d = def('unique_list', week);
    const many = Array.from({ length: 140 }, (_, i) => ev('play', NOW - (i % 5) * DAY, { genre: `g${String(139 - i).padStart(3, '0')}` }));
    const list = valueOf(fold(d, many), d, NOW) as string[];
    expect(list).toHaveLength(100);
    expect(list[0]).toBe('g000');
    expect(list[99]).toBe('g099');
    expect(valueOf(fold(def('unique_count', week), many), def('unique_count', week), NOW)).toBe('140');
  });
});

describe('calculation state: windows', () => {
  const count = def('count', week);

  it('an event exactly 7 days old is out of a 7-day window; one 6 days old is in', () => {
    expect(valueOf(fold(count, [ev('play', NOW - 7 * DAY)]), count, NOW)).toBe('0');
    expect(valueOf(fold(count, [ev('play', NOW - 6 * DAY)]), count, NOW)).toBe('1');
  });

  it('the window is UTC calendar days: an event on day today-7 is out even when less than 7 days old', () => {
    // At 00:00:00.000 UTC, an event 1 ms less than 7 days old is on day today-7.
    expect(valueOf(fold(count, [ev('play', MIDNIGHT - 7 * DAY + 1)], MIDNIGHT), count, MIDNIGHT)).toBe('0');
    // The first millisecond of day today-6 is in, though it is exactly 6 days old.
    expect(valueOf(fold(count, [ev('play', MIDNIGHT - 6 * DAY)], MIDNIGHT), count, MIDNIGHT)).toBe('1');
  });

  it('a day leaves the window at UTC midnight N days after it, with no new event', () => {
    const s = fold(count, [ev('play', NOW - 6 * DAY), ev('play', NOW)]);
    const leaves = (dayOf(NOW - 6 * DAY) + 7) * DAY;
    expect(nextChangeAt(s, count, NOW)).toBe(leaves);
    expect(valueOf(s, count, leaves - 1)).toBe('2');
    expect(valueOf(s, count, leaves)).toBe('1');
    const after = expire(s, count, leaves);
    expect(after.buckets).toHaveLength(1);
    expect(nextChangeAt(after, count, leaves)).toBe((dayOf(NOW) + 7) * DAY);
    expect(nextChangeAt(expire(after, count, NOW + 7 * DAY), count, NOW + 7 * DAY)).toBeNull();
  });

  it('reports a bucket already out of the window as due now, and expire returns the same state when nothing left', () => {
    const s = fold(count, [ev('play', NOW)]);
    expect(nextChangeAt(s, count, NOW + 30 * DAY)).toBe(NOW + 30 * DAY);
    expect(expire(s, count, NOW)).toBe(s);
  });

  it('keeps at most one bucket per day in the window, however many events', () => {
    const events = Array.from({ length: 600 }, (_, i) => ev('play', NOW - (i % 30) * DAY - (i % 7) * 1000, { genre: `g${i % 9}` }));
    let s = emptyState(1);
    for (let i = 0; i < events.length; i += 100) s = expire(applyEvents(s, count, events.slice(i, i + 100), NOW), count, NOW);
    expect(s.buckets.length).toBeLessThanOrEqual(7);
    expect(valueOf(s, count, NOW)).toBe(String(events.filter((e) => dayOf(e.time_ms) > dayOf(NOW) - 7).length));
  });

  it('ignores events dated more than a day ahead of the clock, so a wrong device clock cannot pin a value', () => {
    const last = def('last_timestamp', { kind: 'lifetime' });
    const s = fold(last, [ev('play', NOW), ev('play', NOW + MAX_FUTURE_MS + 1)]);
    expect(valueOf(s, last, NOW)).toBe(new Date(NOW).toISOString());
    expect(valueOf(fold(last, [ev('play', NOW + MAX_FUTURE_MS)]), last, NOW)).toBe(new Date(NOW + MAX_FUTURE_MS).toISOString());
  });

  it('since a date counts events at or after it, and lifetime counts every retained event; neither changes with time', () => {
    const since = def('count', { kind: 'since', sinceMs: NOW - DAY });
    const s = fold(since, [ev('play', NOW - DAY - 1), ev('play', NOW - DAY), ev('play', NOW)]);
    expect(valueOf(s, since, NOW)).toBe('2');
    expect(s.buckets).toHaveLength(1);
    expect(nextChangeAt(s, since, NOW)).toBeNull();
    const lifetime = def('count');
    expect(valueOf(fold(lifetime, [ev('play', 0), ev('play', NOW)]), lifetime, NOW)).toBe('2');
  });

  it('counts only events that match the event condition', () => {
    const d: ValueDefinition = { ...def('sum', week, 'secs'), event: { type: 'custom_event', name: 'PLAY', where: [{ attribute: 'genre', operator: 'equals', value: 'Rock' }] } };
    const s = fold(d, [ev('play', NOW, { genre: 'rock', secs: 5 }), ev('play', NOW, { genre: 'jazz', secs: 7 }), ev('play', NOW, { genre: 'ROCK', secs: 1 }, 'screen_view')]);
    expect(valueOf(s, d, NOW)).toBe('5');
  });
});

describe('calculation state: recompute and seeds', () => {
  const retained = [ev('play', NOW - 10 * DAY, { secs: 1 }), ev('play', NOW - 3 * DAY, { secs: 10 }), ev('play', NOW, { secs: 100 })];

  it('recompute rebuilds the state of a changed definition from retained events alone, under the new version', () => {
    const old = { ...def('sum', week, 'secs'), version: 1 };
    const seeded = applySeed(old, { cutoff_ms: NOW - DAY, sum: 5000, count: 1 }, retained, NOW);
    const changed = { ...def('sum', { kind: 'within_days', days: 30 }, 'secs'), version: 2 };
    const s = recompute(changed, retained, NOW);
    expect(s.version).toBe(2);
    expect(s.seed).toBeNull();
    expect(s.cutoff_ms).toBeNull();
    expect(valueOf(s, changed, NOW)).toBe('111');
    expect(valueOf(seeded, old, NOW)).toBe('5100');
  });

  it('a seed stands for events before its cutoff; retained and live events count only from the cutoff on', () => {
    const d = def('sum', { kind: 'lifetime' }, 'secs');
    const cutoff = NOW - 5 * DAY;
    const s = applySeed(d, { cutoff_ms: cutoff, sum: 1000, count: 3 }, retained, NOW);
    // 1000 from the seed; of the retained events only the two after the cutoff.
    expect(valueOf(s, d, NOW)).toBe('1110');
    const live = applyEvents(s, d, [ev('play', cutoff - 1, { secs: 50000 }), ev('play', cutoff, { secs: 2 })], NOW);
    expect(valueOf(live, d, NOW)).toBe('1112');
    expect(valueOf(live, { ...d, calculation: 'average' }, NOW)).toBe('185.333333333'); // 1112 / 6, to 12 significant digits
  });

  it('seeds merge with live events for values, first and last, and timestamps', () => {
    const cutoff = NOW - 5 * DAY;
    const seed = { cutoff_ms: cutoff, count: 4, values: { rock: 3, jazz: 1 }, first: { timestamp_ms: cutoff - 9 * DAY, value: 'jazz' }, last: { timestamp_ms: cutoff - DAY, value: 'rock' } };
    const events = [ev('play', NOW, { genre: 'pop' }), ev('play', NOW, { genre: 'pop' }), ev('play', NOW, { genre: 'pop' }), ev('play', NOW, { genre: 'jazz' })];
    const at = (c: Calculation) => valueOf(applySeed(def(c), seed, events, NOW), def(c), NOW);
    expect(at('count')).toBe('8');
    expect(at('most_frequent')).toBe('pop');
    expect(at('unique_list')).toEqual(['jazz', 'pop', 'rock']);
    expect(at('first_value')).toBe('jazz');
    expect(at('last_value')).toBe('pop');
    expect(at('first_timestamp')).toBe(new Date(cutoff - 9 * DAY).toISOString());
  });

  it('a windowed seed leaves the window with the UTC day before its cutoff', () => {
    const d = def('count', week);
    const cutoff = NOW - 2 * DAY;
    const s = applySeed(d, { cutoff_ms: cutoff, count: 10 }, [], NOW);
    const leaves = (dayOf(cutoff - 1) + 7) * DAY;
    expect(nextChangeAt(s, d, NOW)).toBe(leaves);
    expect(valueOf(s, d, leaves - 1)).toBe('10');
    expect(valueOf(s, d, leaves)).toBe('0');
    expect(expire(s, d, leaves).seed).toBeNull();
  });

  it('a seed without what the calculation reads, or with a bad cutoff, is rejected with PS_ERR_SEED_INVALID', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return (e as { code?: string }).code;
      }
      return undefined;
    };
    expect(code(() => applySeed(def('sum', undefined, 'secs'), { cutoff_ms: NOW, count: 2 }, [], NOW))).toBe('PS_ERR_SEED_INVALID');
    expect(code(() => applySeed(def('average', undefined, 'secs'), { cutoff_ms: NOW, sum: 2 }, [], NOW))).toBe('PS_ERR_SEED_INVALID');
    expect(code(() => applySeed(def('last_value'), { cutoff_ms: NOW, last: { timestamp_ms: NOW - 1 } }, [], NOW))).toBe('PS_ERR_SEED_INVALID');
    expect(code(() => applySeed(def('count'), { cutoff_ms: -1, count: 2 }, [], NOW))).toBe('PS_ERR_SEED_INVALID');
    expect(code(() => applySeed(def('count'), { cutoff_ms: NOW, count: 1.5 }, [], NOW))).toBe('PS_ERR_SEED_INVALID');
    expect(code(() => applySeed(def('first_timestamp'), { cutoff_ms: NOW, first: { timestamp_ms: NOW } }, [], NOW))).toBe('PS_ERR_SEED_INVALID');
    expect(code(() => applySeed(def('unique_count'), { cutoff_ms: NOW, values: { a: 0 } }, [], NOW))).toBe('PS_ERR_SEED_INVALID');
    expect(code(() => applySeed(def('count'), { cutoff_ms: NOW, count: 0 }, [], NOW))).toBeUndefined();
  });
});
