import { join, resolve } from 'node:path';
import { homedir } from 'node:os';
import { IDENTITY_TYPES } from '../schema/batch.ts';
import type { RegistryEndpoint } from '../schema/subject-registration.ts';
import { DEFAULT_KAFKA_CLIENT, KAFKA_CLIENTS, type KafkaClientName, type KafkaSecurity } from '../streams/index.ts';
import { AppConfigError } from './config-errors.ts';
import { readKafkaSecurity } from './kafka-security-env.ts';
import { readRegistryEndpoint } from './registry-security-env.ts';

/** Settings that differ per deployment rather than per topology: where Kafka is, where state goes, which port. */
export interface RuntimeEnv {
  /** Set when the user brings their own Kafka; otherwise `start` runs the local stack. */
  readonly kafkaBrokers: string[] | undefined;
  /** The registry's URL, without credentials (see `schemaRegistry`). */
  readonly schemaRegistryUrl: string | undefined;
  /** TLS and SASL for every Kafka client (`kafka-security-env.ts`); `{}` is PLAINTEXT. */
  readonly kafkaSecurity: KafkaSecurity;
  /** SCHEMA_REGISTRY_URL with its basic auth and CA (`registry-security-env.ts`); undefined for the local stack. */
  readonly schemaRegistry: RegistryEndpoint | undefined;
  readonly httpHost: string;
  readonly httpPort: number;
  readonly stateDir: string;
  readonly topologyDir: string;
  readonly processingGuarantee: 'at_least_once' | 'exactly_once';
  /** Kafka client of the stream runtime (`KAFKA_CLIENT`). */
  readonly kafkaClient: KafkaClientName;
  /** Standby replicas per stateful task (`STANDBY_REPLICAS`). */
  readonly standbyReplicas: number;
  /** Growth of the resident set, in MiB, after which glibc's free memory goes back to the kernel (`MEMORY_TRIM_GROWTH_MB`; 0: never). */
  readonly memoryTrimGrowthMb: number;
  readonly logLevel: string;
  /** host:port other instances use to reach this one's HTTP API; default HTTP_HOST:HTTP_PORT. */
  readonly applicationServer: string | undefined;
  /** HTTP API limits and the identity type `POST /userprofile/v1/resolve` takes. */
  readonly api: {
    readonly immutableIdType: string;
    readonly bodyLimitBytes: number;
    readonly rateLimitPerMinute: number;
    readonly maxBulk: number;
    readonly maxSeeds: number;
    readonly jsonMaxDepth: number;
  };
  /** Failed-authentication throttling and the scrypt verifier's bounds (`src/api/README.md`). */
  readonly auth: {
    /** Failed authentications per client address in a window before it gets 429. */
    readonly maxFailuresPerAddress: number;
    /** Failed authentications per API key from one address in a window before that pair gets 429. */
    readonly maxFailuresPerKey: number;
    readonly windowSeconds: number;
    /** scrypt checks at once, each on a worker thread of its own. */
    readonly verifyConcurrency: number;
    /** scrypt checks waiting at most; beyond, 503 with Retry-After. */
    readonly verifyQueue: number;
    /** scrypt checks started per second at most (0: no pacing). */
    readonly verifyPerSecond: number;
    /** A refused secret (401, 429, 503) is answered after this long, so a guesser's loop cannot spin. */
    readonly failureDelayMs: number;
  };
}

function intVar(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new AppConfigError(`${name}=${raw}: expected an integer from ${min} to ${max}`);
  return n;
}

function identityTypeVar(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(IDENTITY_TYPES as readonly string[]).includes(raw)) throw new AppConfigError(`${name}=${raw}: expected an identity type (${IDENTITY_TYPES.join(', ')})`);
  return raw;
}

export function readRuntimeEnv(env: NodeJS.ProcessEnv = process.env): RuntimeEnv {
  const brokers = env.KAFKA_BROKERS?.split(',').map((b) => b.trim()).filter(Boolean);
  const registry = readRegistryEndpoint(env);
  if ((brokers?.length ?? 0) > 0 !== (registry !== undefined)) {
    throw new AppConfigError('Set both KAFKA_BROKERS and SCHEMA_REGISTRY_URL to use your own Kafka, or neither to use the local stack');
  }
  const kafkaSecurity = readKafkaSecurity(env, registry !== undefined);
  const guarantee = env.PROCESSING_GUARANTEE ?? 'exactly_once';
  if (guarantee !== 'at_least_once' && guarantee !== 'exactly_once') {
    throw new AppConfigError(`PROCESSING_GUARANTEE=${guarantee}: expected at_least_once or exactly_once`);
  }
  const kafkaClient = env.KAFKA_CLIENT || DEFAULT_KAFKA_CLIENT;
  if (kafkaClient === 'kafkajs') {
    throw new AppConfigError('KAFKA_CLIENT=kafkajs: the kafkajs runtime port was removed (platformatic measured faster and recovers from crashes and broker restarts in seconds, kafkajs is unmaintained); unset KAFKA_CLIENT');
  }
  if (!(KAFKA_CLIENTS as readonly string[]).includes(kafkaClient)) {
    throw new AppConfigError(`KAFKA_CLIENT=${kafkaClient}: expected ${KAFKA_CLIENTS.join(' or ')}`);
  }
  const xdg = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return {
    kafkaBrokers: brokers && brokers.length > 0 ? brokers : undefined,
    schemaRegistryUrl: registry?.url,
    kafkaSecurity,
    schemaRegistry: registry,
    httpHost: env.HTTP_HOST || '127.0.0.1',
    httpPort: intVar(env, 'HTTP_PORT', 8080, 0, 65535),
    stateDir: resolve(env.STATE_DIR || join(env.PROFILE_STREAM_CACHE_DIR || join(xdg, 'profile-stream'), 'state')),
    topologyDir: resolve(env.TOPOLOGY_DIR || 'topology'),
    processingGuarantee: guarantee,
    kafkaClient: kafkaClient as KafkaClientName,
    standbyReplicas: intVar(env, 'STANDBY_REPLICAS', 0, 0, 10),
    memoryTrimGrowthMb: intVar(env, 'MEMORY_TRIM_GROWTH_MB', 0, 0, 1_000_000),
    logLevel: env.LOG_LEVEL || 'info',
    applicationServer: env.APPLICATION_SERVER || undefined,
    api: {
      immutableIdType: identityTypeVar(env, 'IMMUTABLE_ID_TYPE', 'customer_id'),
      bodyLimitBytes: intVar(env, 'HTTP_BODY_LIMIT_BYTES', 1024 * 1024, 1024, 256 * 1024 * 1024),
      rateLimitPerMinute: intVar(env, 'RATE_LIMIT_PER_MINUTE', 6000, 1, 10_000_000),
      maxBulk: intVar(env, 'MAX_BULK_BATCHES', 100, 1, 10_000),
      maxSeeds: intVar(env, 'MAX_SEEDS_PER_REQUEST', 1000, 1, 100_000),
      jsonMaxDepth: intVar(env, 'HTTP_JSON_MAX_DEPTH', 64, 4, 1000),
    },
    auth: {
      maxFailuresPerAddress: intVar(env, 'AUTH_MAX_FAILURES_PER_ADDRESS', 20, 1, 1_000_000),
      maxFailuresPerKey: intVar(env, 'AUTH_MAX_FAILURES_PER_KEY', 5, 1, 1_000_000),
      windowSeconds: intVar(env, 'AUTH_FAILURE_WINDOW_SECONDS', 60, 1, 86_400),
      verifyConcurrency: intVar(env, 'AUTH_VERIFY_CONCURRENCY', 1, 1, 64),
      verifyQueue: intVar(env, 'AUTH_VERIFY_QUEUE', 32, 0, 100_000),
      verifyPerSecond: intVar(env, 'AUTH_VERIFY_PER_SECOND', 2, 0, 10_000),
      failureDelayMs: intVar(env, 'AUTH_FAILURE_DELAY_MS', 1000, 0, 60_000),
    },
  };
}
