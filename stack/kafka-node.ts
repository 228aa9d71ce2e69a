import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brokerIds } from './broker-probe.ts';
import type { JavaRuntime } from './java-runtime.ts';
import { isAlive, portOpen, processesMentioning, readPid, removeFile, run, spawnDetached, stopProcess, tailOf, waitUntil } from './process-control.ts';

const KAFKA_START_TIMEOUT_MS = 240_000;
import { StackError } from './stack-errors.ts';
import { brokersOf, type StackConfig, type StackPaths } from './stack-config.ts';
import { scramFormatArgs, securedListenerEntries, securedListenerProperties, securedProtocolMap } from './broker-security.ts';

/** One KRaft node acting as broker and controller, on loopback only. */
function serverProperties(config: StackConfig, paths: StackPaths): string {
  const { host, kafkaPort, controllerPort, security } = config;
  const secured = securedListenerEntries(host, security);
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.bootstrap.servers=${host}:${controllerPort}`,
    `listeners=${[`PLAINTEXT://${host}:${kafkaPort}`, `CONTROLLER://${host}:${controllerPort}`, ...secured].join(',')}`,
    `advertised.listeners=${[`PLAINTEXT://${host}:${kafkaPort}`, `CONTROLLER://${host}:${controllerPort}`, ...secured].join(',')}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `listener.security.protocol.map=${['CONTROLLER:PLAINTEXT', 'PLAINTEXT:PLAINTEXT', ...securedProtocolMap(security)].join(',')}`,
    ...securedListenerProperties(security),
    `log.dirs=${paths.kafkaData}`,
    'num.partitions=1',
    // Single node: internal topics cannot have more than one replica; fewer partitions load faster.
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=10',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    // Tests and a first run form groups often; waiting for late joiners only slows them down.
    'group.initial.rebalance.delay.ms=0',
    // Topics are created from topology/ with their partition counts; a typo must not create a topic.
    'auto.create.topics.enable=false',
    '',
  ].join('\n');
}

/** A broker's log4j2 configuration: one file appender at INFO, the chatty state-change and request loggers at WARN. */
export function log4j2Properties(logFile: string): string {
  return [
    'status = warn',
    'appender.file.type = File',
    'appender.file.name = FILE',
    `appender.file.fileName = ${logFile}`,
    'appender.file.layout.type = PatternLayout',
    'appender.file.layout.pattern = [%d] %p %m (%c)%n',
    'rootLogger.level = INFO',
    'rootLogger.appenderRef.file.ref = FILE',
    'logger.state.name = state.change.logger',
    'logger.state.level = WARN',
    'logger.request.name = kafka.request.logger',
    'logger.request.level = WARN',
    '',
  ].join('\n');
}

export async function kafkaAnswers(config: StackConfig): Promise<boolean> {
  if (!(await portOpen(config.host, config.kafkaPort))) return false;
  return (await brokerIds([brokersOf(config)])).length > 0;
}

/**
 * `elsewhere`: our process runs, but was started with another port than the one configured now (a changed
 * STACK_KAFKA_PORT); calling that "running" sent users to a port where nothing listened.
 */
export type NodeStatus =
  | { state: 'running'; pid: number | undefined }
  | { state: 'stopped' }
  | { state: 'foreign' }
  | { state: 'elsewhere'; pid: number | undefined; port: number };

/** The broker port our running Kafka was started with, from the server.properties it was given. */
function startedOnPort(paths: StackPaths): number | undefined {
  try {
    const match = /^listeners=PLAINTEXT:\/\/[^:]+:(\d+)/m.exec(readFileSync(join(paths.kafkaDir, 'server.properties'), 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

export async function kafkaStatus(config: StackConfig, paths: StackPaths): Promise<NodeStatus> {
  const pid = readPid(paths.kafkaPid);
  const ours = pid !== undefined && isAlive(pid);
  const open = await portOpen(config.host, config.kafkaPort);
  const port = startedOnPort(paths);
  if (ours && port !== undefined && port !== config.kafkaPort) return { state: 'elsewhere', pid, port };
  if (ours) return { state: 'running', pid };
  if (!open) return { state: 'stopped' };
  // Something answers on the port but it is not the process we started: maybe ours without a pid file.
  const found = processesMentioning(paths.kafkaDir);
  return found.length > 0 ? { state: 'running', pid: found[0] } : { state: 'foreign' };
}

export async function startKafka(config: StackConfig, paths: StackPaths, java: JavaRuntime): Promise<'started' | 'reused'> {
  const status = await kafkaStatus(config, paths);
  if (status.state === 'foreign') {
    throw new StackError('PS_ERR_STACK_PORT_TAKEN', `Port ${config.kafkaPort} is taken by a process that is not our Kafka: stop it, or set KAFKA_BROKERS to use that broker, or STACK_KAFKA_PORT to move ours`);
  }
  if (status.state === 'elsewhere') {
    throw new StackError('PS_ERR_STACK_PORT_TAKEN', `Our Kafka (pid ${status.pid ?? '?'}) already runs on port ${status.port}, not ${config.kafkaPort}: stop it first (npm run stack:down, with the STACK_KAFKA_PORT it was started with) or use port ${status.port}`);
  }
  if (status.state === 'running') {
    const ready = await waitUntil(() => kafkaAnswers(config), { timeoutMs: 60_000 });
    if (ready === 'ready') return 'reused';
    throw new StackError('PS_ERR_STACK_NOT_READY', `Kafka (pid ${status.pid}) is running but does not answer on ${brokersOf(config)}`, { logFile: paths.kafkaLog });
  }
  if (await portOpen(config.host, config.controllerPort)) {
    throw new StackError('PS_ERR_STACK_PORT_TAKEN', `Controller port ${config.controllerPort} is taken: free it or set STACK_CONTROLLER_PORT`);
  }
  mkdirSync(paths.kafkaData, { recursive: true });
  const propsFile = join(paths.kafkaDir, 'server.properties');
  const logConfig = join(paths.kafkaDir, 'log4j2.properties');
  writeFileSync(propsFile, serverProperties(config, paths));
  writeFileSync(logConfig, log4j2Properties(paths.kafkaLog));
  const classpath = `${paths.kafkaLibs}/*`;
  const jvm = [`-Dlog4j2.configurationFile=${logConfig}`, '-cp', classpath];
  if (!existsSync(join(paths.kafkaData, 'meta.properties'))) {
    const uuid = await run(java.executable, [...jvm, 'kafka.tools.StorageTool', 'random-uuid']);
    const clusterId = uuid.output.trim().split(/\s+/).pop() ?? '';
    const format = await run(java.executable, [...jvm, 'kafka.tools.StorageTool', 'format', '--standalone', '-t', clusterId, '-c', propsFile, ...scramFormatArgs(config.security)]);
    if (format.code !== 0) {
      throw new StackError('PS_ERR_STACK_START_FAILED', `Formatting Kafka storage in ${paths.kafkaData} failed: ${format.output.trim().split('\n').slice(-3).join(' ')}`);
    }
  }
  removeFile(paths.kafkaPid);
  const pid = spawnDetached(java.executable, ['-Xms256m', '-Xmx1g', ...jvm, 'kafka.Kafka', propsFile], join(paths.kafkaDir, 'kafka.out'), paths.kafkaPid, paths.kafkaDir);
  // A broker that was killed recovers every partition's log before it answers: with the thousands of topics a
  // few test runs leave behind that took over 90 s on two cores, so the wait is generous.
  const ready = await waitUntil(() => kafkaAnswers(config), { timeoutMs: KAFKA_START_TIMEOUT_MS, stillRunning: () => isAlive(pid) });
  if (ready === 'died') throw new StackError('PS_ERR_STACK_START_FAILED', 'Kafka exited during start-up', { logFile: paths.kafkaLog, logTail: tailOf(paths.kafkaLog) });
  if (ready === 'timeout') {
    throw new StackError('PS_ERR_STACK_NOT_READY', `Kafka did not answer on ${brokersOf(config)} within ${KAFKA_START_TIMEOUT_MS / 1000} s`, { logFile: paths.kafkaLog, logTail: tailOf(paths.kafkaLog) });
  }
  return 'started';
}

export async function stopKafka(paths: StackPaths): Promise<number[]> {
  const pids = new Set<number>(processesMentioning(paths.kafkaDir));
  const pid = readPid(paths.kafkaPid);
  if (pid !== undefined && isAlive(pid)) pids.add(pid);
  // Kafka's controlled shutdown takes a few seconds; after 30 s it is hung and gets SIGKILL.
  await Promise.all([...pids].map((p) => stopProcess(p, 30_000)));
  removeFile(paths.kafkaPid);
  return [...pids];
}
