import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import type { BenchContext } from '../lib/context.ts';
import { BenchAdmin } from '../lib/kafka.ts';
import { measureThroughput } from '../lib/measure.ts';
import { log } from '../lib/progress.ts';
import type { BenchResult } from '../lib/results.ts';
import { ratio, round, summarize } from '../lib/stats.ts';
import { loadWorkload, produceRecords, type Workload } from '../lib/workload.ts';
import { createServiceTopics, serviceChild, workerConfig } from '../lib/service-under-test.ts';

const KEY = { key: 'bench-key-0001', secret: 'bench-secret', workspace: '1' };
const AUTH = `Basic ${Buffer.from(`${KEY.key}:${KEY.secret}`).toString('base64')}`;
/** What issue 17 asks about: five Live Stream pages open during the run. */
const PAGES = 5;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * One open Live Stream page, as the browser reads it: a fetch of the SSE stream with every environment
 * shown (the most the server sends), counting what arrives. `ready` resolves when the server has sent the
 * tail and reads live.
 */
class Page {
  readonly abort = new AbortController();
  events = 0;
  readonly ready: Promise<void>;
  readonly done: Promise<void>;

  constructor(port: number) {
    let markReady!: () => void;
    this.ready = new Promise((r) => (markReady = r));
    this.done = (async () => {
      const res = await fetch(`http://127.0.0.1:${port}/v1/live/stream?environment=all`, { headers: { authorization: AUTH }, signal: this.abort.signal });
      if (res.status !== 200) throw new Error(`live stream: HTTP ${res.status} ${await res.text()}`);
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block.startsWith('event: ready')) markReady();
          else if (block.startsWith('event: batch') || block.startsWith('event: update')) {
            // Parsed like the page does: the cost of reading is part of having pages open.
            JSON.parse(block.slice(block.indexOf('data: ') + 6));
            this.events++;
          }
        }
      }
    })().catch((e: Error) => {
      if (e.name !== 'AbortError') throw e;
    });
  }
}

/**
 * CPU seconds (user + system, all threads) the process has used so far, from /proc (Linux; clock ticks of
 * 1/100 s): unlike throughput, CPU per batch hardly depends on how busy the rest of the machine is.
 */
function cpuSeconds(pid: number | undefined): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

interface LiveRun {
  batchesPerS: number;
  /** The worker's CPU milliseconds per input batch during the measured run. */
  cpuMsPerBatch: number | undefined;
  events: number;
  loadBefore: number;
  loadAfter: number;
}

async function runOnce(ctx: BenchContext, admin: BenchAdmin, workload: Workload, pages: number, run: number): Promise<LiveRun> {
  const applicationId = `${ctx.runId}-live-${pages}p-${run}`;
  // A raw topic per run, written only once the pages are open: the batches arrive while they watch, as in
  // production (a pre-produced topic would be a backlog the pipeline reads and the tail never sees).
  const rawTopic = `${applicationId}.raw.web`;
  await admin.create([{ topic: rawTopic, partitions: ctx.options.partitions, config: { 'retention.ms': '-1' } }]);
  const [all] = await createServiceTopics(admin, applicationId, rawTopic, ctx.options.partitions);
  const port = await freePort();
  const config = { ...workerConfig(ctx, applicationId, rawTopic, 'at_least_once'), apiPort: port, apiKey: KEY, liveStream: true };
  const child = serviceChild(ctx, config, `live-stream ${pages} pages #${run}`);
  const open: Page[] = [];
  try {
    await child.waitFor('api', 60_000);
    for (let i = 0; i < pages; i++) open.push(new Page(port));
    await Promise.race([
      Promise.all([...open.map((p) => p.ready), child.waitFor('running', 180_000)]),
      child.died,
      ...open.map((p) => p.done.then(() => { throw new Error('a live stream page closed before it was ready'); })),
    ]);
    const loadBefore = loadavg()[0]!;
    const cpuBefore = cpuSeconds(child.process.pid);
    const measuring = measureThroughput({ label: `live-stream, ${pages} page(s) open, run ${run}`, child, admin, groupId: applicationId, inputTopic: rawTopic, outputTopic: all!, records: workload.records.length, timeoutMs: 120_000 + (workload.records.length / 150) * 1000 });
    await produceRecords(ctx.brokers, rawTopic, workload.records, `producing run ${run} (${pages} pages)`);
    const m = await measuring;
    const cpuAfter = cpuSeconds(child.process.pid);
    const cpuMsPerBatch = cpuBefore !== undefined && cpuAfter !== undefined ? ((cpuAfter - cpuBefore) * 1000) / workload.records.length : undefined;
    const events = open.reduce((s, p) => s + p.events, 0);
    if (pages > 0 && events === 0) throw new Error(`${pages} page(s) were open but received no batch: the Live Stream did not stream`);
    return { batchesPerS: m.recordsPerS, cpuMsPerBatch, events, loadBefore, loadAfter: loadavg()[0]! };
  } finally {
    for (const p of open) p.abort.abort();
    await child.stop(10_000);
    rmSync(config.stateDir, { recursive: true, force: true });
    await admin.deleteByPrefix(applicationId);
    await admin.deleteGroups([applicationId]);
  }
}

/**
 * Issue 17: pipeline throughput with five Live Stream pages open is at least 0.95× without. Each run
 * starts a fresh at-least-once worker (Profile API and Live Stream served), connects 0 or 5 pages, then
 * produces the same records; the order alternates per run (ABBA), so a drift in the machine's load hits
 * both alike.
 */
export async function liveStreamBenchmark(ctx: BenchContext): Promise<BenchResult> {
  const started = Date.now();
  const { options: o } = ctx;
  const admin = new BenchAdmin(ctx.brokers);
  await admin.connect();
  const runs: Record<string, number | undefined>[] = [];
  let workload: Workload | undefined;
  try {
    workload = await loadWorkload({ seed: o.seed, batches: o.batches, users: o.users, partitions: o.partitions, workspaceId: KEY.workspace }, ctx.registryUrl, ctx.workloadTopic);
    for (let run = 1; run <= o.runs; run++) {
      const order = run % 2 === 1 ? [0, PAGES] : [PAGES, 0];
      const r: Record<number, LiveRun> = {};
      for (const pages of order) r[pages] = await runOnce(ctx, admin, workload, pages, run);
      runs.push({
        without_pages_batches_per_s: r[0]!.batchesPerS,
        with_5_pages_batches_per_s: r[PAGES]!.batchesPerS,
        events_per_page: round(r[PAGES]!.events / PAGES, 0),
        without_pages_cpu_ms_per_batch: r[0]!.cpuMsPerBatch === undefined ? undefined : round(r[0]!.cpuMsPerBatch, 3),
        with_5_pages_cpu_ms_per_batch: r[PAGES]!.cpuMsPerBatch === undefined ? undefined : round(r[PAGES]!.cpuMsPerBatch, 3),
        load_average_without: round((r[0]!.loadBefore + r[0]!.loadAfter) / 2, 2),
        load_average_with: round((r[PAGES]!.loadBefore + r[PAGES]!.loadAfter) / 2, 2),
      });
      log(`live-stream run ${run}: ${JSON.stringify(runs.at(-1))}`);
    }
  } finally {
    await admin.disconnect();
  }
  const s = summarize(runs);
  return {
    benchmark: 'live-stream',
    started_at: new Date(started).toISOString(),
    duration_s: (Date.now() - started) / 1000,
    size: o.size,
    machine: ctx.machine,
    parameters: { batches: workload?.records.length, distinct_users: workload?.distinctUsers, partitions: o.partitions, pages: PAGES, page_filter: 'environment=all (every batch of the workspace)', guarantee: 'at_least_once' },
    ...s,
    runs,
    ratios: {
      with_vs_without: ratio(s.median.with_5_pages_batches_per_s, s.median.without_pages_batches_per_s),
      cpu_per_batch_with_vs_without: ratio(s.median.with_5_pages_cpu_ms_per_batch, s.median.without_pages_cpu_ms_per_batch),
    },
    targets: [{ label: 'throughput with 5 Live Stream pages open ≥ 0.95× without', key: 'with_vs_without', op: '>=', value: 0.95 }],
    units: { without_pages_batches_per_s: 'batches/s', with_5_pages_batches_per_s: 'batches/s', events_per_page: 'events', without_pages_cpu_ms_per_batch: 'ms', with_5_pages_cpu_ms_per_batch: 'ms', load_average_without: '1-min load', load_average_with: '1-min load' },
    notes: [
      'Throughput as in the pipeline benchmark (input batches / (lag zero − first output)). Each run\'s batches are produced (at full speed, by the harness) only after the worker runs and the pages read live, so they arrive while the pages watch. The pages are SSE clients in the harness process (on the same cores) with every environment shown; they parse every event as the page does.',
      'Without pages the Live Stream\'s tail is not running at all (it starts with the first page), so "without" is also the figure of a worker without the feature.',
      'With pages, the tail (in a worker thread) decodes at most 50 raw batches/s and the history records of the batches it shows; events_per_page counts the batch and update events one page received during the run.',
      'cpu_ms_per_batch: the worker process\'s CPU time (all its threads: main, the Live Stream tail\'s, RocksDB\'s) from the measurement\'s start to its end, divided by the batches; it says what the pages cost whatever the machine\'s load.',
      'load_average_*: the 1-minute load average, mean of before and after each run (2 cores, shared with others\' test runs: above 2 means the runs competed for CPU).',
    ],
  };
}
