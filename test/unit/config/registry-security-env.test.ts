import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppConfigError } from '../../../src/config/config-errors.ts';
import { readRegistryEndpoint } from '../../../src/config/registry-security-env.ts';
import { readRuntimeEnv } from '../../../src/config/runtime-env.ts';

const CERT = join('test/unit/config/fixtures', 'client-cert.pem');
const URL_ = 'https://registry.example:8081/apis/ccompat/v7';

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AppConfigError);
    return (error as Error).message;
  }
  throw new Error('expected an AppConfigError');
}

describe('schema registry endpoint from the environment', () => {
  it('is the URL alone without credentials, and nothing for the local stack', () => {
    expect(readRegistryEndpoint({ SCHEMA_REGISTRY_URL: URL_ })).toEqual({ url: URL_ });
    expect(readRegistryEndpoint({})).toBeUndefined();
  });

  it('basic auth from SCHEMA_REGISTRY_USERNAME/PASSWORD and a CA for https', () => {
    expect(readRegistryEndpoint({ SCHEMA_REGISTRY_URL: URL_, SCHEMA_REGISTRY_USERNAME: 'KEY1', SCHEMA_REGISTRY_PASSWORD: 's3cret', SCHEMA_REGISTRY_CA_FILE: CERT })).toEqual({
      url: URL_,
      basicAuth: { username: 'KEY1', password: 's3cret' },
      ca: readFileSync(CERT, 'utf8'),
    });
  });

  it('moves user:password@ out of the URL (fetch refuses URLs with credentials), and the URL shown has none', () => {
    const e = readRegistryEndpoint({ SCHEMA_REGISTRY_URL: 'https://KEY1:p%40ss@registry.example/apis/ccompat/v7' });
    expect(e).toEqual({ url: 'https://registry.example/apis/ccompat/v7', basicAuth: { username: 'KEY1', password: 'p@ss' } });
    expect(readRuntimeEnv({ KAFKA_BROKERS: 'k:9092', SCHEMA_REGISTRY_URL: 'https://KEY1:pw@registry.example/x' }).schemaRegistryUrl).toBe('https://registry.example/x');
  });

  it.each([
    [{ SCHEMA_REGISTRY_URL: URL_, SCHEMA_REGISTRY_USERNAME: 'KEY1' }, /SCHEMA_REGISTRY_USERNAME is set without SCHEMA_REGISTRY_PASSWORD/],
    [{ SCHEMA_REGISTRY_URL: URL_, SCHEMA_REGISTRY_PASSWORD: 'x' }, /SCHEMA_REGISTRY_PASSWORD is set without SCHEMA_REGISTRY_USERNAME/],
    [{ SCHEMA_REGISTRY_URL: 'http://registry.example/x', SCHEMA_REGISTRY_CA_FILE: CERT }, /SCHEMA_REGISTRY_CA_FILE is set but SCHEMA_REGISTRY_URL=http:\/\/registry.example\/x is not https/],
    [{ SCHEMA_REGISTRY_URL: 'https://a:b@registry.example/x', SCHEMA_REGISTRY_USERNAME: 'c', SCHEMA_REGISTRY_PASSWORD: 'd' }, /give the credentials one way/],
    [{ SCHEMA_REGISTRY_URL: 'registry.example:8081' }, /SCHEMA_REGISTRY_URL=registry.example:8081: expected an http:\/\/ or https:\/\/ URL/],
    [{ SCHEMA_REGISTRY_USERNAME: 'KEY1', SCHEMA_REGISTRY_PASSWORD: 'x' }, /SCHEMA_REGISTRY_USERNAME, SCHEMA_REGISTRY_PASSWORD set without SCHEMA_REGISTRY_URL/],
  ])('refuses %j, naming the variable', (env, expected) => {
    expect(configError(() => readRegistryEndpoint(env))).toMatch(expected);
  });
});
