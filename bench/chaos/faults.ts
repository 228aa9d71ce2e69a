import { Admin, FindCoordinatorKeyTypes } from '@platformatic/kafka';
import { sleep } from '../lib/kafka.ts';
import { log } from '../lib/progress.ts';
import { elastic } from './elastic.ts';
import type { FaultRecord, FaultScript, ScenarioName } from './scenario.ts';

const PAUSE_BETWEEN_FAULTS_MS = 3000;

/** kill -9 one instance after another, each started again at once on its own state directory. */
const kill: FaultScript = async (ctx) => {
  for (let i = 0; i < ctx.spec.faults; i++) {
    const target = ctx.instances[i % ctx.spec.instances]!;
    const startedAt = Date.now();
    target.kill();
    await target.exited();
    await target.start(false);
    const restartedAt = Date.now();
    const running = target.runningAt().catch(() => undefined);
    const loaded = target.loadedAt().catch(() => undefined);
    const r = await ctx.measure('kill -9', `${target.name}, started again at once`, startedAt, restartedAt);
    // Where the time went: the new process loading and starting, then the group handing its tasks back.
    const at = await running;
    const modules = await loaded;
    if (at !== undefined) r.detail += ` (${modules !== undefined ? `modules loaded ${modules - restartedAt} ms, ` : ''}its runtime RUNNING ${at - restartedAt} ms after the restart)`;
    await sleep(PAUSE_BETWEEN_FAULTS_MS);
  }
};

/** The private broker stopped (SIGTERM: controlled shutdown) for each outage length, then started again. */
const broker: FaultScript = async (ctx) => {
  for (const seconds of ctx.spec.outageSeconds) {
    const startedAt = Date.now();
    await ctx.broker!.stop();
    await sleep(seconds * 1000);
    await ctx.broker!.start();
    await ctx.measure('broker down', `${seconds} s`, startedAt, Date.now());
    await sleep(PAUSE_BETWEEN_FAULTS_MS);
  }
};

/**
 * The private registry stopped for each outage length. A running instance has its schemas cached and
 * may never notice, so one instance is also killed and started again while the registry is down: it has
 * to fetch the input's writer schema and register its outputs' schemas before it can process anything.
 */
const registry: FaultScript = async (ctx) => {
  for (const [i, seconds] of ctx.spec.outageSeconds.entries()) {
    const target = ctx.instances[i % ctx.spec.instances]!;
    const startedAt = Date.now();
    await ctx.registry!.stop();
    target.kill();
    await target.exited();
    await target.start(false);
    await sleep(seconds * 1000);
    await ctx.registry!.start();
    await ctx.measure('registry down', `${seconds} s; ${target.name} killed and started again while it was down`, startedAt, Date.now());
    await sleep(PAUSE_BETWEEN_FAULTS_MS);
  }
};

/**
 * The two extra instances join and leave in turn (start; clean stop with SIGTERM), one change every
 * few seconds, while the always-up instances keep running. The resume after each change is read from
 * the outputs afterwards: the storm does not wait for the group to settle between changes.
 */
const storm: FaultScript = async (ctx) => {
  const extras = ctx.instances.slice(ctx.spec.instances);
  const steps: Array<{ record: FaultRecord; endedAt: number }> = [];
  for (let i = 0; i < ctx.spec.faults; i++) {
    const extra = extras[i % extras.length]!;
    const startedAt = Date.now();
    if (extra.up) await extra.stop();
    else await extra.start(false);
    const endedAt = Date.now();
    steps.push({ record: ctx.record(extra.up ? 'join' : 'leave', `${extra.name} ${extra.up ? 'started' : 'stopped (SIGTERM)'}`, startedAt, endedAt), endedAt });
    await sleep(Math.max(0, ctx.spec.stormIntervalSeconds * 1000 - (Date.now() - startedAt)));
  }
  // Every change's resume: the first output on every partition processed after it (the last change's is waited for).
  const last = steps.at(-1);
  if (last) await ctx.waitResumed(last.endedAt);
  for (const s of steps) {
    s.record.resume_ms = ctx.audit.flowedAfter(s.endedAt, ctx.spec.partitions);
    s.record.api_resume_ms = ctx.prober.answeredAfter(s.endedAt, ctx.spec.partitions);
  }
};

/**
 * One broker of the private three-broker cluster (replication factor 3, min.insync.replicas 2) stopped at a
 * time, each for its outage length, in turn brokers 1, 2, 3, ...: with SIGTERM (controlled shutdown: it
 * hands its leaderships over first) or kill -9 (the controller notices after its session times out), then
 * started again. Two records per outage: the stop (processing should not wait for the broker to come back:
 * resume is measured from the broker being gone) and the restart (from it answering again).
 */
const brokers3: FaultScript = async (ctx) => {
  const cluster = ctx.cluster!.cluster;
  // The first broker stopped is the one coordinating the service's group, the hardest case (the group,
  // and the offsets every exactly-once transaction commits, must move); then the next ones in turn.
  const first = (await groupCoordinatorOf(ctx.cluster!.brokers, ctx.instances[0]!.config.applicationId).catch(() => 1)) - 1;
  for (const [i, stop] of (ctx.spec.brokerStops ?? []).entries()) {
    const id = ((first + i) % cluster.nodes.length) + 1;
    const stoppedAt = Date.now();
    if (stop.signal === 'SIGKILL') await cluster.killNode(id);
    else await cluster.stopNode(id);
    const goneAt = Date.now();
    const how = stop.signal === 'SIGKILL' ? 'kill -9' : 'SIGTERM';
    const down = ctx.record(`broker ${id} of 3 stopped (${how})`, `down ${stop.seconds} s; resume measured from the broker being gone`, stoppedAt, goneAt);
    await sleep(Math.max(0, stop.seconds * 1000 - (Date.now() - stoppedAt)));
    const restartAt = Date.now();
    await cluster.startNode(id);
    const backAt = Date.now();
    const back = ctx.record(`broker ${id} of 3 started again`, `after ${how}; resume measured from it answering`, restartAt, backAt);
    const resumed = await ctx.waitResumed(backAt);
    back.resume_ms = resumed.resume;
    back.api_resume_ms = resumed.api;
    down.resume_ms = ctx.audit.flowedAfter(goneAt, ctx.spec.partitions);
    down.api_resume_ms = ctx.prober.answeredAfter(goneAt, ctx.spec.partitions);
    log(`${ctx.spec.scenario}: broker ${id} ${how}: outputs flow ${down.resume_ms ?? 'NOT'} ms after it was gone, ${back.resume_ms ?? 'NOT'} ms after it was back (API ${down.api_resume_ms ?? '-'} / ${back.api_resume_ms ?? '-'} ms)`);
    await sleep(PAUSE_BETWEEN_FAULTS_MS);
  }
};

/** The node id of the broker coordinating `groupId` now. */
async function groupCoordinatorOf(brokers: readonly string[], groupId: string): Promise<number> {
  const admin = new Admin({ clientId: 'chaos-coordinator-lookup', bootstrapBrokers: [...brokers], retries: 3 });
  try {
    const found = await admin.findCoordinator({ keyType: FindCoordinatorKeyTypes.GROUP, keys: [groupId] });
    const node = found.find((c) => c.key === groupId)?.nodeId;
    if (node === undefined || node < 1) throw new Error(`no coordinator for group ${groupId}`);
    return node;
  } finally {
    await admin.close().catch(() => undefined);
  }
}

export const FAULT_SCRIPTS: Record<ScenarioName, FaultScript> = { kill, broker, registry, storm, elastic, brokers3 };
