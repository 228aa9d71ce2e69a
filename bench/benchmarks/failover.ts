import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PROFILES_STORE } from '../../src/app/topology/profile-node-names.ts';
import type { BenchChild, ChildEvent } from '../lib/child.ts';
import type { BenchContext } from '../lib/context.ts';
import { BenchAdmin } from '../lib/kafka.ts';
import { log } from '../lib/progress.ts';
import type { BenchResult } from '../lib/results.ts';
import { ratio, summarize } from '../lib/stats.ts';
import { createServiceTopics, serviceChild, workerConfig } from '../lib/service-under-test.ts';
import { produceChangelog, profileTemplates } from './restore.ts';

/** Short, so the failover is about restoring state, not about noticing the dead member (the same for both). */
const SESSION_TIMEOUT_MS = 6_000;
const REPORT_MS = 100;

type TaskReport = { active: Array<{ taskId: string; state: string }>; standby: Array<{ taskId: string; lag: string }> };

const lastTasks = (child: BenchChild): TaskReport | undefined => {
  const e = child.events.filter((x) => x.event === 'tasks').at(-1) as (ChildEvent & TaskReport) | undefined;
  return e;
};

async function until(what: string, timeoutMs: number, check: () => boolean, children: readonly BenchChild[]): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const c of children) if (c.hasExited) throw new Error(`${c.name} died while waiting for ${what}: ${c.deathReport()}`);
    if (check()) return Date.now();
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * One failover: two instances share the profiles (restored from the changelog), then one is killed with
 * SIGKILL. Measured from the kill until the survivor runs every task again (its session for the dead member
 * expires after SESSION_TIMEOUT_MS, then the tasks move and restore). With standbys the survivor kept the
 * dead one's tasks warm; without, it holds no copy of them (its directories of tasks it no longer owns are
 * removed before the kill, as Kafka Streams' state cleaner does after a while).
 */
async function failover(ctx: BenchContext, applicationId: string, rawTopic: string, standbys: number, label: string): Promise<{ failoverMs: number; restoreMs: number }> {
  const mk = (name: string) => {
    const config = { ...workerConfig(ctx, `${applicationId}`, rawTopic, 'exactly_once'), standbyReplicas: standbys, sessionTimeoutMs: SESSION_TIMEOUT_MS, reportTasksMs: REPORT_MS };
    config.stateDir = join(config.stateDir, name);
    rmSync(config.stateDir, { recursive: true, force: true });
    return { config, child: serviceChild(ctx, config, `${label} ${name}`) };
  };
  const a = mk('a');
  const children = [a.child];
  try {
    await a.child.waitFor('running', 600_000);
    const b = mk('b');
    children.push(b.child);
    await b.child.waitFor('running', 600_000);
    const split = (): boolean => {
      const [ta, tb] = [lastTasks(a.child), lastTasks(b.child)];
      if (!ta || !tb || ta.active.length === 0 || tb.active.length === 0) return false;
      if (ta.active.length + tb.active.length !== countTasks(ta, tb)) return false; // a task in both: still moving
      if (![...ta.active, ...tb.active].every((t) => t.state === 'RUNNING')) return false;
      if (standbys === 0) return true;
      const warm = new Set(ta.standby.filter((s) => s.lag === '0').map((s) => s.taskId));
      return tb.active.every((t) => warm.has(t.taskId));
    };
    await until(`both instances running${standbys > 0 ? ' with caught-up standbys' : ''}`, 600_000, split, children);
    const moving = lastTasks(b.child)!.active.map((t) => t.taskId);
    if (standbys === 0) {
      // The survivor's old copies of the tasks that will move (it restored everything before b joined).
      const dir = join(a.config.stateDir, applicationId);
      for (const d of readdirSync(dir)) if (moving.includes(d)) rmSync(join(dir, d), { recursive: true, force: true });
    }
    const killedAt = Date.now();
    b.child.process.kill('SIGKILL');
    await b.child.exited;
    const servedAt = await until('the survivor to run every task', 600_000, () => {
      const t = lastTasks(a.child);
      return t !== undefined && (t as unknown as ChildEvent).t > killedAt && moving.every((id) => t.active.some((x) => x.taskId === id && x.state === 'RUNNING'));
    }, [a.child]);
    const restoreMs = a.child.events.filter((e) => e.event === 'restore' && e.t >= killedAt).reduce((s, e) => s + Number(e.ms), 0);
    log(`${label}: served again ${servedAt - killedAt} ms after the kill (restore ${restoreMs} ms)`);
    return { failoverMs: servedAt - killedAt, restoreMs };
  } finally {
    for (const c of children) await c.stop(20_000);
  }
}

function countTasks(a: TaskReport, b: TaskReport): number {
  return new Set([...a.active, ...b.active].map((t) => t.taskId)).size;
}

export async function failoverBenchmark(ctx: BenchContext): Promise<BenchResult> {
  const started = Date.now();
  const { options: o } = ctx;
  const admin = new BenchAdmin(ctx.brokers);
  await admin.connect();
  const runs: Record<string, number | undefined>[] = [];
  const base = `${ctx.runId}-failover`;
  const rawTopic = `${base}.raw.web`;
  let changelogBytes = 0;
  try {
    await admin.create([{ topic: rawTopic, partitions: o.partitions, config: { 'retention.ms': '-1' } }]);
    const templates = profileTemplates(o.seed);
    for (let run = 1; run <= o.runs; run++) {
      const row: Record<string, number | undefined> = {};
      for (const standbys of [0, 1]) {
        // An application of its own per failover (its group and transactional ids start clean), on the same profiles.
        const applicationId = `${base}-${run}-sb${standbys}`;
        const changelog = `${applicationId}-${PROFILES_STORE}-changelog`;
        await createServiceTopics(admin, applicationId, rawTopic, o.partitions);
        await admin.create([{ topic: changelog, partitions: o.partitions, config: { 'cleanup.policy': 'compact' } }]).catch(() => undefined);
        changelogBytes = await produceChangelog(ctx, changelog, o.restoreProfiles, templates);
        const m = await failover(ctx, applicationId, rawTopic, standbys, `failover run ${run} standbys=${standbys}`);
        row[standbys === 0 ? 'without_standby_failover_ms' : 'with_standby_failover_ms'] = m.failoverMs;
        row[standbys === 0 ? 'without_standby_restore_ms' : 'with_standby_restore_ms'] = m.restoreMs;
        await admin.deleteByPrefix(applicationId);
        await admin.deleteGroups([applicationId]);
      }
      runs.push(row);
    }
  } finally {
    await admin.deleteByPrefix(base);
    await admin.disconnect();
  }
  const s = summarize(runs);
  return {
    benchmark: 'failover',
    started_at: new Date(started).toISOString(),
    duration_s: (Date.now() - started) / 1000,
    size: o.size,
    machine: ctx.machine,
    parameters: { profiles: o.restoreProfiles, partitions: o.partitions, instances: 2, session_timeout_ms: SESSION_TIMEOUT_MS, changelog_mb: Math.round((changelogBytes / 2 ** 20) * 10) / 10, guarantee: 'exactly_once' },
    ...s,
    runs,
    ratios: { with_vs_without_failover: ratio(s.median.with_standby_failover_ms, s.median.without_standby_failover_ms) },
    targets: [],
    units: { without_standby_failover_ms: 'ms', with_standby_failover_ms: 'ms', without_standby_restore_ms: 'ms', with_standby_restore_ms: 'ms' },
    notes: [
      'Two instances (exactly-once) share the profiles restored from a pre-written changelog; one is killed with SIGKILL. failover_ms: from the kill until the survivor runs every task again (it first waits out the dead member\'s session, session_timeout_ms, the same in both variants); restore_ms: the survivor\'s restore time after the kill.',
      'With standbys (STANDBY_REPLICAS=1) the survivor kept the dead instance\'s tasks warm and caught up before the kill; without, it has no copy of them (its directories of tasks it no longer owned are removed before the kill, as Kafka Streams\' state cleaner does after a while).',
    ],
  };
}
