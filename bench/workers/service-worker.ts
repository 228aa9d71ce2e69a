/**
 * One profile-stream instance in its own process, so the harness can read its peak RSS and give it a
 * clean heap: `node --import tsx bench/workers/service-worker.ts '<json WorkerConfig>'`.
 * Prints JSON lines on stdout: `{"event":"running"}`, `{"event":"restore","ms":…}`, `{"event":"api","port":…}`.
 * SIGTERM prints the runtime's latency histograms (`{"event":"stages",metrics}`), closes it cleanly (commit, close
 * stores) and prints `{"event":"closed"}`.
 */
import { Writable } from 'node:stream';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import pino from 'pino';
import { ApiKeyStore, hashSecret } from '../../src/api/api-keys.ts';
import { buildApi } from '../../src/api/build-app.ts';
import { StreamsProfileLookup } from '../../src/app/adapters/streams-profile-lookup.ts';
import { StreamsService } from '../../src/app/streams-service.ts';
import { readRuntimeEnv } from '../../src/config/runtime-env.ts';
import { workspaceViewSources } from '../../src/app/adapters/workspace-view-sources.ts';
import { benchDeployment } from '../lib/deployment.ts';
import { STAGE_METRICS } from '../lib/stage-latency.ts';
import { TaskDb } from '../../src/streams/internals/rocksdb-task-db.ts';

export interface WorkerConfig {
  applicationId: string;
  partitions: number;
  rawTopic: string;
  brokers: string[];
  registryUrl: string;
  stateDir: string;
  guarantee: 'at_least_once' | 'exactly_once';
  commitIntervalMs: number;
  /** The runtime's Kafka client (default: the runtime's). */
  kafkaClient?: 'platformatic';
  /** Serve the Profile API on this port (0: none). */
  apiPort?: number;
  /**
   * The API key the worker accepts. `secretHash`, when given, is used as it is: hashing (scrypt, ~16 MB and
   * tens of ms of CPU, far more on a loaded machine) at every start would count against a restart's time,
   * which a real instance, reading the hash from api-keys.yaml, does not spend.
   */
  apiKey?: { key: string; secret: string; workspace: string; secretHash?: string };
  /** Serve the Live Stream (and the other workspace views) beside the Profile API. */
  liveStream?: boolean;
  /** STANDBY_REPLICAS of the service (default 0). */
  standbyReplicas?: number;
  /** Group session timeout (default: the runtime's). */
  sessionTimeoutMs?: number;
  /** Print `{"event":"tasks",active,standby}` this often (0: never). */
  reportTasksMs?: number;
  /**
   * Print `{"event":"memory",rss,heapTotal,heapUsed,external,arrayBuffers,rocksdb}` this often (0: never):
   * the process's memory as Node sees it and RocksDB's own (memtables, block caches, table readers).
   */
  reportMemoryMs?: number;
}

const config = JSON.parse(process.argv[2]!) as WorkerConfig;
// Static imports are done by now: how long the process took to start and load its modules (a restart's first cost).
process.stdout.write(`${JSON.stringify({ event: 'loaded', uptime_ms: Math.round(process.uptime() * 1000), t: Date.now() })}\n`);

// What bounds latency from inside the process: how late the event loop ran timers (every record waits for
// the loop), and the garbage collector's pauses, which stop it. Reported with the stage histograms.
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
const gcPauses: number[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcPauses.push(e.duration);
}).observe({ entryTypes: ['gc'] });
const pausePercentile = (q: number): number => {
  const sorted = [...gcPauses].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 10) / 10;
};
const emit = (event: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify({ ...event, t: Date.now() })}\n`);
};

// Every log line goes to stderr, which the harness keeps in a file per worker (bench/tmp/logs): a worker
// that dies or misbehaves leaves its state changes, warnings and last error there. Info lines are also parsed for
// the runtime's own restore timing.
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const line of chunk.toString().split('\n')) {
      if (!line) continue;
      try {
        const entry = JSON.parse(line) as { level: number; msg: string; ms?: number };
        if (entry.msg === 'restore finished') emit({ event: 'restore', ms: entry.ms });
      } catch { /* not JSON: kept as it is */ }
      process.stderr.write(`${line}\n`);
    }
    done();
  },
});
const logger = pino({ level: 'info', base: { app: config.applicationId } }, sink);
const deployment = benchDeployment({ applicationId: config.applicationId, partitions: config.partitions, rawTopic: config.rawTopic });
const apiPort = config.apiPort ?? 0;
const service = new StreamsService({
  deployment,
  env: readRuntimeEnv({
    STATE_DIR: config.stateDir,
    PROCESSING_GUARANTEE: config.guarantee,
    ...(config.kafkaClient ? { KAFKA_CLIENT: config.kafkaClient } : {}),
    ...(config.standbyReplicas ? { STANDBY_REPLICAS: String(config.standbyReplicas) } : {}),
    // An override for before/after measurements of the trimming (src/app/memory-trimmer.ts).
    ...(process.env.MEMORY_TRIM_GROWTH_MB ? { MEMORY_TRIM_GROWTH_MB: process.env.MEMORY_TRIM_GROWTH_MB } : {}),
  }),
  brokers: config.brokers,
  schemaRegistryUrl: config.registryUrl,
  logger,
  commitIntervalMs: config.commitIntervalMs,
  ...(config.sessionTimeoutMs ? { sessionTimeoutMs: config.sessionTimeoutMs } : {}),
  ...(apiPort ? { applicationServer: `127.0.0.1:${apiPort}` } : {}),
});
service.onFatal((e) => {
  process.stderr.write(`service-worker: ${e.message}\n`);
  process.exit(3);
});

// As `start` does: the processor joins its group while the HTTP API is built.
const starting = service.start();
starting.catch(() => undefined); // awaited below

let api: Awaited<ReturnType<typeof buildApi>> | undefined;
const views = config.liveStream ? workspaceViewSources({ deployment, app: service.app, brokers: config.brokers, schemaRegistryUrl: config.registryUrl, logger, applicationServer: `127.0.0.1:${apiPort}` }) : undefined;
if (apiPort && config.apiKey) {
  const keys = new ApiKeyStore([{ key: config.apiKey.key, workspaces: [config.apiKey.workspace], secretHash: config.apiKey.secretHash ?? hashSecret(config.apiKey.secret) }]);
  // The default per-key rate limit (6,000/min) would answer most of a load test with 429.
  api = await buildApi({ readiness: service, lookup: new StreamsProfileLookup(service.app, deployment.app.rawTopics), keys, rateLimitPerMinute: 1_000_000_000, ...(views ? { workspaceViews: views.options } : {}) });
  await api.listen({ host: '127.0.0.1', port: apiPort });
  emit({ event: 'api', port: apiPort });
}

let closing = false;
process.on('SIGTERM', () => {
  if (closing) return;
  closing = true;
  void (async () => {
    // Before closing: the close's own commit is not part of the run's latency.
    const metrics = await service.app.metrics.registry.getMetricsAsJSON();
    emit({
      event: 'stages',
      metrics: metrics.filter((m) => (STAGE_METRICS as readonly string[]).includes(m.name)),
      eventLoop: { p50_ms: loopDelay.percentile(50) / 1e6, p99_ms: loopDelay.percentile(99) / 1e6, max_ms: loopDelay.max / 1e6 },
      gc: { pauses: gcPauses.length, total_ms: Math.round(gcPauses.reduce((a, b) => a + b, 0)), p50_ms: pausePercentile(0.5), p99_ms: pausePercentile(0.99), max_ms: pausePercentile(1) },
    });
    if (memoryTimer) {
      clearInterval(memoryTimer);
      await reportMemory();
    }
    // As `start` does: leave the group while the API still answers what is forwarded here.
    await views?.close();
    await service.close();
    await api?.close();
    emit({ event: 'closed' });
    process.exit(0);
  })();
});

const reportMemory = async (): Promise<void> => {
  const spaces = Object.fromEntries(getHeapSpaceStatistics().map((sp) => [sp.space_name, sp.space_size]));
  emit({ event: 'memory', ...process.memoryUsage(), spaces, rocksdb: await TaskDb.memoryUsage() });
};
let memoryTimer: NodeJS.Timeout | undefined;
if (config.reportMemoryMs) memoryTimer = setInterval(() => void reportMemory(), config.reportMemoryMs).unref();

await starting;
emit({ event: 'running' });
if (config.reportTasksMs) {
  setInterval(() => {
    emit({ event: 'tasks', active: service.app.restoreStatus().map((s) => ({ taskId: s.taskId, state: s.state })), standby: service.app.standbyStatus() });
  }, config.reportTasksMs).unref();
}
