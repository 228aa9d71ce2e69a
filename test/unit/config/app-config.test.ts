import { describe, expect, it } from 'vitest';
import { parseAppConfig } from '../../../src/config/app-config.ts';
import { AppConfigError } from '../../../src/config/config-errors.ts';
import { readRuntimeEnv } from '../../../src/config/runtime-env.ts';
import { readFileSync } from 'node:fs';

describe('topology/app.yaml', () => {
  it('the shipped file is valid and names every topic from the application id', () => {
    const c = parseAppConfig(readFileSync('topology/app.yaml', 'utf8'), 'topology/app.yaml');
    expect(c.applicationId).toBe('profile-stream');
    expect(c.rawTopics).toEqual(['profile-stream.raw.web', 'profile-stream.raw.ios', 'profile-stream.raw.android']);
    expect(c.deadLetterTopic).toBe('profile-stream.dlq');
    expect(c.profileLifetimeDays).toBe(30);
  });

  it('fills defaults from the application id', () => {
    const c = parseAppConfig('application_id: shop\n', 'app.yaml');
    expect(c).toMatchObject({ partitions: 4, deadLetterTopic: 'shop.dlq', historyTopic: 'shop.history', historyRetentionDays: 730 });
  });

  it('names the file, path and line of a bad value', () => {
    const text = 'application_id: shop\npartitions: 4\nretention:\n  profile_lifetime_days: 45\n';
    let error: unknown;
    try {
      parseAppConfig(text, 'topology/app.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppConfigError);
    expect((error as AppConfigError).code).toBe('PS_ERR_APP_CONFIG');
    expect((error as Error).message).toContain('retention.profile_lifetime_days');
    expect((error as Error).message).toContain('topology/app.yaml:4');
  });

  it('rejects unknown keys rather than ignoring a typo', () => {
    expect(() => parseAppConfig('partitons: 8\n', 'app.yaml')).toThrow(/partitons|Unrecognized/);
  });

  it('reports YAML syntax errors with the line', () => {
    expect(() => parseAppConfig('sources: [web\n', 'app.yaml')).toThrow(/app\.yaml:\d+/);
  });
});

describe('environment', () => {
  it('uses the local stack unless both Kafka variables are set', () => {
    expect(readRuntimeEnv({}).kafkaBrokers).toBeUndefined();
    expect(readRuntimeEnv({ KAFKA_BROKERS: 'a:1,b:2', SCHEMA_REGISTRY_URL: 'http://r' }).kafkaBrokers).toEqual(['a:1', 'b:2']);
    expect(() => readRuntimeEnv({ KAFKA_BROKERS: 'a:1' })).toThrow(/SCHEMA_REGISTRY_URL/);
  });

  it('rejects a bad port or guarantee with the variable name', () => {
    expect(() => readRuntimeEnv({ HTTP_PORT: 'eighty' })).toThrow(/HTTP_PORT/);
    expect(() => readRuntimeEnv({ PROCESSING_GUARANTEE: 'maybe_once' })).toThrow(/PROCESSING_GUARANTEE/);
  });

  it('reads MEMORY_TRIM_GROWTH_MB: off by default, a whole number of MiB, and names a bad one', () => {
    expect(readRuntimeEnv({}).memoryTrimGrowthMb).toBe(0);
    expect(readRuntimeEnv({ MEMORY_TRIM_GROWTH_MB: '32' }).memoryTrimGrowthMb).toBe(32);
    expect(() => readRuntimeEnv({ MEMORY_TRIM_GROWTH_MB: '-1' })).toThrow(/MEMORY_TRIM_GROWTH_MB=-1: expected an integer from 0/);
    expect(() => readRuntimeEnv({ MEMORY_TRIM_GROWTH_MB: '32MB' })).toThrow(/MEMORY_TRIM_GROWTH_MB/);
  });

  it('reads the Kafka client, defaulting to the runtime\'s, and names a bad one', () => {
    expect(readRuntimeEnv({ KAFKA_CLIENT: 'platformatic' }).kafkaClient).toBe('platformatic');
    expect(readRuntimeEnv({}).kafkaClient).toBe('platformatic');
    expect(() => readRuntimeEnv({ KAFKA_CLIENT: 'kafkajs' })).toThrow(/kafkajs runtime port was removed.*unset KAFKA_CLIENT/);
    expect(() => readRuntimeEnv({ KAFKA_CLIENT: 'librdkafka' })).toThrow(/KAFKA_CLIENT=librdkafka: expected platformatic/);
  });

  it('reads the HTTP API limits, with defaults, and names a bad one', () => {
    expect(readRuntimeEnv({}).api).toEqual({ immutableIdType: 'customer_id', bodyLimitBytes: 1024 * 1024, rateLimitPerMinute: 6000, maxBulk: 100, maxSeeds: 1000, jsonMaxDepth: 64 });
    const set = readRuntimeEnv({ IMMUTABLE_ID_TYPE: 'email', HTTP_BODY_LIMIT_BYTES: '2097152', RATE_LIMIT_PER_MINUTE: '60', MAX_BULK_BATCHES: '10', MAX_SEEDS_PER_REQUEST: '5', HTTP_JSON_MAX_DEPTH: '32' }).api;
    expect(set).toEqual({ immutableIdType: 'email', bodyLimitBytes: 2097152, rateLimitPerMinute: 60, maxBulk: 10, maxSeeds: 5, jsonMaxDepth: 32 });
    expect(() => readRuntimeEnv({ IMMUTABLE_ID_TYPE: 'shoe_size' })).toThrow(/IMMUTABLE_ID_TYPE=shoe_size: expected an identity type \(.*customer_id/);
    expect(() => readRuntimeEnv({ RATE_LIMIT_PER_MINUTE: '0' })).toThrow(/RATE_LIMIT_PER_MINUTE=0: expected an integer from 1/);
  });

  it('reads the authentication limits, with defaults, and names a bad one', () => {
    expect(readRuntimeEnv({}).auth).toEqual({ maxFailuresPerAddress: 20, maxFailuresPerKey: 5, windowSeconds: 60, verifyConcurrency: 1, verifyQueue: 32, verifyPerSecond: 2, failureDelayMs: 1000 });
    const set = readRuntimeEnv({ AUTH_MAX_FAILURES_PER_ADDRESS: '50', AUTH_MAX_FAILURES_PER_KEY: '3', AUTH_FAILURE_WINDOW_SECONDS: '300', AUTH_VERIFY_CONCURRENCY: '2', AUTH_VERIFY_QUEUE: '0', AUTH_VERIFY_PER_SECOND: '0', AUTH_FAILURE_DELAY_MS: '0' }).auth;
    expect(set).toEqual({ maxFailuresPerAddress: 50, maxFailuresPerKey: 3, windowSeconds: 300, verifyConcurrency: 2, verifyQueue: 0, verifyPerSecond: 0, failureDelayMs: 0 });
    expect(() => readRuntimeEnv({ AUTH_VERIFY_CONCURRENCY: '0' })).toThrow(/AUTH_VERIFY_CONCURRENCY=0: expected an integer from 1 to 64/);
    expect(() => readRuntimeEnv({ HTTP_JSON_MAX_DEPTH: 'deep' })).toThrow(/HTTP_JSON_MAX_DEPTH=deep/);
  });
});
