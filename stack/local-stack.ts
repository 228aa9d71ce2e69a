import { mkdirSync } from 'node:fs';
import { findJava } from './java-runtime.ts';
import { ensureArtifacts, type Progress } from './stack-artifacts.ts';
import { kafkaStatus, startKafka, stopKafka } from './kafka-node.ts';
import { registryStatus, startRegistry, stopRegistry } from './registry-node.ts';
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
  kafka: string;
  registry: string;
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

  async up(progress: Progress = () => undefined): Promise<StackEndpoints> {
    const java = await findJava();
    mkdirSync(this.paths.runDir, { recursive: true });
    await ensureArtifacts(this.config, this.paths, progress);
    progress(`starting Kafka ${brokersOf(this.config)}`);
    const kafka = await startKafka(this.config, this.paths, java);
    progress(`Kafka ${kafka === 'reused' ? 'already running' : 'started'} on ${brokersOf(this.config)}`);
    progress(`starting schema registry ${registryUrlOf(this.config)}`);
    const registry = await startRegistry(this.config, this.paths, java);
    progress(`schema registry ${registry === 'reused' ? 'already running' : 'started'} at ${registryUrlOf(this.config)}`);
    return {
      brokers: brokersOf(this.config),
      schemaRegistryUrl: registryUrlOf(this.config),
      kafkaLog: this.paths.kafkaLog,
      registryLog: this.paths.registryLog,
      kafka,
      registry,
    };
  }

  /** Stops both processes (graceful, then forced); returns the pids that were stopped. */
  async down(): Promise<number[]> {
    const [registry, kafka] = await Promise.all([stopRegistry(this.paths), stopKafka(this.paths)]);
    return [...registry, ...kafka];
  }

  async status(): Promise<StackStatus> {
    const describe = (s: Awaited<ReturnType<typeof kafkaStatus>>) =>
      s.state === 'running' ? `running (pid ${s.pid ?? '?'})` : s.state === 'foreign' ? 'port taken by another process' : 'stopped';
    return {
      brokers: brokersOf(this.config),
      schemaRegistryUrl: registryUrlOf(this.config),
      kafka: describe(await kafkaStatus(this.config, this.paths)),
      registry: describe(await registryStatus(this.config, this.paths)),
      cacheDir: this.config.cacheDir,
    };
  }
}
