/**
 * The Profile API's request path alone (no Kafka, no RocksDB): `bench/workers/api-path-worker.ts` serves
 * profiles through the real routes and lookup, a fastify hello-world beside it, autocannon here.
 * For before/after comparisons of the API code in one command, give several built trees (each with its
 * own `npm run build`), measured in turns so both see the same machine:
 *
 *   npx tsx bench/api-path.ts [--trees /tmp/before,.] [--rounds 2] [--seconds 8] [--users 1000]
 *                             [--reads miss|hit] [--connections 64] [--cpu-prof]
 *
 * Prints one JSON line per measurement, with the API worker's CPU time per request (the figure to compare
 * on a busy machine). `--cpu-prof` writes each API worker's profile of its serving (not its
 * start-up) to bench/tmp/profiles/api-path/tree-<n>-round-<r>.cpuprofile.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const { values } = parseArgs({
  options: {
    trees: { type: 'string', default: '.' },
    rounds: { type: 'string', default: '1' },
    seconds: { type: 'string', default: '8' },
    users: { type: 'string', default: '1000' },
    reads: { type: 'string', default: 'miss' },
    connections: { type: 'string', default: '64' },
    'cpu-prof': { type: 'boolean', default: false },
  },
});
const KEY = { key: 'bench-key-0001', secret: 'bench-secret', workspace: '1' };
const AUTH = `Basic ${Buffer.from(`${KEY.key}:${KEY.secret}`).toString('base64')}`;
const trees = values.trees.split(',').map((t) => resolve(t));
const seconds = Number(values.seconds);
const connections = Number(values.connections);

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

/** Starts a worker and waits (at most 60 s) for its first stdout line; its stderr is shown if it dies first. */
async function start(file: string, args: string[], label: string): Promise<{ child: ChildProcess; event: Record<string, unknown> }> {
  const dir = join(import.meta.dirname, 'tmp', 'profiles', 'api-path');
  mkdirSync(dir, { recursive: true });
  const env = values['cpu-prof'] ? { ...process.env, API_PATH_CPU_PROFILE: join(dir, `${label}.cpuprofile`) } : process.env;
  const child = spawn(process.execPath, [file, ...args], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout! });
  const first = new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${label}: not up within 60 s; stderr: ${stderr.slice(-1500)}`)), 60_000);
    lines.once('line', (l) => (clearTimeout(timer), res(l)));
    child.once('exit', (code) => (clearTimeout(timer), rej(new Error(`${label} exited (${code}): ${stderr.slice(-1500)}`))));
  });
  return { child, event: JSON.parse(await first) as Record<string, unknown> };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** The worker's CPU time so far (user + system), in microseconds. */
async function cpuMicros(child: ChildProcess): Promise<number | undefined> {
  if (!child.send) return undefined;
  const answer = once(child, 'message') as Promise<[NodeJS.CpuUsage]>;
  child.send('cpu');
  const [usage] = await answer;
  return usage.user + usage.system;
}

async function load(port: number, paths: readonly string[], duration: number): Promise<{ rps: number; requests: number; p50: number; p99: number; non2xx: number; errors: number }> {
  let i = 0;
  const r = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration,
    headers: { authorization: AUTH },
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: paths[i++ % paths.length]! }) }],
  });
  return { rps: r.requests.average, requests: r.requests.total, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors + r.timeouts };
}

for (const tree of trees) {
  const tsc = join(tree, 'node_modules', 'typescript', 'bin', 'tsc');
  const built = spawnSync(process.execPath, [tsc, '-p', join(tree, 'tsconfig.build.json')], { cwd: tree, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`building ${tree} failed: ${built.stdout}${built.stderr}`);
}
const helloPort = await freePort();
const hello = await start(join(trees[0]!, 'dist/bench/workers/hello-worker.js'), [String(helloPort)], 'hello');
try {
  for (let round = 1; round <= Number(values.rounds); round++) {
    await load(helloPort, ['/hello'], 2);
    const helloCpuBefore = await cpuMicros(hello.child);
    const h = await load(helloPort, ['/hello'], seconds);
    const helloCpu = ((await cpuMicros(hello.child))! - helloCpuBefore!) / h.requests;
    process.stdout.write(`${JSON.stringify({ round, tree: 'hello-world', ...h, cpu_us_per_request: Math.round(helloCpu) })}\n`);
    for (const [n, tree] of trees.entries()) {
      const port = await freePort();
      const { child, event } = await start(join(tree, 'dist/bench/workers/api-path-worker.js'), [String(port), values.users, values.reads], `tree-${n}-round-${round}`);
      try {
        const paths = (event.mpids as string[]).map((m) => `/userprofile/v1/o/a/${KEY.workspace}/${m}?fields=user_identities,user_attributes,audience_memberships`);
        await load(port, paths, 2);
        const cpuBefore = await cpuMicros(child);
        const r = await load(port, paths, seconds);
        const cpuAfter = await cpuMicros(child);
        const cpuPerRequest = cpuBefore !== undefined && cpuAfter !== undefined ? Math.round((cpuAfter - cpuBefore) / r.requests) : undefined;
        // vs_hello_cpu: hello-world's CPU per request over this one's, the throughput ratio both would have alone on a core.
        const vsHelloCpu = cpuPerRequest ? Math.round((helloCpu / cpuPerRequest) * 1000) / 1000 : undefined;
        process.stdout.write(`${JSON.stringify({ round, tree, reads: values.reads, ...r, cpu_us_per_request: cpuPerRequest, vs_hello: Math.round((r.rps / h.rps) * 1000) / 1000, vs_hello_cpu: vsHelloCpu })}\n`);
      } finally {
        await stop(child);
      }
    }
  }
} finally {
  await stop(hello.child);
}
