import { Pool } from 'undici';

export interface FixedRateResult {
  /** Requests per second asked for, and achieved (completed answers over the run's length). */
  readonly rate: number;
  readonly achievedRps: number;
  readonly sent: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  /** Answers other than 2xx, transport errors, and requests still unanswered `graceMs` after the last was due. */
  readonly non2xx: number;
  readonly errors: number;
  readonly unanswered: number;
}

/**
 * Open-loop load at a constant rate: request i is due at start + i/rate whatever happened to the earlier
 * ones, and its latency counts from when it was due, not from when a free connection sent it. So a stall
 * shows in the latency of every request that waited behind it (no coordinated omission), which
 * autocannon's `overallRate` hides: each of its connections sends its per-second quota as fast as it can
 * at the start of every second, then idles, and latencies count from the send.
 * Timers fire about once a millisecond; requests due in between leave together (a few per tick).
 * Latencies are in milliseconds, with sub-millisecond resolution.
 */
export async function fixedRateLoad(o: {
  origin: string;
  paths: readonly string[];
  headers: Record<string, string>;
  rate: number;
  seconds: number;
  connections: number;
  graceMs?: number;
}): Promise<FixedRateResult> {
  const pool = new Pool(o.origin, { connections: o.connections, pipelining: 1, keepAliveTimeout: 30_000 });
  const total = Math.max(1, Math.round(o.rate * o.seconds));
  const latencies = new Float64Array(total);
  let answered = 0;
  let non2xx = 0;
  let errors = 0;
  let sent = 0;
  let lastDone = 0;
  const intervalMs = 1000 / o.rate;
  const start = performance.now();
  const send = (i: number): void => {
    const due = start + i * intervalMs;
    pool.request({ method: 'GET', path: o.paths[i % o.paths.length]!, headers: o.headers }).then(
      async (res) => {
        await res.body.dump();
        const done = performance.now();
        lastDone = done;
        if (res.statusCode < 200 || res.statusCode >= 300) non2xx++;
        else latencies[answered++] = done - due;
      },
      () => {
        errors++;
      },
    );
  };
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor((performance.now() - start) / intervalMs) + 1);
      while (sent < due) send(sent++);
      if (sent < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  const deadline = performance.now() + (o.graceMs ?? 10_000);
  while (answered + non2xx + errors < total && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const unanswered = total - (answered + non2xx + errors);
  // Not `close`: it would wait for requests still unanswered after the grace period.
  await pool.destroy();
  const sorted = latencies.subarray(0, answered).sort();
  const at = (q: number): number => (answered === 0 ? Number.NaN : round(sorted[Math.min(answered - 1, Math.ceil(q * answered) - 1)]!));
  return {
    rate: o.rate,
    achievedRps: round(answered / ((Math.max(lastDone, start + o.seconds * 1000) - start) / 1000)),
    sent: total,
    p50: at(0.5),
    p99: at(0.99),
    p999: at(0.999),
    max: answered === 0 ? Number.NaN : round(sorted[answered - 1]!),
    non2xx,
    errors,
    unanswered,
  };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
