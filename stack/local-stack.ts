import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { KafkaCluster } from './kafka-cluster.ts';
import { processesMentioning, stopProcess } from './process-control.ts';
import { StackError } from './stack-errors.ts';
import { findJava } from './java-runtime.ts';
import { ensureArtifacts, type Progress } from './stack-artifacts.ts';
import { kafkaAnswers, kafkaStatus, startKafka, stopKafka, type NodeStatus } from './kafka-node.ts';
import { registryAnswers, registryStatus, startRegistry, stopRegistry } from './registry-node.ts';
import { brokersOf, registryUrlOf, stackConfig, stackPaths, type StackConfig, type StackPaths } from './stack-config.ts';

export interface StackEndpoints {
  brokers: string;
  schemaRegistryUrl: string;
  kafkaLog: string;
  registryLog: string;
  /** What `up` did for each part: started now, or found running and reused. */
  kafka: 'started' | 'reused';
  registry: 'started' | 'reused';
}

export interface StackStatus {
  brokers: string;
  schemaRegistryUrl: string;
  /** What was found, in words for people. */
  kafka: string;
  registry: string;
  /** Whether a Kafka broker / schema registry really answered at `brokers` / `schemaRegistryUrl`. */
  kafkaAnswers: boolean;
  registryAnswers: boolean;
  cacheDir: string;
}

/**
 * The local stack without Docker: Kafka (KRaft) and Apicurio Registry from Maven Central, run as detached
 * Java processes whose state and logs live in the cache directory, so they outlive the command that
 * started them and a second `up` reuses them. Idempotent.
 */
export class LocalStack {
  readonly config: StackConfig;
  readonly paths: StackPaths;

  constructor(config: StackConfig = stackConfig()) {
    this.config = config;
    this.paths = stackPaths(config);
  }

  /** `brokers` > 1: a KRaft cluster of that many nodes instead of the single broker (`kafka-cluster.ts`). */
  async up(progress: Progress = () => undefined, options: { brokers?: number } = {}): Promise<StackEndpoints> {
    const java = await findJava();
    mkdirSync(this.paths.runDir, { recursive: true });
    await ensureArtifacts(this.config, this.paths, progress);
    let kafka: 'started' | 'reused';
    let brokers = brokersOf(this.config);
    const nodes = options.brokers ?? 1;
    if (nodes > 1) {
      if ((await kafkaStatus(this.config, this.paths)).state === 'running') {
        throw new StackError('PS_ERR_STACK_PORT_TAKEN', `the single-broker stack runs on ${brokersOf(this.config)}: stop it first (npm run stack:down) to start a ${nodes}-broker cluster`);
      }
      const cluster = this.#cluster(nodes);
      progress(`starting a ${nodes}-broker Kafka cluster on ${cluster.brokers().join(',')}`);
      await cluster.start(java);
      kafka = 'started';
      brokers = cluster.brokers().join(',');
      progress(`Kafka cluster of ${nodes} brokers running on ${brokers} (replication factor ${Math.min(3, nodes)}, min.insync.replicas ${nodes >= 3 ? 2 : 1})`);
    } else {
      progress(`starting Kafka ${brokersOf(this.config)}`);
      kafka = await startKafka(this.config, this.paths, java);
      progress(`Kafka ${kafka === 'reused' ? 'already running' : 'started'} on ${brokersOf(this.config)}`);
    }
    progress(`starting schema registry ${registryUrlOf(this.config)}`);
    const registry = await startRegistry(this.config, this.paths, java);
    progress(`schema registry ${registry === 'reused' ? 'already running' : 'started'} at ${registryUrlOf(this.config)}`);
    return {
      brokers,
      schemaRegistryUrl: registryUrlOf(this.config),
      kafkaLog: nodes > 1 ? this.#cluster(nodes).nodes[0]!.logFile : this.paths.kafkaLog,
      registryLog: this.paths.registryLog,
      kafka,
      registry,
    };
  }

  /** Stops both processes (graceful, then forced); returns the pids that were stopped. */
  async down(): Promise<number[]> {
    const clusterDir = join(this.paths.runDir, 'kafka-cluster');
    const cluster = processesMentioning(clusterDir);
    const [registry, kafka] = await Promise.all([stopRegistry(this.paths), stopKafka(this.paths), ...cluster.map((p) => stopProcess(p, 30_000))]);
    return [...registry, ...kafka, ...cluster];
  }

  #cluster(nodes: number): KafkaCluster {
    return new KafkaCluster({ host: this.config.host, basePort: this.config.kafkaPort, nodes, dir: join(this.paths.runDir, 'kafka-cluster'), kafkaLibs: this.paths.kafkaLibs });
  }

  /**
   * What really listens on the configured ports: each part is asked (Kafka: a metadata request; the
   * registry: GET /subjects), not only looked up by pid file, so a stack started on other ports is not
   * reported as running here.
   */
  async status(): Promise<StackStatus> {
    const [kafka, registry, kafkaOk, registryOk] = await Promise.all([
      kafkaStatus(this.config, this.paths),
      registryStatus(this.config, this.paths),
      kafkaAnswers(this.config),
      registryAnswers(this.config),
    ]);
    const describe = (s: NodeStatus, answers: boolean): string => {
      if (s.state === 'elsewhere') return `not here: our process (pid ${s.pid ?? '?'}) listens on port ${s.port} (started with another port setting)`;
      if (s.state === 'running') return answers ? `running (pid ${s.pid ?? '?'})` : `process running (pid ${s.pid ?? '?'}) but not answering (starting, or hung: see its log)`;
      if (s.state === 'foreign') return answers ? 'answering, but not started by this stack (another process on the port)' : 'port taken by another process';
      return 'stopped';
    };
    return {
      brokers: brokersOf(this.config),
      schemaRegistryUrl: registryUrlOf(this.config),
      kafka: describe(kafka, kafkaOk),
      registry: describe(registry, registryOk),
      kafkaAnswers: kafkaOk,
      registryAnswers: registryOk,
      cacheDir: this.config.cacheDir,
    };
  }
}
