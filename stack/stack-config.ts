import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrokerSecurity } from './broker-security.ts';

/** Versions are pinned in one place; stack/pom.xml carries the same Kafka version. */
export const KAFKA_VERSION = '4.1.1';
/**
 * Apicurio Registry 3.0.9: the newest 3.x on Maven Central that runs on Java 17 (3.1.7 is not served there,
 * 3.3.x needs Java 21). Its Confluent-compatible API lives under /apis/ccompat/v7.
 */
export const APICURIO_VERSION = '3.0.9';

export interface StackConfig {
  cacheDir: string;
  kafkaPort: number;
  controllerPort: number;
  registryPort: number;
  host: string;
  /** Directory of stack/pom.xml. */
  stackDir: string;
  /**
   * Where the processes keep their data, pid files and logs; `<cacheDir>/run` unless set. The test suite gives
   * its own stack a fresh one, so it never replays a killed broker's logs from an earlier run.
   */
  runDir?: string;
  /** SASL/TLS listeners beside the PLAINTEXT one, for tests of secured clients (`broker-security.ts`); the stack itself has none. */
  security?: BrokerSecurity;
}

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new Error(`${name}=${raw} is not a TCP port (1-65535)`);
  return n;
}

export function stackConfig(): StackConfig {
  const xdg = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return {
    cacheDir: resolve(process.env.PROFILE_STREAM_CACHE_DIR || join(xdg, 'profile-stream')),
    kafkaPort: port('STACK_KAFKA_PORT', 9092),
    controllerPort: port('STACK_CONTROLLER_PORT', 9093),
    registryPort: port('STACK_REGISTRY_PORT', 8081),
    host: '127.0.0.1',
    stackDir: pomDir(),
  };
}

/** Where stack/pom.xml is: beside this module, or in the repository's stack/ when running from dist/. */
function pomDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [here, resolve(here, '..', '..', 'stack')];
  return candidates.find((d) => existsSync(join(d, 'pom.xml'))) ?? here;
}

export interface StackPaths {
  kafkaLibs: string;
  apicurioHome: string;
  runDir: string;
  kafkaDir: string;
  kafkaData: string;
  kafkaLog: string;
  kafkaPid: string;
  registryDir: string;
  registryLog: string;
  registryPid: string;
  mavenLog: string;
}

export function stackPaths(config: StackConfig): StackPaths {
  const runDir = config.runDir ?? join(config.cacheDir, 'run');
  const kafkaDir = join(runDir, 'kafka');
  const registryDir = join(runDir, 'registry');
  return {
    kafkaLibs: join(config.cacheDir, `kafka-${KAFKA_VERSION}`, 'libs'),
    apicurioHome: join(config.cacheDir, `apicurio-registry-${APICURIO_VERSION}`),
    runDir,
    kafkaDir,
    kafkaData: join(kafkaDir, 'data'),
    kafkaLog: join(kafkaDir, 'kafka.log'),
    kafkaPid: join(kafkaDir, 'kafka.pid'),
    registryDir,
    registryLog: join(registryDir, 'registry.log'),
    registryPid: join(registryDir, 'registry.pid'),
    mavenLog: join(config.cacheDir, 'maven.log'),
  };
}

export function brokersOf(config: StackConfig): string {
  return `${config.host}:${config.kafkaPort}`;
}

export function registryUrlOf(config: StackConfig): string {
  return `http://${config.host}:${config.registryPort}/apis/ccompat/v7`;
}
