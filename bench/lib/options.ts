import { parseArgs } from 'node:util';
import { DEFAULT_KAFKA_CLIENT, KAFKA_CLIENTS, type KafkaClientName } from '../../src/streams/index.ts';

export const BENCHMARK_NAMES = ['pipeline', 'latency', 'restore', 'api', 'live-stream', 'failover', 'memory'] as const;
export type BenchmarkName = (typeof BENCHMARK_NAMES)[number];

/**
 * Every size a benchmark uses. `standard` (the default) runs everything, 3 runs each, in about 15 minutes
 * on a 2-core machine; `full` is issue 8's sizes (hours here); `quick` fits a few minutes; `tiny` is for `npm test`.
 */
export interface BenchOptions {
  readonly size: 'full' | 'standard' | 'quick' | 'tiny' | 'custom';
  readonly runs: number;
  readonly batches: number;
  readonly users: number;
  readonly partitions: number;
  readonly seed: number;
  /** Parts of the pipeline benchmark to skip (e.g. `peer` when Maven or Java is missing). */
  readonly skip: ReadonlySet<string>;
  readonly latencySeconds: number;
  /**
   * Latency: seconds sent at the same rate before the measured ones, left out of the figures (reported
   * apart): a freshly started worker's first outputs wait for JIT, connections and registry look-ups.
   */
  readonly latencyWarmupSeconds: number;
  /** Fixed input rate for latency; 0 = 50% of the pipeline's measured at-least-once maximum. */
  readonly latencyRate: number;
  readonly restoreProfiles: number;
  /** Memory benchmark: users whose profiles are in the stores, and batches (uniform over them) per guarantee. */
  readonly memoryUsers: number;
  readonly memoryBatches: number;
  readonly apiSeconds: number;
  readonly apiConnections: number;
  readonly apiUsers: number;
  /** Where results and BENCHMARKS.md go (tests write elsewhere so they never overwrite real results). */
  readonly resultsDir: string;
  readonly markdownFile: string | undefined;
  /** Profile the profile-stream worker (`--cpu-prof`) into bench/tmp/profiles. */
  readonly cpuProf: boolean;
  /**
   * Kafka clients the profile-stream workers run on; the pipeline benchmark measures each in every run
   * (the first one gives the figures compared with the peer), the others only the first.
   */
  readonly clients: readonly KafkaClientName[];
  /**
   * Pipeline: profile-stream instances per run (one application, its tasks spread over them, each its own process
   * and state directory). 2 on a 2-core machine says what running tasks on a second core could give.
   */
  readonly instances: number;
}

const PRESETS = {
  full: { runs: 3, batches: 1_000_000, users: 200_000, latencySeconds: 60, latencyWarmupSeconds: 10, restoreProfiles: 1_000_000, memoryUsers: 200_000, memoryBatches: 100_000, apiSeconds: 15, apiUsers: 2_000 },
  standard: { runs: 3, batches: 30_000, users: 6_000, latencySeconds: 20, latencyWarmupSeconds: 10, restoreProfiles: 200_000, memoryUsers: 200_000, memoryBatches: 20_000, apiSeconds: 15, apiUsers: 2_000 },
  quick: { runs: 3, batches: 60_000, users: 12_000, latencySeconds: 20, latencyWarmupSeconds: 10, restoreProfiles: 100_000, memoryUsers: 50_000, memoryBatches: 10_000, apiSeconds: 10, apiUsers: 1_000 },
  tiny: { runs: 1, batches: 400, users: 100, latencySeconds: 3, latencyWarmupSeconds: 1, restoreProfiles: 500, memoryUsers: 300, memoryBatches: 200, apiSeconds: 2, apiUsers: 50 },
} as const;

export interface ParsedCommand {
  readonly names: BenchmarkName[];
  readonly options: BenchOptions;
}

const num = (flag: string | undefined, env: string | undefined, fallback: number): number => {
  const raw = flag ?? env;
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw.replaceAll('_', ''));
  if (!Number.isFinite(n) || n < 0) throw new Error(`expected a non-negative number, got "${raw}"`);
  return n;
};

export function usage(): string {
  return `usage: npm run bench [-- <${BENCHMARK_NAMES.join('|')}>...] [--full|--quick|--tiny] [--runs N] [--batches N] [--users N]
       [--partitions N] [--seed N] [--skip peer,peer-throughput,peer-latency,peer-merge-only,eos,perf-tools,passthrough] [--latency-seconds N] [--latency-warmup-seconds N] [--latency-rate N]
       [--restore-profiles N] [--memory-users N] [--memory-batches N] [--api-seconds N] [--api-connections N] [--cpu-prof] [--client platformatic] [--instances N]
Each flag also reads BENCH_<NAME> from the environment (BENCH_BATCHES=..., BENCH_SIZE=full|standard|quick|tiny).
Default size: standard (30,000 batches for 6,000 users, 200,000 profiles; all benchmarks in about 15 minutes on 2 cores).
--full: issue 8's sizes (1,000,000 batches, 200,000 users, 1,000,000 profiles), hours on 2 cores.
memory: the service's RSS with --memory-users profiles in its stores (standard and full: 200,000) while it processes
--memory-batches batches spread uniformly over them, at-least-once then exactly-once (and the Kafka Streams peer on the
same data unless --skip peer); --skip eos leaves out the exactly-once half.
--client: Kafka client(s) of the profile-stream workers (default: KAFKA_CLIENT, else the runtime's default). With two,
the pipeline benchmark runs profile-stream on each in every run and reports both figures and their ratio.
--instances: profile-stream instances in each pipeline run (default 1), one application spread over them; the peak RSS
reported is the first instance's.`;
}

export function parseCommand(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, resultsDir: string, markdownFile: string): ParsedCommand {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      full: { type: 'boolean' }, quick: { type: 'boolean' }, tiny: { type: 'boolean' }, runs: { type: 'string' }, batches: { type: 'string' }, users: { type: 'string' },
      partitions: { type: 'string' }, seed: { type: 'string' }, skip: { type: 'string' }, 'latency-seconds': { type: 'string' }, 'latency-warmup-seconds': { type: 'string' },
      'latency-rate': { type: 'string' }, 'restore-profiles': { type: 'string' }, 'memory-users': { type: 'string' }, 'memory-batches': { type: 'string' }, 'api-seconds': { type: 'string' },
      'api-connections': { type: 'string' }, 'api-users': { type: 'string' }, 'cpu-prof': { type: 'boolean' }, client: { type: 'string' }, instances: { type: 'string' }, help: { type: 'boolean' },
    },
  });
  if (values.help) throw new Error(usage());
  const unknown = positionals.filter((p) => !(BENCHMARK_NAMES as readonly string[]).includes(p));
  if (unknown.length > 0) throw new Error(`unknown benchmark ${unknown.join(', ')}\n${usage()}`);
  const preset = values.tiny || env.BENCH_SIZE === 'tiny' ? 'tiny'
    : values.quick || env.BENCH_SIZE === 'quick' ? 'quick'
      : values.full || env.BENCH_SIZE === 'full' ? 'full' : 'standard';
  if (env.BENCH_SIZE !== undefined && env.BENCH_SIZE !== '' && !(env.BENCH_SIZE in PRESETS)) throw new Error(`BENCH_SIZE=${env.BENCH_SIZE}: expected full, standard, quick or tiny\n${usage()}`);
  const p = PRESETS[preset];
  const pick = (name: string, fallback: number) => num((values as Record<string, string | undefined>)[name], env[`BENCH_${name.toUpperCase().replaceAll('-', '_')}`], fallback);
  const sized = ['runs', 'batches', 'users', 'latency-seconds', 'latency-warmup-seconds', 'restore-profiles', 'memory-users', 'memory-batches', 'api-seconds', 'api-users']
    .some((n) => (values as Record<string, unknown>)[n] !== undefined || env[`BENCH_${n.toUpperCase().replaceAll('-', '_')}`] !== undefined);
  const options: BenchOptions = {
    size: sized ? 'custom' : preset,
    runs: Math.max(1, Math.round(pick('runs', p.runs))),
    batches: Math.round(pick('batches', p.batches)),
    users: Math.round(pick('users', p.users)),
    partitions: Math.round(pick('partitions', 8)),
    seed: Math.round(pick('seed', 8)),
    skip: new Set((values.skip ?? env.BENCH_SKIP ?? '').split(',').map((s) => s.trim()).filter(Boolean)),
    latencySeconds: pick('latency-seconds', p.latencySeconds),
    latencyWarmupSeconds: Math.max(0, pick('latency-warmup-seconds', p.latencyWarmupSeconds)),
    latencyRate: pick('latency-rate', 0),
    restoreProfiles: Math.round(pick('restore-profiles', p.restoreProfiles)),
    memoryUsers: Math.max(1, Math.round(pick('memory-users', p.memoryUsers))),
    memoryBatches: Math.round(pick('memory-batches', p.memoryBatches)),
    apiSeconds: pick('api-seconds', p.apiSeconds),
    apiConnections: Math.round(pick('api-connections', 64)),
    apiUsers: Math.round(pick('api-users', p.apiUsers)),
    resultsDir,
    markdownFile,
    cpuProf: values['cpu-prof'] === true || env.BENCH_CPU_PROF === '1',
    clients: parseClients(values.client ?? env.BENCH_CLIENT ?? env.KAFKA_CLIENT),
    instances: Math.max(1, Math.round(pick('instances', 1))),
  };
  return { names: positionals.length > 0 ? (positionals as BenchmarkName[]) : [...BENCHMARK_NAMES], options };
}

function parseClients(raw: string | undefined): KafkaClientName[] {
  const names = [...new Set((raw ?? '').split(',').map((c) => c.trim()).filter(Boolean))];
  if (names.length === 0) return [DEFAULT_KAFKA_CLIENT];
  const bad = names.filter((c) => !(KAFKA_CLIENTS as readonly string[]).includes(c));
  if (bad.length > 0) throw new Error(`--client ${bad.join(',')}: expected ${KAFKA_CLIENTS.join(' and/or ')}\n${usage()}`);
  return names as KafkaClientName[];
}
