const DAY_MS = 86_400_000;

/**
 * Events and batches per UTC day, for the `days` days ending with the day of `nowMs`, oldest first, every
 * day present (zero when nothing happened) so a chart's x axis is the calendar. Events count on their own
 * event time; a batch counts on its batch time. Times outside the window are left out.
 */
export function eventsPerDay(batches: ReadonlyArray<{ batchMs: number; events: readonly number[] }>, nowMs: number, days: number): Array<{ day_ms: number; events: number; batches: number }> {
  const last = Math.floor(nowMs / DAY_MS) * DAY_MS;
  const first = last - (days - 1) * DAY_MS;
  const out = Array.from({ length: days }, (_, i) => ({ day_ms: first + i * DAY_MS, events: 0, batches: 0 }));
  const slot = (ms: number) => {
    const i = Math.floor((ms - first) / DAY_MS);
    return i >= 0 && i < days ? out[i] : undefined;
  };
  for (const b of batches) {
    const day = slot(b.batchMs);
    if (day) day.batches++;
    for (const t of b.events) {
      const d = slot(t);
      if (d) d.events++;
    }
  }
  return out;
}
