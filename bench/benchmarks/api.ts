import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { BenchChild, REPO_ROOT } from '../lib/child.ts';
import type { BenchContext } from '../lib/context.ts';
import { fixedRateLoad, type FixedRateResult } from '../lib/fixed-rate-load.ts';
import { BenchAdmin, sleep } from '../lib/kafka.ts';
import { log } from '../lib/progress.ts';
import type { BenchResult } from '../lib/results.ts';
import { ratio, summarize } from '../lib/stats.ts';
import { loadWorkload, produceRecords } from '../lib/workload.ts';
import { createServiceTopics, serviceChild, workerConfig } from '../lib/service-under-test.ts';

const KEY = { key: 'bench-key-0001', secret: 'bench-secret', workspace: '1' };
const AUTH = `Basic ${Buffer.from(`${KEY.key}:${KEY.secret}`).toString('base64')}`;

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

const profilePath = (mpid: string): string => `/userprofile/v1/o/a/${KEY.workspace}/${mpid}?fields=user_identities,user_attributes,audience_memberships`;

interface Load {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  cpuUsPerRequest: number | undefined;
}

/**
 * autocannon in this process, cycling through the paths so every request asks for another user. `cpuOf`:
 * the processes whose CPU time per answered request is reported (`cpuUsPerRequest`), a figure that a busy
 * machine inflates far less than requests per second.
 */
async function load(port: number, paths: readonly string[], ctx: BenchContext, label: string, cpuOf: readonly BenchChild[] = []): Promise<Load> {
  let i = 0;
  const cpu = (): number | undefined => cpuOf.reduce<number | undefined>((n, c) => (n === undefined || c.cpuMicros() === undefined ? undefined : n + c.cpuMicros()!), 0);
  const cpuBefore = cpu();
  log(`autocannon ${label}: ${ctx.options.apiConnections} connections, ${ctx.options.apiSeconds} s`);
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: ctx.options.apiConnections,
    duration: ctx.options.apiSeconds,
    headers: { authorization: AUTH },
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: paths[i++ % paths.length]! }) }],
  });
  if (result.non2xx > 0 || result.errors + result.timeouts > 0) {
    // Say what went wrong, not only how often: the status codes, and one failing answer's body.
    const statuses = Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => `${code}×${(s as { count: number }).count}`).join(' ');
    const sample = await fetch(`http://127.0.0.1:${port}${paths[0]!}`, { headers: { authorization: AUTH } }).then(async (r) => `${r.status} ${(await r.text()).slice(0, 300)}`, (e: Error) => e.message);
    log(`autocannon ${label}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts; statuses ${statuses}; a request now: ${sample}`);
  }
  const cpuAfter = cpu();
  const cpuUsPerRequest = cpuOf.length > 0 && cpuBefore !== undefined && cpuAfter !== undefined && result.requests.total > 0 ? Math.round((cpuAfter - cpuBefore) / result.requests.total) : undefined;
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.timeouts, non2xx: result.non2xx, cpuUsPerRequest };
}

/** Open-loop requests at `rate` per second for the run's length (`fixedRateLoad`); failures are logged with their counts. */
async function atRate(port: number, paths: readonly string[], rate: number, ctx: BenchContext, label: string): Promise<FixedRateResult> {
  log(`fixed rate ${label}: ${ctx.options.apiSeconds} s`);
  const r = await fixedRateLoad({ origin: `http://127.0.0.1:${port}`, paths, headers: { authorization: AUTH }, rate, seconds: ctx.options.apiSeconds, connections: ctx.options.apiConnections });
  if (r.non2xx + r.errors + r.unanswered > 0) log(`fixed rate ${label}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.unanswered} unanswered of ${r.sent}`);
  return r;
}

export async function apiBenchmark(ctx: BenchContext): Promise<BenchResult> {
  const started = Date.now();
  const { options: o } = ctx;
  const admin = new BenchAdmin(ctx.brokers);
  await admin.connect();
  const notes: string[] = [];
  const runs: Record<string, number | undefined>[] = [];
  const applicationId = `${ctx.runId}-api`;
  const rawTopic = `${applicationId}.raw.web`;
  const instances: BenchChild[] = [];
  const stateDirs: string[] = [];
  let hello: BenchChild | undefined;
  let owned: string[] = [];
  let forwarded: string[] = [];
  try {
    const workload = await loadWorkload({ seed: o.seed + 1, batches: o.apiUsers * 2, users: o.apiUsers, partitions: o.partitions, workspaceId: KEY.workspace }, ctx.registryUrl, ctx.workloadTopic);
    await admin.create([{ topic: rawTopic, partitions: o.partitions, config: { 'retention.ms': '-1' } }]);
    await createServiceTopics(admin, applicationId, rawTopic, o.partitions);
    await produceRecords(ctx.brokers, rawTopic, workload.records, 'producing the API benchmark\'s users');
    const ports = [await freePort(), await freePort()];
    for (const [n, port] of ports.entries()) {
      const config = { ...workerConfig(ctx, `${applicationId}`, rawTopic, 'at_least_once'), stateDir: join(REPO_ROOT, 'bench', 'tmp', 'state', `${applicationId}-${n}`), apiPort: port, apiKey: KEY };
      stateDirs.push(config.stateDir);
      instances.push(serviceChild(ctx, config, `api instance ${n}`));
    }
    // Either instance dying from here on fails the benchmark with that instance's exit and stderr.
    await BenchChild.watch(instances, (async () => {
      await Promise.all(instances.map((i) => i.waitFor('running', 180_000)));
      const deadline = Date.now() + 300_000;
      while ((await admin.committedSum(applicationId, rawTopic)) < workload.records.length) {
        if (Date.now() > deadline) throw new Error('the two instances did not process the API users in time');
        await sleep(500);
      }
      await sleep(2000); // both instances' metadata settled after the last rebalance
      // Which users instance 0 answers itself and which it forwards: its answer says who answered.
      const mpids = [...new Set(workload.records.map((r) => r.key.toString()))];
      for (const mpid of mpids) {
        const res = await fetch(`http://127.0.0.1:${ports[0]}${profilePath(mpid)}`, { headers: { authorization: AUTH } });
        if (res.status !== 200) throw new Error(`probe of ${mpid}: HTTP ${res.status} ${await res.text()}`);
        (res.headers.get('x-profile-stream-answered-by') ? forwarded : owned).push(mpid);
      }
      log(`instance 0 owns ${owned.length} of ${mpids.length} users, forwards ${forwarded.length}`);
      // Each instance has a share of every sub-topology (the assignor balances them one by one), so both lists
      // fill with enough users; an empty one would make autocannon request no path at all.
      if (owned.length === 0 || forwarded.length === 0) throw new Error(`the two instances did not share the users (instance 0 owns ${owned.length}, forwards ${forwarded.length}): see their logs (${instances.map((i) => i.stderrFile).join(', ')})`);
      const helloPort = await freePort();
      hello = BenchChild.node('hello-world', join(REPO_ROOT, 'bench/workers/hello-worker.ts'), [String(helloPort)]);
      await hello.waitFor('api', 60_000);
      for (let run = 1; run <= o.runs; run++) {
        // Saturated: as many requests as 64 connections get answered; the throughput figures.
        const h = await load(helloPort, ['/hello'], ctx, `hello-world run ${run}`, [hello!]);
        const ow = await load(ports[0]!, owned.map(profilePath), ctx, `owned run ${run}`, [instances[0]!]);
        const fw = await load(ports[0]!, forwarded.map(profilePath), ctx, `forwarded run ${run}`, instances);
        // At a fixed rate, half of what the route sustained saturated: the latency figures (see the notes).
        // Hello-world at the owned route's rate says what the machine and the load generator add at that rate.
        const ownedRate = Math.max(1, Math.round(ow.rps / 2));
        const forwardedRate = Math.max(1, Math.round(fw.rps / 2));
        const hf = await atRate(helloPort, ['/hello'], ownedRate, ctx, `hello-world at ${ownedRate}/s run ${run}`);
        const of = await atRate(ports[0]!, owned.map(profilePath), ownedRate, ctx, `owned at ${ownedRate}/s run ${run}`);
        const ff = await atRate(ports[0]!, forwarded.map(profilePath), forwardedRate, ctx, `forwarded at ${forwardedRate}/s run ${run}`);
        runs.push({
          hello_cpu_us_per_request: h.cpuUsPerRequest, owned_cpu_us_per_request: ow.cpuUsPerRequest, forwarded_cpu_us_per_request: fw.cpuUsPerRequest,
          hello_rps: h.rps, hello_p50_ms: h.p50, hello_p99_ms: h.p99,
          owned_rps: ow.rps, owned_p50_ms: ow.p50, owned_p99_ms: ow.p99, owned_errors: ow.errors + ow.non2xx,
          forwarded_rps: fw.rps, forwarded_p50_ms: fw.p50, forwarded_p99_ms: fw.p99, forwarded_errors: fw.errors + fw.non2xx,
          owned_fixed_rate_rps: ownedRate, owned_fixed_p50_ms: of.p50, owned_fixed_p99_ms: of.p99, owned_fixed_p999_ms: of.p999,
          hello_fixed_p50_ms: hf.p50, hello_fixed_p99_ms: hf.p99,
          forwarded_fixed_rate_rps: forwardedRate, forwarded_fixed_p50_ms: ff.p50, forwarded_fixed_p99_ms: ff.p99, forwarded_fixed_p999_ms: ff.p999,
          fixed_rate_errors: [hf, of, ff].reduce((n, r) => n + r.non2xx + r.errors + r.unanswered, 0),
        });
        log(`api run ${run}: ${JSON.stringify(runs.at(-1))}`);
      }
    })());
  } finally {
    await hello?.stop(5000);
    await Promise.all(instances.map((i) => i.stop(30_000)));
    for (const d of stateDirs) rmSync(d, { recursive: true, force: true });
    await admin.deleteByPrefix(applicationId);
    await admin.deleteGroups([applicationId]);
    await admin.disconnect();
  }
  const s = summarize(runs);
  return {
    benchmark: 'api',
    started_at: new Date(started).toISOString(),
    duration_s: (Date.now() - started) / 1000,
    size: o.size,
    machine: ctx.machine,
    parameters: { connections: o.apiConnections, seconds: o.apiSeconds, users: owned.length + forwarded.length, owned_users: owned.length, forwarded_users: forwarded.length, instances: 2, partitions: o.partitions },
    ...s,
    runs,
    ratios: {
      vs_hello_world: ratio(s.median.owned_rps, s.median.hello_rps),
      // hello-world's CPU per request over the owned route's: the throughput ratio each would reach alone on a core.
      vs_hello_world_cpu: ratio(s.median.hello_cpu_us_per_request, s.median.owned_cpu_us_per_request),
      forwarded_vs_hello_world: ratio(s.median.forwarded_rps, s.median.hello_rps),
      forwarded_vs_owned: ratio(s.median.forwarded_rps, s.median.owned_rps),
    },
    targets: [
      { label: 'owned ≥ 0.6× fastify hello-world (requests/s, saturated)', key: 'vs_hello_world', op: '>=', value: 0.6 },
      { label: 'owned p99 ≤ 5 ms at half its saturated rate', key: 'owned_fixed_p99_ms', op: '<=', value: 5 },
      { label: 'forwarded p99 ≤ 10 ms at half its saturated rate', key: 'forwarded_fixed_p99_ms', op: '<=', value: 10 },
    ],
    units: Object.fromEntries(Object.keys(s.median).map((k) => [k, k.endsWith('_rps') ? 'requests/s' : k.endsWith('_errors') ? 'count' : k.endsWith('_cpu_us_per_request') ? 'µs' : 'ms'])),
    notes: [
      'GET /userprofile/v1/{org}/{account}/{workspace}/{mpid} with Basic auth, against instance 0 of two; "owned" users are on instance 0\'s partitions, "forwarded" ones are relayed to instance 1. Each request asks for the next user in the list.',
      'autocannon runs in the harness process on the same 2 cores as both instances, the hello-world server and Kafka; the per-key rate limit is raised for the load test (the default, 6,000/min, would answer most requests with 429).',
      '*_cpu_us_per_request: CPU time (user + system, from /proc) per answered request during the saturated run, of hello-world, of instance 0 (owned) and of both instances (forwarded); includes whatever else the process did meanwhile (the owned instance\'s idle stream processing). vs_hello_world_cpu compares it with hello-world\'s; on a busy machine it moves far less than requests per second.',
      'Throughput (*_rps, vs_hello_world) is measured saturated: 64 connections, each sending its next request when the last is answered. Latency at saturation is queueing (64 requests in flight over the throughput, Little\'s law), not service time: hello-world\'s own p99 is several ms there. So the latency targets are read at a fixed rate, half of what the route sustained saturated in the same run (as the pipeline\'s latency is read at half its maximum), open loop: request i is due at i/rate and its latency counts from then (*_fixed_*; bench/lib/fixed-rate-load.ts). hello_fixed_* is hello-world at the owned route\'s rate: what the machine and the load generator add at that rate.',
      ...notes,
    ],
  };
}
