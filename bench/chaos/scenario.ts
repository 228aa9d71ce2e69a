import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { KafkaClientName } from '../../src/streams/index.ts';
import { createServiceTopics, type Guarantee } from '../lib/service-under-test.ts';
import { benchDeployment } from '../lib/deployment.ts';
import { BenchAdmin, sleep } from '../lib/kafka.ts';
import type { MachineInfo } from '../lib/machine.ts';
import { log } from '../lib/progress.ts';
import { ApiProber, CHAOS_API_KEY, getProfile, type ApiCounts } from './api-prober.ts';
import { deadLettersByCode } from './dead-letters.ts';
import { ChaosInstance, type UnexpectedExit } from './instance.ts';
import { ChaosLoad } from './load.ts';
import { OutputAudit, type TopicAudit } from './output-audit.ts';
import { freePort, PrivateNode } from './private-stack.ts';
import { ReadinessSampler, type SampledAnswer } from './readiness-sampler.ts';
import { judgeBody, mpidOf } from './reference.ts';

export const SCENARIOS = ['kill', 'broker', 'registry', 'storm'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface ScenarioSpec {
  readonly scenario: ScenarioName;
  readonly client: KafkaClientName;
  readonly guarantee: Guarantee;
  /** Instances up all the time (the storm adds two that come and go). */
  readonly instances: number;
  readonly partitions: number;
  readonly users: number;
  /** Batches per second the load producer sends. */
  readonly rate: number;
  /** kill: kills; storm: joins and leaves. */
  readonly faults: number;
  /** broker, registry: how long each outage lasts. */
  readonly outageSeconds: readonly number[];
  /** storm: seconds between one join or leave and the next. */
  readonly stormIntervalSeconds: number;
  /** Load before the first fault and after the last one resumed. */
  readonly steadySeconds: number;
  readonly seed: number;
}

/** One fault: when (seconds since the scenario started), how long, and how long the service took to resume. */
export interface FaultRecord {
  readonly kind: string;
  detail: string;
  readonly at_s: number;
  readonly duration_ms: number;
  /** From the fault's end until every partition had an output processed again (undefined: not within the deadline). */
  resume_ms: number | undefined;
  /** From the fault's end until a Profile API request sent then got a right 200 for a user of every partition. */
  api_resume_ms: number | undefined;
}

export interface ScenarioTarget {
  readonly label: string;
  readonly wanted: string;
  readonly measured: string;
  readonly met: boolean;
}

export interface ChaosResult {
  /** Results file name (without .json). */
  readonly benchmark: string;
  readonly kind: 'chaos';
  readonly scenario: ScenarioName;
  readonly client: KafkaClientName;
  readonly guarantee: Guarantee;
  readonly started_at: string;
  readonly duration_s: number;
  readonly machine: MachineInfo;
  readonly parameters: ScenarioSpec;
  readonly batches: number;
  readonly send_failures: number;
  readonly faults_injected: number;
  readonly faults: FaultRecord[];
  readonly lost: number;
  readonly duplicated: number;
  readonly topics: Record<string, TopicAudit & { lostExamples: string[]; duplicatedExamples: string[] }>;
  readonly stale_enrichment: number;
  readonly stale_examples: string[];
  readonly dead_letters: Record<string, number>;
  readonly profiles_checked: number;
  readonly profiles_wrong: number;
  readonly profile_examples: string[];
  readonly api: ApiCounts;
  readonly exits: UnexpectedExit[];
  readonly operator_view: SampledAnswer[];
  readonly targets: ScenarioTarget[];
  readonly passed: boolean;
  readonly repro: string;
  readonly notes: string[];
  /** Set when the scenario could not finish (the error), beside whatever was measured. */
  readonly error?: string;
}

export interface ChaosEnvironment {
  /** The shared stack (never stopped). */
  readonly brokers: string[];
  readonly registryUrl: string;
  readonly runId: string;
  /** State directories, private stack data and logs of this invocation. */
  readonly tmpRoot: string;
  readonly machine: MachineInfo;
}

const RESUME_DEADLINE_MS = 120_000;
const API_RESUME_DEADLINE_MS = 60_000;
/** Topics and groups of a scenario start with this; cleanup removes only those. */
const applicationIdOf = (env: ChaosEnvironment, spec: ScenarioSpec): string => `${env.runId}-${spec.scenario}-${spec.client === 'platformatic' ? 'pk' : 'kj'}-${spec.guarantee === 'exactly_once' ? 'eos' : 'alos'}`;

export function resultName(spec: Pick<ScenarioSpec, 'scenario' | 'client' | 'guarantee'>): string {
  return `chaos-${spec.scenario}-${spec.client}-${spec.guarantee === 'exactly_once' ? 'eos' : 'alos'}`;
}

/** What a fault script gets: the running scenario's parts, and the resume measurement. */
export interface FaultContext {
  readonly spec: ScenarioSpec;
  /** Always-up instances first; the storm's two extras after them. */
  readonly instances: ChaosInstance[];
  readonly broker: PrivateNode | undefined;
  readonly registry: PrivateNode | undefined;
  readonly audit: OutputAudit;
  readonly prober: ApiProber;
  readonly t0: number;
  /** Waits until outputs flow and the API answers again after `endedAt`, and records the fault. */
  measure(kind: string, detail: string, startedAt: number, endedAt: number): Promise<FaultRecord>;
  /** The waiting part of `measure`: resume figures after `endedAt`, undefined where the deadline passed. */
  waitResumed(endedAt: number): Promise<{ resume: number | undefined; api: number | undefined }>;
  /** Records a fault without waiting; the script fills in its resume figures later (the storm does). */
  record(kind: string, detail: string, startedAt: number, endedAt: number): FaultRecord;
}

export type FaultScript = (ctx: FaultContext) => Promise<void>;

/**
 * Runs one scenario: topics of its own, instances as child processes, a load producer, an output audit
 * and an API prober all through the faults the script injects; then drains, checks every profile, and
 * returns the result (with `error` set when it could not finish, so what was measured is still kept).
 */
export async function runScenario(env: ChaosEnvironment, spec: ScenarioSpec, script: FaultScript): Promise<ChaosResult> {
  const started = Date.now();
  const appId = applicationIdOf(env, spec);
  const root = join(env.tmpRoot, appId);
  mkdirSync(root, { recursive: true });
  const cleanups: Array<() => Promise<unknown>> = [];
  const notes: string[] = [];
  const exits: UnexpectedExit[] = [];
  let error: string | undefined;
  let broker: PrivateNode | undefined;
  let registry: PrivateNode | undefined;
  let brokers = env.brokers;
  let registryUrl = env.registryUrl;
  const runTag = `${appId}-${spec.seed}`;
  const mpidBase = 7_000_000_000_000n + BigInt(spec.seed) * 1_000_000_000n;

  try {
    // Private parts for the faults that stop them; the shared stack stays untouched.
    if (spec.scenario === 'broker') {
      broker = await PrivateNode.create('kafka', root);
      log(`${appId}: starting a private broker on ${broker.brokers}`);
      await broker.start();
      cleanups.push(() => broker!.stop());
      brokers = [broker.brokers];
    }
    if (spec.scenario === 'registry') {
      registry = await PrivateNode.create('registry', root);
      log(`${appId}: starting a private schema registry at ${registry.registryUrl}`);
      await registry.start();
      cleanups.push(() => registry!.stop());
      registryUrl = registry.registryUrl;
    }
  } catch (e) {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    throw e;
  }

  const rawTopic = `${appId}.raw.web`;
  const deployment = benchDeployment({ applicationId: appId, partitions: spec.partitions, rawTopic });
  const outputTopics = deployment.integrations.map((i) => i.outputTopic);
  const admin = new BenchAdmin(brokers);
  const load = new ChaosLoad({ brokers, registryUrl, rawTopic, partitions: spec.partitions, users: spec.users, ratePerSecond: spec.rate, runTag, mpidBase });
  const audit = new OutputAudit({ brokers, registryUrl, topics: outputTopics, groupId: `${appId}-audit`, runTag });
  const extras = spec.scenario === 'storm' ? 2 : 0;
  const instances: ChaosInstance[] = [];
  for (let i = 0; i < spec.instances + extras; i++) {
    const stateDir = join(root, `state-${i}`);
    mkdirSync(stateDir, { recursive: true });
    instances.push(new ChaosInstance(`${appId}-i${i}`, {
      applicationId: appId, partitions: spec.partitions, rawTopic, brokers, registryUrl, stateDir, guarantee: spec.guarantee,
      // The runtime's defaults (what users get): outputs are visible only after an exactly-once commit.
      commitIntervalMs: spec.guarantee === 'exactly_once' ? 200 : 1000,
      kafkaClient: spec.client, apiPort: await freePort(), apiKey: CHAOS_API_KEY,
    }, exits));
  }
  const livePorts = (): number[] => instances.filter((i) => i.answering).map((i) => i.port);
  const prober = new ApiProber({ livePorts, sentUpTo: (u) => load.attempted[u]!, users: spec.users, partitionOfUser: load.partitionOfUser }, { runTag, mpidBase, pauseMs: 40 });
  const t0 = Date.now();
  const sampler = new ReadinessSampler(livePorts, t0);
  const faults: FaultRecord[] = [];
  const record = (kind: string, detail: string, startedAt: number, endedAt: number, resume?: number, api?: number): FaultRecord => {
    const r = { kind, detail, at_s: Math.round((startedAt - t0) / 100) / 10, duration_ms: endedAt - startedAt, resume_ms: resume, api_resume_ms: api };
    faults.push(r);
    return r;
  };
  const ctx: FaultContext = {
    spec, instances, broker, registry, audit, prober, t0,
    record: (kind, detail, startedAt, endedAt) => record(kind, detail, startedAt, endedAt),
    waitResumed: async (endedAt) => {
      const resume = await audit.waitForFlow(endedAt, spec.partitions, RESUME_DEADLINE_MS);
      let api = prober.answeredAfter(endedAt, spec.partitions);
      for (const deadline = Date.now() + API_RESUME_DEADLINE_MS; api === undefined && Date.now() < deadline; api = prober.answeredAfter(endedAt, spec.partitions)) await sleep(200);
      return { resume, api };
    },
    measure: async (kind, detail, startedAt, endedAt) => {
      const { resume, api } = await ctx.waitResumed(endedAt);
      const r = record(kind, detail, startedAt, endedAt, resume, api);
      log(`${appId}: ${kind} ${detail}: ${r.duration_ms} ms; outputs flow again after ${resume ?? 'NOT within the deadline'} ms, API 200 after ${api ?? 'NOT within the deadline'} ms`);
      return r;
    },
  };

  let profilesChecked = 0;
  let profilesWrong = 0;
  const profileExamples: string[] = [];
  let deadLetters: Record<string, number> = {};
  try {
    await admin.connect();
    cleanups.push(async () => {
      await admin.deleteByPrefix(appId);
      await admin.deleteGroups([appId, `${appId}-audit`, `${appId}-dlq-count`]);
      await admin.disconnect();
    });
    await admin.create([{ topic: rawTopic, partitions: spec.partitions, config: { 'retention.ms': '-1' } }]);
    await createServiceTopics(admin, appId, rawTopic, spec.partitions);
    log(`${appId}: starting ${spec.instances} instance(s) (${spec.client}, ${spec.guarantee})`);
    await Promise.all(instances.slice(0, spec.instances).map((i) => i.start()));
    cleanups.push(() => Promise.all(instances.map((i) => i.stop())));
    await audit.start();
    cleanups.push(() => audit.stop());
    const loadStarted = Date.now();
    await load.start();
    prober.start();
    sampler.start();
    const firstFlow = await audit.waitForFlow(loadStarted, spec.partitions, RESUME_DEADLINE_MS);
    if (firstFlow === undefined) throw new Error(`no output on every partition within ${RESUME_DEADLINE_MS / 1000} s of the load starting`);
    await sleep(spec.steadySeconds * 1000);

    await script(ctx);

    await sleep(spec.steadySeconds * 1000);
    await load.stop();
    log(`${appId}: ${load.sent} batches sent; draining`);
    // A transaction a fault left open holds read-committed readers back until the coordinator aborts it
    // (transaction timeout + the broker's cleanup interval, ~40 s): the drain waits longer than that.
    const drainDeadline = Date.now() + 120_000;
    while (!audit.complete(load.acked) && Date.now() < drainDeadline) await sleep(250);
    await sleep(3000); // anything arriving now is a duplicate
    await prober.stop();
    await sampler.stop();

    // Every user's profile from the API, equal to the oracle's after all of that user's batches.
    for (let user = 0; user < spec.users; user++) {
      const k = load.attempted[user]!;
      if (k === 0) continue;
      profilesChecked++;
      let why = 'no answer';
      for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
        const ports = livePorts();
        const port = ports[user % Math.max(1, ports.length)];
        const answer = port === undefined ? undefined : await getProfile(port, mpidOf(mpidBase, user)).catch(() => undefined);
        if (answer?.status === 200) {
          const v = judgeBody(answer.body, runTag, mpidBase, user, k);
          why = v.right ? (v.k === k ? '' : `shows batch ${v.k} of ${k}`) : v.why;
          if (why === '') break;
        } else if (answer) {
          why = `${answer.status} ${answer.text.slice(0, 200)}`;
        }
        await sleep(500);
      }
      if (why !== '') {
        profilesWrong++;
        if (profileExamples.length < 10) profileExamples.push(`user ${user} (mpid ${mpidOf(mpidBase, user)}, partition ${load.partitionOfUser[user]}): ${why}`);
      }
    }
    deadLetters = await deadLettersByCode(brokers, deployment.app.deadLetterTopic, `${appId}-dlq-count`);
  } catch (e) {
    error = (e as Error).stack ?? String(e);
    log(`${appId}: the scenario failed: ${(e as Error).message}`);
    await load.stop().catch(() => undefined);
    await prober.stop();
    await sampler.stop();
  } finally {
    for (const c of cleanups.reverse()) await c().catch((e: unknown) => log(`${appId}: cleanup: ${(e as Error).message}`));
    rmSync(root, { recursive: true, force: true });
  }

  const topics = audit.audit(load.acked);
  const lost = Object.values(topics).reduce((s, t) => s + t.lost, 0);
  const duplicated = Object.values(topics).reduce((s, t) => s + t.duplicated, 0);
  const deadLettered = Object.values(deadLetters).reduce((s, n) => s + n, 0);
  const eos = spec.guarantee === 'exactly_once';
  const otherStatuses = Object.values(prober.counts.other_status).reduce((s, n) => s + n, 0);
  const targets: ScenarioTarget[] = [
    { label: 'no unexpected exit', wanted: '0', measured: String(exits.length), met: exits.length === 0 },
    { label: 'lost', wanted: '0', measured: String(lost), met: lost === 0 },
    ...(eos ? [{ label: 'duplicated (exactly-once)', wanted: '0', measured: String(duplicated), met: duplicated === 0 }] : []),
    ...(eos ? [{ label: 'outputs enriched with their own batch\'s state (exactly-once)', wanted: '0 stale', measured: String(audit.staleEnrichment), met: audit.staleEnrichment === 0 }] : []),
    { label: 'dead-lettered good batches', wanted: '0', measured: String(deadLettered), met: deadLettered === 0 },
    { label: 'profiles equal to the reference', wanted: `${profilesChecked}`, measured: `${profilesChecked - profilesWrong}`, met: profilesWrong === 0 && profilesChecked > 0 },
    { label: 'API answers other than 200-right, 404, 503', wanted: '0', measured: String(prober.counts.wrong_body + otherStatuses), met: prober.counts.wrong_body + otherStatuses === 0 },
    { label: 'every fault resumed (outputs flow on every partition)', wanted: `within ${RESUME_DEADLINE_MS / 1000} s`, measured: `${faults.filter((f) => f.resume_ms !== undefined).length} of ${faults.length}`, met: faults.every((f) => f.resume_ms !== undefined) },
  ];
  if (spec.scenario === 'kill' || spec.scenario === 'broker') {
    const worst = Math.max(0, ...faults.map((f) => f.resume_ms ?? Infinity));
    const what = spec.scenario === 'kill' ? 'processing resumes after kill -9 + immediate restart' : 'processing resumes after the broker is back';
    targets.push({ label: `${what} (issue 14)`, wanted: '<= 5000 ms', measured: Number.isFinite(worst) ? `${worst} ms (worst)` : 'not resumed', met: worst <= 5000 });
  }
  if (error) targets.push({ label: 'the scenario ran to its end', wanted: 'yes', measured: 'no (see error)', met: false });
  const flags = `${spec.scenario} --client ${spec.client} --guarantee ${spec.guarantee} --seed ${spec.seed}`;
  return {
    benchmark: resultName(spec),
    kind: 'chaos',
    scenario: spec.scenario,
    client: spec.client,
    guarantee: spec.guarantee,
    started_at: new Date(started).toISOString(),
    duration_s: Math.round((Date.now() - started) / 1000),
    machine: env.machine,
    parameters: spec,
    batches: load.sent,
    send_failures: load.sendFailures,
    faults_injected: faults.length,
    faults,
    lost,
    duplicated,
    topics,
    stale_enrichment: audit.staleEnrichment,
    stale_examples: audit.staleExamples,
    dead_letters: deadLetters,
    profiles_checked: profilesChecked,
    profiles_wrong: profilesWrong,
    profile_examples: profileExamples,
    api: prober.counts,
    exits,
    operator_view: sampler.answers(),
    targets,
    passed: targets.every((t) => t.met),
    repro: `npm run chaos -- ${flags}`,
    notes,
    ...(error ? { error } : {}),
  };
}
