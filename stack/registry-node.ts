import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JavaRuntime } from './java-runtime.ts';
import { apicurioJar } from './stack-artifacts.ts';
import { isAlive, portOpen, processesMentioning, readPid, removeFile, spawnDetached, stopProcess, tailOf, waitUntil } from './process-control.ts';
import { StackError } from './stack-errors.ts';
import { registryUrlOf, type StackConfig, type StackPaths } from './stack-config.ts';
import type { NodeStatus } from './kafka-node.ts';

export async function registryAnswers(config: StackConfig): Promise<boolean> {
  try {
    const res = await fetch(`${registryUrlOf(config)}/subjects`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

/** The HTTP port our running registry was started with, from its command line (Linux /proc; else unknown). */
function startedOnPort(pid: number): number | undefined {
  try {
    const match = /-Dquarkus\.http\.port=(\d+)/.exec(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

export async function registryStatus(config: StackConfig, paths: StackPaths): Promise<NodeStatus> {
  const pid = readPid(paths.registryPid);
  if (pid !== undefined && isAlive(pid)) {
    // Started with another STACK_REGISTRY_PORT: it is ours, but not what answers on the configured port.
    const port = startedOnPort(pid);
    if (port !== undefined && port !== config.registryPort) return { state: 'elsewhere', pid, port };
    return { state: 'running', pid };
  }
  if (!(await portOpen(config.host, config.registryPort))) return { state: 'stopped' };
  const found = processesMentioning(paths.registryDir);
  return found.length > 0 ? { state: 'running', pid: found[0] } : { state: 'foreign' };
}

export async function startRegistry(config: StackConfig, paths: StackPaths, java: JavaRuntime): Promise<'started' | 'reused'> {
  const status = await registryStatus(config, paths);
  if (status.state === 'foreign') {
    throw new StackError('PS_ERR_STACK_PORT_TAKEN', `Port ${config.registryPort} is taken by a process that is not our schema registry: stop it, or set SCHEMA_REGISTRY_URL to use it, or STACK_REGISTRY_PORT to move ours`);
  }
  if (status.state === 'elsewhere') {
    throw new StackError('PS_ERR_STACK_PORT_TAKEN', `Our schema registry (pid ${status.pid ?? '?'}) already runs on port ${status.port}, not ${config.registryPort}: stop it first (npm run stack:down, with the STACK_REGISTRY_PORT it was started with) or use port ${status.port}`);
  }
  if (status.state === 'running') {
    const ready = await waitUntil(() => registryAnswers(config), { timeoutMs: 60_000 });
    if (ready === 'ready') return 'reused';
    throw new StackError('PS_ERR_STACK_NOT_READY', `The schema registry (pid ${status.pid}) runs but does not answer at ${registryUrlOf(config)}`, { logFile: paths.registryLog });
  }
  mkdirSync(paths.registryDir, { recursive: true });
  const db = join(paths.registryDir, 'db', 'registry');
  const args = [
    '-Xms128m',
    '-Xmx512m',
    `-Dquarkus.http.host=${config.host}`,
    `-Dquarkus.http.port=${config.registryPort}`,
    // The management interface would listen on 0.0.0.0:9000; we check readiness through the API instead.
    '-Dquarkus.management.enabled=false',
    `-Dapicurio.rules.global.compatibility=${STACK_COMPATIBILITY}`,
    // H2 in a file, so schemas and their ids survive a restart of the registry.
    '-Dapicurio.storage.kind=sql',
    '-Dapicurio.storage.sql.kind=h2',
    `-Dapicurio.datasource.url=jdbc:h2:file:${db};DB_CLOSE_ON_EXIT=FALSE`,
    '-Dapicurio.datasource.username=sa',
    '-Dapicurio.datasource.password=sa',
    `-Dprofile-stream.stack=${paths.registryDir}`,
    '-jar',
    apicurioJar(paths),
  ];
  removeFile(paths.registryPid);
  const pid = spawnDetached(java.executable, args, paths.registryLog, paths.registryPid, paths.registryDir);
  const ready = await waitUntil(() => registryAnswers(config), { timeoutMs: 120_000, stillRunning: () => isAlive(pid) });
  if (ready === 'died') throw new StackError('PS_ERR_STACK_START_FAILED', 'The schema registry exited during start-up', { logFile: paths.registryLog, logTail: tailOf(paths.registryLog) });
  if (ready === 'timeout') {
    throw new StackError('PS_ERR_STACK_NOT_READY', `The schema registry did not answer at ${registryUrlOf(config)} within 120 s`, { logFile: paths.registryLog, logTail: tailOf(paths.registryLog) });
  }
  await ensureGlobalCompatibility(config, paths);
  return 'started';
}

/** The registry-wide compatibility level the local stack runs with, as README and DESIGN say. */
export const STACK_COMPATIBILITY = 'BACKWARD';

/**
 * Apicurio 3.0 enforces `-Dapicurio.rules.global.compatibility` (its admin API lists the rule) but its
 * Confluent-compatible `GET /config` reads only a rule stored through that API, so it answered NONE while
 * checking BACKWARD. Storing the level through `PUT /config` makes both agree. Done on a registry this
 * stack started, and only when it answers NONE: with the flag set, NONE is never what it enforces, while
 * another level there was set on purpose and is left alone.
 */
async function ensureGlobalCompatibility(config: StackConfig, paths: StackPaths): Promise<void> {
  const url = `${registryUrlOf(config)}/config`;
  const fail = (what: string) => new StackError('PS_ERR_STACK_START_FAILED', `The schema registry started but ${what}`, { logFile: paths.registryLog });
  const current = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!current.ok) throw fail(`did not answer GET /config (HTTP ${current.status})`);
  if (((await current.json()) as { compatibilityLevel?: string }).compatibilityLevel !== 'NONE') return;
  const set = await fetch(url, {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ compatibility: STACK_COMPATIBILITY }),
    signal: AbortSignal.timeout(10_000),
  });
  if (!set.ok) throw fail(`refused its global compatibility ${STACK_COMPATIBILITY} (HTTP ${set.status}: ${await set.text()})`);
}

export async function stopRegistry(paths: StackPaths): Promise<number[]> {
  const pids = new Set<number>(processesMentioning(paths.registryDir));
  const pid = readPid(paths.registryPid);
  if (pid !== undefined && isAlive(pid)) pids.add(pid);
  await Promise.all([...pids].map((p) => stopProcess(p, 20_000)));
  removeFile(paths.registryPid);
  return [...pids];
}
