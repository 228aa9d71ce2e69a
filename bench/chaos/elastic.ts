import { sleep } from '../lib/kafka.ts';
import { log } from '../lib/progress.ts';
import type { ChaosInstance } from './instance.ts';
import type { FaultScript } from './scenario.ts';
import type { ScaleStep } from './scenario-spec.ts';

export type { ScaleStep } from './scenario-spec.ts';

const STEP_DEADLINE_MS = 120_000;
/** Longer than a Profile API request takes on a busy machine (the prober gives up after 5 s; most take < 100 ms). */
const DRAIN_MS = 1000;

/**
 * Every task RUNNING on exactly one of `members` and each member with at least one (when there are
 * enough tasks), by their latest task reports, all taken after `since`; a report from before the
 * revocation still lists the moved tasks, so a task in two reports means the group has not settled.
 */
function settled(members: readonly ChaosInstance[], allTasks: ReadonlySet<string>, since: number): boolean {
  const owner = new Map<string, number>();
  for (const m of members) {
    const r = m.lastTasks();
    if (!r || r.t < since) return false;
    if (r.active.length === 0 && allTasks.size >= members.length) return false;
    for (const t of r.active) {
      if (t.state !== 'RUNNING' || owner.has(t.taskId)) return false;
      owner.set(t.taskId, 1);
    }
  }
  return owner.size === allTasks.size && [...allTasks].every((t) => owner.has(t));
}

async function waitSettled(members: readonly ChaosInstance[], allTasks: ReadonlySet<string>, since: number): Promise<number | undefined> {
  const deadline = Date.now() + STEP_DEADLINE_MS;
  while (Date.now() < deadline) {
    if (settled(members, allTasks, since)) return Date.now();
    await sleep(50);
  }
  return undefined;
}

/**
 * Elastic instances under load (issue 18): from `spec.instances`, to each instance count of `spec.steps` in
 * turn, while the load flows and the API is queried through the instances in rotation. A join starts the
 * next instances (each with its own state directory, empty); a leave takes the newest ones out of the API's
 * rotation, waits a second for requests on their way, and stops them with SIGTERM, so they commit and leave
 * the group at once. Each step is waited out (rebalanced, lag caught up) before the
 * pause and the next one, and recorded as a fault too (outputs and API 200 again after it).
 */
export const elastic: FaultScript = async (ctx) => {
  const { spec, instances, lag } = ctx;
  if (!lag) throw new Error('the elastic scenario needs the lag watcher');
  const allTasks = new Set(instances.slice(0, spec.instances).flatMap((i) => i.lastTasks()?.active.map((t) => t.taskId) ?? []));
  if (allTasks.size === 0) throw new Error('no task report from the first instances before the first step');
  // One second of input: "caught up" is being less than a second behind, whatever the steady lag was.
  const threshold = spec.rate;
  let live = spec.instances;
  for (const target of spec.steps ?? []) {
    const before = live;
    const joining = instances.slice(before, target);
    const leaving = instances.slice(target, before);
    // Out of the API's rotation first, so no request is on its way to them when they get SIGTERM.
    await Promise.all(leaving.map((i) => i.drain(DRAIN_MS)));
    const startedAt = Date.now();
    if (joining.length > 0) await Promise.all(joining.map((i) => i.start(false)));
    if (leaving.length > 0) await Promise.all(leaving.map((i) => i.stop()));
    const endedAt = Date.now();
    live = target;
    const members = instances.slice(0, target);
    const settledAt = await waitSettled(members, allTasks, startedAt);
    const caughtUpAt = settledAt === undefined ? undefined : await lag.waitAtMost(threshold, settledAt, STEP_DEADLINE_MS);
    const runningAt = joining.length > 0 ? await Promise.all(joining.map((i) => i.runningAt(1000).catch(() => undefined))) : [];
    const processMs = joining.length > 0
      ? (runningAt.every((t) => t !== undefined) ? Math.max(...runningAt.map((t) => t! - startedAt)) : undefined)
      : endedAt - startedAt;
    const until = caughtUpAt ?? Date.now();
    const restoreMs = members.reduce((s, m) => s + m.restoreMsSince(startedAt), 0);
    const names = (joining.length > 0 ? joining : leaving).map((i) => i.name.replace(/^.*-(i\d+)$/, '$1')).join(', ');
    const rec = ctx.record(`scale ${before} -> ${target}`, joining.length > 0 ? `${names} started` : `${names} stopped (SIGTERM)`, startedAt, endedAt);
    const resumed = await ctx.waitResumed(endedAt);
    rec.resume_ms = resumed.resume;
    rec.api_resume_ms = resumed.api;
    const step: ScaleStep = {
      instances_before: before,
      instances_after: target,
      at_s: rec.at_s,
      process_ms: processMs,
      rebalance_ms: settledAt === undefined ? undefined : settledAt - startedAt,
      catch_up_ms: caughtUpAt === undefined ? undefined : caughtUpAt - startedAt,
      lag_threshold: threshold,
      peak_lag: lag.peak(startedAt, until),
      restore_ms: restoreMs,
      api: ctx.prober.tally(startedAt, until),
    };
    ctx.steps.push(step);
    log(`${spec.scenario}: ${before} -> ${target}: process ${step.process_ms ?? '-'} ms, rebalanced ${step.rebalance_ms ?? 'NOT within the deadline'} ms, caught up ${step.catch_up_ms ?? 'NOT within the deadline'} ms (peak lag ${step.peak_lag}), API ${JSON.stringify(step.api)}`);
    await sleep(spec.steadySeconds * 1000);
  }
};
