import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { findJava, type JavaRuntime } from '../../stack/java-runtime.ts';
import { KafkaCluster } from '../../stack/kafka-cluster.ts';
import { startKafka, stopKafka } from '../../stack/kafka-node.ts';
import { startRegistry, stopRegistry } from '../../stack/registry-node.ts';
import { ensureArtifacts } from '../../stack/stack-artifacts.ts';
import { brokersOf, registryUrlOf, stackConfig, stackPaths, type StackConfig, type StackPaths } from '../../stack/stack-config.ts';
import { log } from '../lib/progress.ts';

/** A port nobody listens on right now (the kernel's pick), for a process started next. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A Kafka broker or schema registry of the chaos run's own: own ports, own data directory under `root`,
 * the jars of the shared stack's cache. The scenarios stop and start it; the shared stack other runs use
 * (9092, 8081) is never touched.
 */
export class PrivateNode {
  private constructor(
    readonly kind: 'kafka' | 'registry',
    private readonly config: StackConfig,
    private readonly paths: StackPaths,
    private readonly java: JavaRuntime,
  ) {}

  static async create(kind: 'kafka' | 'registry', root: string): Promise<PrivateNode> {
    const shared = stackConfig();
    const config: StackConfig = {
      ...shared,
      runDir: join(root, kind),
      kafkaPort: await freePort(),
      controllerPort: await freePort(),
      registryPort: await freePort(),
    };
    const paths = stackPaths(config);
    mkdirSync(paths.runDir, { recursive: true });
    // A fresh clone has no jars yet: fetched once into the shared cache, as `npm start` does.
    await ensureArtifacts(config, paths, (m) => log(m));
    return new PrivateNode(kind, config, paths, await findJava());
  }

  get brokers(): string {
    return brokersOf(this.config);
  }

  get registryUrl(): string {
    return registryUrlOf(this.config);
  }

  get logFile(): string {
    return this.kind === 'kafka' ? this.paths.kafkaLog : this.paths.registryLog;
  }

  /** Starts the process and resolves once it answers (a metadata request / GET /subjects). */
  async start(): Promise<void> {
    if (this.kind === 'kafka') await startKafka(this.config, this.paths, this.java);
    else await startRegistry(this.config, this.paths, this.java);
  }

  /** SIGTERM (Kafka: controlled shutdown), SIGKILL after a grace period; resolves once it is gone. */
  async stop(): Promise<void> {
    if (this.kind === 'kafka') await stopKafka(this.paths);
    else await stopRegistry(this.paths);
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A base port for a KafkaCluster of `nodes` (node i on base + 10·(i−1) and the port after it) whose ports
 * are all free now: tried at random in 20000–59990, as the kernel's own picks (32768 and up on Linux) may
 * land between them later, but not before the cluster binds them a few seconds after.
 */
async function freeClusterBase(nodes: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    // Below the ephemeral range (from 32768): see KafkaClusterOptions.basePort.
    const base = 20_000 + 10 * Math.floor(Math.random() * 1200);
    const ports = Array.from({ length: nodes }, (_, i) => [base + 10 * i, base + 10 * i + 1]).flat();
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return base;
  }
  throw new Error(`no free base port for a ${nodes}-broker cluster after 200 tries`);
}

/**
 * A KRaft cluster of the chaos run's own (stack/kafka-cluster.ts, as `profile-stream stack up --brokers 3`
 * starts it: replication factor 3, min.insync.replicas 2), on free ports with its data under `root`, the jars
 * of the shared stack's cache. The scenario stops and kills its brokers one at a time.
 */
export class PrivateCluster {
  private constructor(readonly cluster: KafkaCluster, private readonly java: JavaRuntime) {}

  static async create(root: string, nodes: number): Promise<PrivateCluster> {
    const config: StackConfig = { ...stackConfig(), runDir: join(root, 'cluster') };
    const paths = stackPaths(config);
    mkdirSync(paths.runDir, { recursive: true });
    await ensureArtifacts(config, paths, (m) => log(m));
    const cluster = new KafkaCluster({ host: '127.0.0.1', basePort: await freeClusterBase(nodes), nodes, dir: paths.runDir, kafkaLibs: paths.kafkaLibs });
    return new PrivateCluster(cluster, await findJava());
  }

  get brokers(): string[] {
    return this.cluster.brokers();
  }

  start(): Promise<void> {
    return this.cluster.start(this.java);
  }

  stop(): Promise<void> {
    return this.cluster.stop();
  }
}
