import { describe, expect, it } from 'vitest';
import { eventsPerDay } from '../../../src/api/events-per-day.ts';

const DAY = 86_400_000;
const D0 = Date.UTC(2026, 10, 28);

describe('eventsPerDay', () => {
  it('counts events on their own day and batches on the batch\'s day, every day of the window present, outside left out', () => {
    const out = eventsPerDay([
      { batchMs: D0 + 10, events: [D0 + 10, D0 + DAY + 5, D0 - DAY] },
      { batchMs: D0 + 2 * DAY + 1, events: [D0 + 2 * DAY + 1, D0 + 2 * DAY + 2] },
    ], D0 + 2 * DAY + 12 * 3_600_000, 3);
    expect(out).toEqual([
      { day_ms: D0, events: 1, batches: 1 },
      { day_ms: D0 + DAY, events: 1, batches: 0 },
      { day_ms: D0 + 2 * DAY, events: 2, batches: 1 },
    ]);
  });
});
