import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { planTopics } from '../../src/app/topology/topic-plan.ts';
import type { KafkaClientName } from '../../src/streams/index.ts';
import type { WorkerConfig } from '../workers/service-worker.ts';
import { BenchChild, REPO_ROOT } from './child.ts';
import type { BenchContext } from './context.ts';
import { benchDeployment } from './deployment.ts';
import type { BenchAdmin } from './kafka.ts';
import { BENCH_TMP } from './workload.ts';

/** The service under test as every benchmark runs it: its worker's configuration, its process and its topics. */
export type Guarantee = 'at_least_once' | 'exactly_once';

/** Same commit interval for profile-stream and the peer: Kafka Streams' EOS default (100 ms), 1 s at-least-once. */
export const COMMIT_INTERVAL_MS: Record<Guarantee, number> = { at_least_once: 1000, exactly_once: 100 };

export function serviceChild(ctx: BenchContext, config: WorkerConfig, label: string): BenchChild {
  // One directory per worker: V8 writes a profile per thread (tsx's loader thread too); the largest is the main thread.
  const profile = ctx.options.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${join(BENCH_TMP, 'profiles', label.replace(/[^a-z0-9-]+/gi, '-'))}`] : [];
  const { env, nodeFlags } = startScriptSettings();
  return BenchChild.node(label, join(REPO_ROOT, 'bench/workers/service-worker.ts'), [JSON.stringify(config)], [...nodeFlags, ...profile], env);
}

/**
 * The environment and node flags `npm start` runs the service with (package.json's start script: glibc's malloc
 * settings and V8's young generation size, see bench/ANALYSIS.md "Memory at 200,000 users"), so every benchmarked
 * worker runs as users run the service. Read from the script itself, so the two cannot drift apart.
 */
export function startScriptSettings(): { env: Record<string, string>; nodeFlags: string[] } {
  const script = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  const words = script.split('&&').at(-1)!.trim().split(/\s+/);
  let i = words[0] === 'env' ? 1 : 0;
  const env: Record<string, string> = {};
  for (; /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i] ?? ''); i++) {
    const at = words[i]!.indexOf('=');
    env[words[i]!.slice(0, at)] = words[i]!.slice(at + 1);
  }
  if (words[i] !== 'node') throw new Error(`package.json's start script runs "${words[i]}", not node: the benchmark cannot run the service as it does`);
  const nodeFlags: string[] = [];
  for (i++; words[i]?.startsWith('--'); i++) nodeFlags.push(words[i]!);
  return { env, nodeFlags };
}

/** A worker on `client` (default: the first of `--client`, which every benchmark but pipeline uses alone). */
export function workerConfig(ctx: BenchContext, applicationId: string, rawTopic: string, guarantee: Guarantee, client: KafkaClientName = ctx.options.clients[0]!): WorkerConfig {
  const stateDir = join(BENCH_TMP, 'state', applicationId);
  mkdirSync(stateDir, { recursive: true });
  return { applicationId, partitions: ctx.options.partitions, rawTopic, brokers: ctx.brokers, registryUrl: ctx.registryUrl, stateDir, guarantee, commitIntervalMs: COMMIT_INTERVAL_MS[guarantee], kafkaClient: client };
}

/** Output topics are created by the harness (as `profile-stream topics` would) with no time-based deletion. */
export async function createServiceTopics(admin: BenchAdmin, applicationId: string, rawTopic: string, partitions: number): Promise<string[]> {
  const deployment = benchDeployment({ applicationId, partitions, rawTopic });
  const planned = planTopics(deployment).filter((t) => t.topic !== rawTopic);
  await admin.create(planned.map((t) => ({ topic: t.topic, partitions: t.partitions, config: { ...t.config, 'retention.ms': '-1' } })));
  return deployment.integrations.map((i) => i.outputTopic);
}
