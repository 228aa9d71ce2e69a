import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brokerIds } from './broker-probe.ts';
import type { JavaRuntime } from './java-runtime.ts';
import { isAlive, portOpen, processesMentioning, readPid, removeFile, run, spawnDetached, stopProcess, tailOf, waitUntil } from './process-control.ts';
import { log4j2Properties } from './kafka-node.ts';
import { StackError } from './stack-errors.ts';

const START_TIMEOUT_MS = 240_000;

export interface KafkaClusterOptions {
  readonly host: string;
  /**
   * Node i (1-based) listens on basePort + 10·(i−1) for clients and on the port after it for its controller.
   * Keep them below the machine's ephemeral range (Linux: 32768-60999): a port in it can be taken as the source
   * port of any outgoing connection, even a peer's own attempt to reach that port while the node is starting or
   * down (TCP self-connect), and the node then cannot bind it.
   */
  readonly basePort: number;
  readonly nodes: number;
  /** Each node keeps its data, pid file and logs in `<dir>/node-<i>`. */
  readonly dir: string;
  readonly kafkaLibs: string;
}

export interface ClusterNode {
  readonly id: number;
  readonly port: number;
  readonly controllerPort: number;
  readonly dir: string;
  readonly pidFile: string;
  readonly propsFile: string;
  readonly logFile: string;
}

/**
 * A local KRaft cluster of N nodes, each broker and controller (static quorum of all N), replication factor
 * min(3, N) for every topic by default and for the internal ones, `min.insync.replicas` 2 from three nodes
 * on: one broker can be lost without losing acknowledged writes or stopping producers.
 */
export class KafkaCluster {
  readonly nodes: readonly ClusterNode[];
  #java: JavaRuntime | undefined;

  constructor(private readonly o: KafkaClusterOptions) {
    if (!Number.isInteger(o.nodes) || o.nodes < 1 || o.nodes > 9) throw new StackError('PS_ERR_STACK_START_FAILED', `a cluster has 1 to 9 brokers, not ${o.nodes}`);
    this.nodes = Array.from({ length: o.nodes }, (_, i) => {
      const dir = join(o.dir, `node-${i + 1}`);
      return { id: i + 1, port: o.basePort + 10 * i, controllerPort: o.basePort + 10 * i + 1, dir, pidFile: join(dir, 'kafka.pid'), propsFile: join(dir, 'server.properties'), logFile: join(dir, 'kafka.log') };
    });
  }

  brokers(): string[] {
    return this.nodes.map((n) => `${this.o.host}:${n.port}`);
  }

  #properties(n: ClusterNode): string {
    const { host } = this.o;
    const replicas = Math.min(3, this.nodes.length);
    const minIsr = this.nodes.length >= 3 ? 2 : 1;
    return [
      'process.roles=broker,controller',
      `node.id=${n.id}`,
      `controller.quorum.voters=${this.nodes.map((x) => `${x.id}@${host}:${x.controllerPort}`).join(',')}`,
      `listeners=PLAINTEXT://${host}:${n.port},CONTROLLER://${host}:${n.controllerPort}`,
      `advertised.listeners=PLAINTEXT://${host}:${n.port}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      `log.dirs=${join(n.dir, 'data')}`,
      'num.partitions=1',
      `default.replication.factor=${replicas}`,
      `min.insync.replicas=${minIsr}`,
      `offsets.topic.replication.factor=${replicas}`,
      'offsets.topic.num.partitions=10',
      `transaction.state.log.replication.factor=${replicas}`,
      `transaction.state.log.min.isr=${minIsr}`,
      'transaction.state.log.num.partitions=10',
      `share.coordinator.state.topic.replication.factor=${replicas}`,
      `share.coordinator.state.topic.min.isr=${minIsr}`,
      'group.initial.rebalance.delay.ms=0',
      'auto.create.topics.enable=false',
      '',
    ].join('\n');
  }

  /** Formats the nodes' storage (once, one cluster id) and starts every node; resolves when all N are brokers. */
  async start(java: JavaRuntime): Promise<void> {
    this.#java = java;
    for (const n of this.nodes) {
      if (this.#running(n)) continue;
      for (const p of [n.port, n.controllerPort]) {
        if (await portOpen(this.o.host, p)) throw new StackError('PS_ERR_STACK_PORT_TAKEN', `port ${p} (broker ${n.id}) is taken: stop what listens there or choose another base port`);
      }
    }
    let clusterId: string | undefined;
    for (const n of this.nodes) {
      mkdirSync(join(n.dir, 'data'), { recursive: true });
      writeFileSync(n.propsFile, this.#properties(n));
      writeFileSync(join(n.dir, 'log4j2.properties'), log4j2Properties(n.logFile));
      if (existsSync(join(n.dir, 'data', 'meta.properties'))) continue;
      clusterId ??= (await run(java.executable, [...this.#jvm(n), 'kafka.tools.StorageTool', 'random-uuid'])).output.trim().split(/\s+/).pop();
      const format = await run(java.executable, [...this.#jvm(n), 'kafka.tools.StorageTool', 'format', '-t', clusterId ?? '', '-c', n.propsFile]);
      if (format.code !== 0) throw new StackError('PS_ERR_STACK_START_FAILED', `formatting broker ${n.id}'s storage failed: ${format.output.trim().split('\n').slice(-3).join(' ')}`);
    }
    await Promise.all(this.nodes.map((n) => this.startNode(n.id, false)));
    await this.#waitForBrokers(this.nodes.length);
  }

  #jvm(n: ClusterNode): string[] {
    return [`-Dlog4j2.configurationFile=${join(n.dir, 'log4j2.properties')}`, '-cp', `${this.o.kafkaLibs}/*`];
  }

  /** Starts one (formatted) node again, e.g. after `stopNode`; waits until it is a broker of the cluster again. */
  async startNode(id: number, wait = true): Promise<void> {
    const n = this.#node(id);
    if (this.#running(n)) return;
    removeFile(n.pidFile);
    if (!this.#java) throw new StackError('PS_ERR_STACK_JAVA_MISSING', 'start the cluster with start(java) before restarting one of its brokers');
    const pid = spawnDetached(this.#java.executable, ['-Xms128m', '-Xmx512m', ...this.#jvm(n), 'kafka.Kafka', n.propsFile], join(n.dir, 'kafka.out'), n.pidFile, n.dir);
    if (!wait) return;
    const ready = await waitUntil(() => this.#answers(n), { timeoutMs: START_TIMEOUT_MS, stillRunning: () => isAlive(pid) });
    if (ready !== 'ready') throw new StackError(ready === 'died' ? 'PS_ERR_STACK_START_FAILED' : 'PS_ERR_STACK_NOT_READY', `broker ${id} did not come back`, { logFile: n.logFile, logTail: tailOf(n.logFile) });
  }

  /** Stops one node (controlled shutdown, then SIGKILL after 30 s). */
  async stopNode(id: number): Promise<void> {
    const n = this.#node(id);
    const pids = new Set(processesMentioning(n.dir));
    const pid = readPid(n.pidFile);
    if (pid !== undefined && isAlive(pid)) pids.add(pid);
    await Promise.all([...pids].map((p) => stopProcess(p, 30_000)));
    removeFile(n.pidFile);
  }

  /** kill -9 one node (no controlled shutdown: its leaderships move only once the controller notices it is gone); resolves once it is gone. */
  async killNode(id: number): Promise<void> {
    const n = this.#node(id);
    const pids = new Set(processesMentioning(n.dir));
    const pid = readPid(n.pidFile);
    if (pid !== undefined && isAlive(pid)) pids.add(pid);
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    await waitUntil(async () => [...pids].every((p) => !isAlive(p)), { timeoutMs: 30_000 });
    removeFile(n.pidFile);
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => this.stopNode(n.id)));
  }

  #running(n: ClusterNode): boolean {
    const pid = readPid(n.pidFile);
    return pid !== undefined && isAlive(pid);
  }

  #node(id: number): ClusterNode {
    const n = this.nodes.find((x) => x.id === id);
    if (!n) throw new StackError('PS_ERR_STACK_START_FAILED', `no broker ${id} in this cluster`);
    return n;
  }

  async #answers(n: ClusterNode): Promise<boolean> {
    if (!(await portOpen(this.o.host, n.port))) return false;
    return (await this.#brokerCount([`${this.o.host}:${n.port}`])) > 0;
  }

  async #brokerCount(brokers: string[]): Promise<number> {
    return (await brokerIds(brokers)).length;
  }

  async #waitForBrokers(count: number): Promise<void> {
    const ready = await waitUntil(async () => (await this.#brokerCount(this.brokers())) >= count, { timeoutMs: START_TIMEOUT_MS, stillRunning: () => this.nodes.every((n) => this.#running(n)) });
    if (ready === 'ready') return;
    // Name the node that kept the cluster from forming and show its own log, not node 1's.
    const registered = await brokerIds(this.brokers());
    const missing = this.nodes.filter((n) => !registered.includes(n.id));
    const culprit = missing.find((n) => !this.#running(n)) ?? missing[0] ?? this.nodes[0]!;
    const states = missing.map((n) => `broker ${n.id} ${this.#running(n) ? 'running but not registered (or fenced)' : 'exited'} (log: ${n.logFile})`).join('; ');
    throw new StackError(
      ready === 'died' ? 'PS_ERR_STACK_START_FAILED' : 'PS_ERR_STACK_NOT_READY',
      `the ${count}-broker cluster did not form${ready === 'died' ? '' : ` within ${START_TIMEOUT_MS / 1000} s`}: ${states || 'no node answered'}; below, broker ${culprit.id}'s log`,
      { logFile: culprit.logFile, logTail: tailOf(culprit.logFile, 30) },
    );
  }
}
