import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { KafkaClientName } from '../../src/streams/index.ts';
import { createServiceTopics, type Guarantee } from '../lib/service-under-test.ts';
import { benchDeployment } from '../lib/deployment.ts';
import { BenchAdmin, sleep } from '../lib/kafka.ts';
import type { MachineInfo } from '../lib/machine.ts';
import { log } from '../lib/progress.ts';
import { locateLoss } from './loss-diagnosis.ts';
import { hashSecret } from '../../src/api/api-keys.ts';
import { logWarnings, servicePauses } from './service-log.ts';
import { deleteSubjectsByPrefix } from '../lib/subjects.ts';
import { ApiProber, CHAOS_API_KEY, getProfile, type ApiCounts, type ApiTally } from './api-prober.ts';
import { scenarioTargets } from './checks.ts';
import { deadLettersByCode } from './dead-letters.ts';
import { auditInput, type InputAudit } from './input-audit.ts';
import { ChaosInstance, type UnexpectedExit } from './instance.ts';
import { LagWatcher } from './lag-watcher.ts';
import { ChaosLoad, type SentBatch } from './load.ts';
import { LoadAverageSampler, type LoadAverageSummary } from './load-average.ts';
import { OutputAudit, readOutputsBack, type TopicAudit } from './output-audit.ts';
import { freePort, PrivateCluster, PrivateNode } from './private-stack.ts';
import { ReadinessSampler, type SampledAnswer } from './readiness-sampler.ts';
import { batchId, judgeBody, mpidOf, type HeldBatches } from './reference.ts';
import type { FaultRecord, ScaleStep, ScenarioName, ScenarioSpec, ScenarioTarget } from './scenario-spec.ts';

export { SCENARIOS, type ScenarioName, type ScenarioSpec, type FaultRecord, type ScenarioTarget } from './scenario-spec.ts';

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
  /**
   * Answers to the requests sent from the first fault until the load stopped: `right` is a right 200 for a
   * user of the run, or 404 for an MPID no batch names; every 503 counts against it.
   */
  readonly api_availability?: ApiTally & { readonly right_ratio: number };
  /** elastic: each scaling step. */
  readonly steps?: ScaleStep[];
  /** The input topic read back after the run, against the load producer's acknowledgements. */
  readonly input?: InputAudit;
  /** The machine's 1-minute load average sampled through the scenario. */
  readonly load_average_during?: LoadAverageSummary;
  readonly exits: UnexpectedExit[];
  readonly operator_view: SampledAnswer[];
  readonly targets: ScenarioTarget[];
  readonly passed: boolean;
  readonly repro: string;
  readonly notes: string[];
  /** Each time an instance paused processing by itself (outage recovery), with the reason it logged. */
  readonly service_pauses: string[];
  /** Where outputs went missing, when some did: written or not, held back by an open transaction, or not read by the audit. */
  readonly loss_places?: string[];
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

/** The results file's name; a run with other standbys than the scenario's default (elastic 1, else 0) gets its own. */
export function resultName(spec: Pick<ScenarioSpec, 'scenario' | 'client' | 'guarantee' | 'standbyReplicas'>): string {
  const standbys = spec.standbyReplicas ?? 0;
  const suffix = standbys === (spec.scenario === 'elastic' ? 1 : 0) ? '' : `-standby${standbys}`;
  return `chaos-${spec.scenario}-${spec.client}-${spec.guarantee === 'exactly_once' ? 'eos' : 'alos'}${suffix}`;
}

/** What a fault script gets: the running scenario's parts, and the resume measurement. */
export interface FaultContext {
  readonly spec: ScenarioSpec;
  /** Always-up instances first; the storm's two extras after them. */
  readonly instances: ChaosInstance[];
  readonly broker: PrivateNode | undefined;
  readonly registry: PrivateNode | undefined;
  /** brokers3: the private three-broker cluster. */
  readonly cluster: PrivateCluster | undefined;
  /** elastic: the group's lag on the input, sampled from the broker. */
  readonly lag: LagWatcher | undefined;
  /** elastic: the steps the script took, filled in as it goes. */
  readonly steps: ScaleStep[];
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
  let cluster: PrivateCluster | undefined;
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
    if (spec.scenario === 'brokers3') {
      cluster = await PrivateCluster.create(root, 3);
      log(`${appId}: starting a private three-broker cluster on ${cluster.brokers.join(',')}`);
      cleanups.push(() => cluster!.stop());
      await cluster.start();
      brokers = cluster.brokers;
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
  const extras = spec.scenario === 'storm' ? 2 : spec.scenario === 'elastic' ? Math.max(spec.instances, ...(spec.steps ?? [])) - spec.instances : 0;
  const lag = spec.scenario === 'elastic' ? new LagWatcher({ brokers, groupId: appId, topic: rawTopic, everyMs: 250 }) : undefined;
  const loadAverage = new LoadAverageSampler();
  const instances: ChaosInstance[] = [];
  // Hashed once here: every instance (and each restart) is given the hash, as api-keys.yaml gives it.
  const chaosKeyHash = hashSecret(CHAOS_API_KEY.secret);
  for (let i = 0; i < spec.instances + extras; i++) {
    const stateDir = join(root, `state-${i}`);
    mkdirSync(stateDir, { recursive: true });
    instances.push(new ChaosInstance(`${appId}-i${i}`, {
      applicationId: appId, partitions: spec.partitions, rawTopic, brokers, registryUrl, stateDir, guarantee: spec.guarantee,
      // The runtime's defaults (what users get): outputs are visible only after an exactly-once commit.
      commitIntervalMs: spec.guarantee === 'exactly_once' ? 200 : 1000,
      kafkaClient: spec.client, apiPort: await freePort(), apiKey: { ...CHAOS_API_KEY, secretHash: chaosKeyHash },
      ...(spec.standbyReplicas ? { standbyReplicas: spec.standbyReplicas } : {}),
      // The elastic scenario reads from these reports when the group has settled after each step.
      ...(spec.scenario === 'elastic' ? { reportTasksMs: 100 } : {}),
    }, exits));
  }
  // Elastic: the API is asked through the instances a load balancer would route to (admitted once ready,
  // drained before a clean stop); elsewhere through every instance whose HTTP API listens.
  const livePorts = spec.scenario === 'elastic'
    ? (): number[] => instances.filter((i) => i.inRotation).map((i) => i.port)
    : (): number[] => instances.filter((i) => i.answering).map((i) => i.port);
  const prober = new ApiProber({ livePorts, sentUpTo: (u) => load.attempted[u]!, users: spec.users, partitionOfUser: load.partitionOfUser }, { runTag, mpidBase, pauseMs: 40 });
  const t0 = Date.now();
  const sampler = new ReadinessSampler(livePorts, t0);
  const faults: FaultRecord[] = [];
  const faultEnds = new Map<FaultRecord, number>();
  const record = (kind: string, detail: string, startedAt: number, endedAt: number, resume?: number, api?: number): FaultRecord => {
    const r = { kind, detail, at_s: Math.round((startedAt - t0) / 100) / 10, duration_ms: endedAt - startedAt, resume_ms: resume, api_resume_ms: api };
    faults.push(r);
    faultEnds.set(r, endedAt);
    return r;
  };
  const steps: ScaleStep[] = [];
  const ctx: FaultContext = {
    spec, instances, broker, registry, cluster, lag, steps, audit, prober, t0,
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
      r.input_resume_ms = load.ackedAfter(endedAt);
      log(`${appId}: ${kind} ${detail}: ${r.duration_ms} ms; outputs flow again after ${resume ?? 'NOT within the deadline'} ms, API 200 after ${api ?? 'NOT within the deadline'} ms (the load producer's first acknowledged send after ${r.input_resume_ms ?? '-'} ms)`);
      return r;
    },
  };

  let profilesChecked = 0;
  let profilesWrong = 0;
  const profileExamples: string[] = [];
  let deadLetters: Record<string, number> = {};
  let lossPlaces: string[] = [];
  /** The outputs the verdict is taken from: the read-back after the run once it happened, else the live audit. */
  let outputs: OutputAudit = audit;
  let input: InputAudit | undefined;
  // Until the input is read back: every acknowledged batch, each user's batches all there.
  let expected: ReadonlyMap<string, SentBatch> = load.acked;
  let held: HeldBatches;
  let scriptStarted: number | undefined;
  let loadStopped: number | undefined;
  loadAverage.start();
  try {
    await admin.connect();
    cleanups.push(async () => {
      await admin.deleteByPrefix(appId);
      await deleteSubjectsByPrefix(env.registryUrl, appId).catch(() => undefined);
      await admin.deleteGroups([appId, `${appId}-audit`, `${appId}-output-readback`, `${appId}-dlq-count`, `${appId}-input-audit`]);
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
    if (lag) {
      await lag.start();
      cleanups.push(() => lag.stop());
      // Every user's profile exists before the first step, so from then on every request for one should get 200.
      await waitEveryUserOutput(load.acked, load.attempted, audit, spec.users);
    }
    await sleep(spec.steadySeconds * 1000);

    scriptStarted = Date.now();
    await script(ctx);

    await sleep(spec.steadySeconds * 1000);
    loadStopped = Date.now();
    await load.stop();
    // What the service must have processed is what the input holds, read back (not the producer's acknowledgements).
    const readBack = await auditInput({ brokers, registryUrl, topic: rawTopic, groupId: `${appId}-input-audit`, acked: load.acked });
    input = readBack.audit;
    expected = new Map([...readBack.held].map((id) => [id, load.handed.get(id)!] as const).filter(([, b]) => b !== undefined));
    held = (user, k) => readBack.held.has(batchId(runTag, user, k));
    log(`${appId}: ${load.sent} batches acknowledged, ${expected.size} on the input topic; draining`);
    // A transaction a fault left open holds read-committed readers back until the coordinator aborts it
    // (transaction timeout + the broker's cleanup interval, ~40 s): the drain waits longer than that.
    const drainDeadline = Date.now() + 120_000;
    while (!audit.complete(expected) && Date.now() < drainDeadline) await sleep(250);
    await sleep(3000); // anything arriving now is a duplicate
    outputs = await readOutputsBack({ brokers, registryUrl, topics: outputTopics, groupId: `${appId}-output-readback`, runTag }, expected);
    const liveLost = Object.values(audit.audit(expected)).reduce((s, t) => s + t.lost, 0);
    const finalLost = Object.values(outputs.audit(expected)).reduce((s, t) => s + t.lost, 0);
    if (liveLost !== finalLost) notes.push(`the live output audit missed ${liveLost - finalLost} outputs that reading the topics back after the run found (its consumer fell behind or stopped)`);
    for (const f of faults) {
      const endedAt = faultEnds.get(f);
      if (endedAt !== undefined) f.input_resume_ms ??= load.ackedAfter(endedAt);
      if (f.resume_ms !== undefined || endedAt === undefined) continue;
      const resume = outputs.flowedAfter(endedAt, spec.partitions);
      if (resume === undefined || resume > RESUME_DEADLINE_MS) continue;
      f.resume_ms = resume;
      notes.push(`${f.kind} ${f.detail}: the resume (${resume} ms) is from the outputs read back after the run; the live audit did not see it`);
    }
    await prober.stop();
    await sampler.stop();
    prober.rejudge(held);

    // Every user's profile from the API, equal to the oracle's after all of that user's batches the input holds.
    for (let user = 0; user < spec.users; user++) {
      let k = load.attempted[user]!;
      while (k > 0 && held && !held(user, k)) k--;
      if (k === 0) continue;
      profilesChecked++;
      let why = 'no answer';
      for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
        const ports = livePorts();
        const port = ports[user % Math.max(1, ports.length)];
        const answer = port === undefined ? undefined : await getProfile(port, mpidOf(mpidBase, user)).catch(() => undefined);
        if (answer?.status === 200) {
          const v = judgeBody(answer.body, runTag, mpidBase, user, k, held);
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
    const lostAt = outputs.lostPlaces(expected);
    if (lostAt.length > 0) lossPlaces = [...(await locateLoss(brokers, lostAt, { id: appId, inputTopic: rawTopic })), ...logWarnings(instances.flatMap((i) => i.logFiles)).map((w) => `service log: ${w}`)];
  } catch (e) {
    error = (e as Error).stack ?? String(e);
    log(`${appId}: the scenario failed: ${(e as Error).message}`);
    await load.stop().catch(() => undefined);
    await prober.stop();
    await sampler.stop();
  } finally {
    for (const c of cleanups.reverse()) await c().catch((e: unknown) => log(`${appId}: cleanup: ${(e as Error).message}`));
    rmSync(root, { recursive: true, force: true });
    loadAverage.stop();
  }

  const topics = outputs.audit(expected);
  const lost = Object.values(topics).reduce((s, t) => s + t.lost, 0);
  const duplicated = Object.values(topics).reduce((s, t) => s + t.duplicated, 0);
  const tally = scriptStarted === undefined ? undefined : prober.tally(scriptStarted, loadStopped ?? Date.now());
  const availability = tally && { ...tally, right_ratio: tally.requests === 0 ? 0 : tally.right / tally.requests };
  const targets = scenarioTargets({ spec, exits, lost, duplicated, staleEnrichment: outputs.staleEnrichment, deadLetters, profilesChecked, profilesWrong, api: prober.counts, faults, steps, availability, error, resumeDeadlineMs: RESUME_DEADLINE_MS });
  const standbyFlag = resultName(spec).includes('-standby') ? ` --standby ${spec.standbyReplicas ?? 0}` : '';
  const flags = `${spec.scenario} --client ${spec.client} --guarantee ${spec.guarantee} --seed ${spec.seed}${standbyFlag}`;
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
    stale_enrichment: outputs.staleEnrichment,
    stale_examples: outputs.staleExamples,
    dead_letters: deadLetters,
    profiles_checked: profilesChecked,
    profiles_wrong: profilesWrong,
    profile_examples: profileExamples,
    api: prober.counts,
    ...(availability ? { api_availability: availability } : {}),
    ...(spec.scenario === 'elastic' ? { steps } : {}),
    ...(input ? { input } : {}),
    load_average_during: loadAverage.summary(),
    exits,
    operator_view: sampler.answers(),
    targets,
    passed: targets.every((t) => t.met),
    repro: `npm run chaos -- ${flags}`,
    notes,
    service_pauses: servicePauses(instances.flatMap((i) => i.logFiles)),
    ...(lossPlaces.length > 0 ? { loss_places: lossPlaces } : {}),
    ...(error ? { error } : {}),
  };
}


/** Waits until the audit saw an output of every user (each user's first batch acknowledged and processed). */
async function waitEveryUserOutput(acked: ReadonlyMap<string, SentBatch>, attempted: readonly number[], audit: OutputAudit, users: number): Promise<void> {
  const deadline = Date.now() + RESUME_DEADLINE_MS;
  for (;;) {
    const firsts = new Map([...acked].filter(([, b]) => b.k === 1));
    if (firsts.size === users && attempted.every((k) => k > 0) && audit.complete(firsts)) return;
    if (Date.now() > deadline) throw new Error(`not every user had an output within ${RESUME_DEADLINE_MS / 1000} s`);
    await sleep(250);
  }
}
