/**
 * `npm run bench:auth-flood [-- --batches N --flooders 32]`: issue 15's wrong-secret flood. One profile-stream
 * instance (the bench service worker: stream processor and Profile API in one process) processes a fresh
 * raw topic while one valid client reads profiles in a loop; the same run is repeated with 32 clients
 * sending wrong secrets, first all from 127.0.0.1 (the valid client's address too), then each from its own
 * loopback address (127.0.1.x), then idle again. Reports the valid client's median latency and the pipeline's throughput
 * per phase, with the load average. Writes bench/results/auth-flood.json.
 */
import { writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BenchChild, REPO_ROOT } from './lib/child.ts';
import { BenchAdmin } from './lib/kafka.ts';
import { measureThroughput } from './lib/measure.ts';
import { log } from './lib/progress.ts';
import { percentile } from './lib/stats.ts';
import { loadWorkload, produceRecords } from './lib/workload.ts';
import { COMMIT_INTERVAL_MS, createServiceTopics } from './lib/service-under-test.ts';
import type { WorkerConfig } from './workers/service-worker.ts';

const { values } = parseArgs({ options: { batches: { type: 'string' }, flooders: { type: 'string' }, label: { type: 'string' }, out: { type: 'string' } } });
const BATCHES = Number(values.batches ?? 12_000);
const FLOODERS = Number(values.flooders ?? 32);
const LABEL = values.label ?? 'after';
const PARTITIONS = 4;
const KEY = { key: 'bench-key-0001', secret: 'bench-secret', workspace: '1' };
const basic = (key: string, secret: string) => `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const registryUrl = process.env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7';
const runId = `authflood-${Date.now().toString(36)}`;

type Mode = 'none' | 'same-address' | 'distributed';
let phaseCount = 0;

interface Answer {
  status: number;
  ms: number;
}

/** One GET on a keep-alive agent bound to `localAddress`; never rejects (a failure is status 0). */
function get(port: number, path: string, authorization: string, agent: Agent, localAddress: string): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { authorization }, agent, localAddress, timeout: 30_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, ms: performance.now() - started }));
    req.end();
  });
}

/** Requests in a loop until `stop()`; counts statuses and keeps latencies. */
function loop(port: number, paths: readonly string[], authorization: string, localAddress: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let running = true;
  let i = 0;
  const done = (async () => {
    while (running) {
      const a = await get(port, paths[i++ % paths.length]!, authorization, agent, localAddress);
      latencies.push(a.ms);
      statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
      // A refused connection would spin: back off a little, as a client would.
      if (a.status === 0) await new Promise((r) => setTimeout(r, 50));
    }
    agent.destroy();
  })();
  return {
    latencies,
    statuses,
    async stop() {
      running = false;
      await done;
    },
  };
}

async function phase(admin: BenchAdmin, records: Awaited<ReturnType<typeof loadWorkload>>['records'], mode: Mode, port: number) {
  const applicationId = `${runId}-${mode}-${++phaseCount}`;
  const rawTopic = `${applicationId}.raw.web`;
  await admin.create([{ topic: rawTopic, partitions: PARTITIONS, config: { 'retention.ms': '-1' } }]);
  const [all] = await createServiceTopics(admin, applicationId, rawTopic, PARTITIONS);
  const stateDir = join(REPO_ROOT, 'bench', 'tmp', 'state', applicationId);
  mkdirSync(stateDir, { recursive: true });
  const config: WorkerConfig = { applicationId, partitions: PARTITIONS, rawTopic, brokers, registryUrl, stateDir, guarantee: 'at_least_once', commitIntervalMs: COMMIT_INTERVAL_MS.at_least_once, apiPort: port, apiKey: KEY };
  const child = BenchChild.node(`auth-flood ${mode}`, join(REPO_ROOT, 'bench/workers/service-worker.ts'), [JSON.stringify(config)]);
  const mpids = [...new Set(records.map((r) => r.key.toString()))].slice(0, 500);
  const paths = mpids.map((m) => `/userprofile/v1/o/a/${KEY.workspace}/${m}?fields=user_attributes`);
  try {
    await child.waitFor('api', 120_000);
    // The valid client was verified before the flood, as any client that has been working is.
    const warm = await get(port, paths[0]!, basic(KEY.key, KEY.secret), new Agent(), '127.0.0.1');
    if (warm.status === 401 || warm.status === 0) throw new Error(`valid client refused: ${warm.status}`);
    await child.waitFor('running', 120_000);
    const valid = loop(port, paths, basic(KEY.key, KEY.secret), '127.0.0.1');
    const flood = mode === 'none' ? [] : Array.from({ length: FLOODERS }, (_, n) => loop(port, paths, basic(KEY.key, `wrong-${n}`), mode === 'distributed' ? `127.0.1.${n + 1}` : '127.0.0.1'));
    await new Promise((r) => setTimeout(r, 2000)); // the flood under way before the clock starts
    const load1 = loadavg()[0]!;
    await produceRecords(brokers, rawTopic, records, `producing (${mode})`);
    // A flood that stops the pipeline is a result, not a benchmark failure: recorded with the worker's reason.
    let m: { recordsPerS: number } | undefined;
    let pipelineError: string | undefined;
    try {
      m = await measureThroughput({ label: `pipeline (${mode})`, child, admin, groupId: applicationId, inputTopic: rawTopic, outputTopic: all!, records: records.length, timeoutMs: 600_000 });
    } catch (error) {
      pipelineError = (error as Error).message.slice(0, 600);
    }
    await valid.stop();
    await Promise.all(flood.map((f) => f.stop()));
    const floodStatuses = new Map<number, number>();
    for (const f of flood) for (const [s, c] of f.statuses) floodStatuses.set(s, (floodStatuses.get(s) ?? 0) + c);
    const result = {
      mode,
      batches_per_s: m ? Math.round(m.recordsPerS) : 0,
      ...(pipelineError ? { pipeline_error: pipelineError } : {}),
      valid_p50_ms: round(percentile(Float64Array.from(valid.latencies).sort(), 50)),
      valid_p99_ms: round(percentile(Float64Array.from(valid.latencies).sort(), 99)),
      valid_requests: valid.latencies.length,
      valid_statuses: Object.fromEntries(valid.statuses),
      flood_requests: flood.reduce((s, f) => s + f.latencies.length, 0),
      flood_statuses: Object.fromEntries(floodStatuses),
      load_average_1m_at_start: round(load1),
      load_average_1m_at_end: round(loadavg()[0]!),
    };
    log(JSON.stringify(result));
    return result;
  } finally {
    await child.stop(30_000);
    rmSync(stateDir, { recursive: true, force: true });
    await admin.deleteByPrefix(applicationId);
    await admin.deleteGroups([applicationId]);
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

const admin = new BenchAdmin(brokers);
await admin.connect();
try {
  const workload = await loadWorkload({ seed: 15, batches: BATCHES, users: Math.ceil(BATCHES / 5), partitions: PARTITIONS, workspaceId: KEY.workspace }, registryUrl, 'bench.raw.web');
  const port = 18_000 + Math.floor(Math.random() * 1000);
  const phases = [];
  // The idle phase runs before and after the floods: on a shared machine the load moves during a run, and
  // the floods are compared with the mean of the two.
  for (const mode of ['none', 'same-address', 'distributed', 'none'] as const) phases.push(await phase(admin, workload.records, mode, port));
  const idle = phases.filter((p) => p.mode === 'none');
  const none = { valid_p50_ms: (idle[0]!.valid_p50_ms + idle[1]!.valid_p50_ms) / 2, batches_per_s: (idle[0]!.batches_per_s + idle[1]!.batches_per_s) / 2 };
  const summary = {
    benchmark: 'auth-flood',
    label: LABEL,
    at: new Date().toISOString(),
    batches: BATCHES,
    flooders: FLOODERS,
    phases,
    ratios: Object.fromEntries(phases.filter((p) => p.mode !== 'none').map((p) => [p.mode, { valid_p50_vs_idle: round(p.valid_p50_ms / none.valid_p50_ms), throughput_vs_idle: round(p.batches_per_s / none.batches_per_s) }])),
  };
  const out = values.out ?? join(REPO_ROOT, 'bench', 'results', `auth-flood-${LABEL}.json`);
  writeFileSync(out, `${JSON.stringify(summary, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(summary.ratios)}\n${out}\n`);
} finally {
  await admin.disconnect();
}
process.exit(0);
