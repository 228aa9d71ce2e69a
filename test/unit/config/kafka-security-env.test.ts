import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppConfigError } from '../../../src/config/config-errors.ts';
import { readKafkaSecurity } from '../../../src/config/kafka-security-env.ts';
import { readRuntimeEnv } from '../../../src/config/runtime-env.ts';

const FIXTURES = 'test/unit/config/fixtures';
const CERT = join(FIXTURES, 'client-cert.pem');
const KEY = join(FIXTURES, 'client-key.pem');
const ENCRYPTED_KEY = join(FIXTURES, 'client-key-encrypted.pem');
const OWN = { KAFKA_BROKERS: 'kafka.example:9093', SCHEMA_REGISTRY_URL: 'https://registry.example/apis/ccompat/v7' };

/** The AppConfigError `fn` throws: its message, which must name the variable. */
function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AppConfigError);
    expect((error as AppConfigError).code).toBe('PS_ERR_APP_CONFIG');
    return (error as Error).message;
  }
  throw new Error('expected an AppConfigError');
}

describe('Kafka security from the environment', () => {
  it('is PLAINTEXT when nothing is set, for the local stack and for your own Kafka', () => {
    expect(readKafkaSecurity({}, false)).toEqual({});
    expect(readRuntimeEnv(OWN).kafkaSecurity).toEqual({});
  });

  it('SASL_SSL with SCRAM-SHA-512 (the default mechanism) and a CA file', () => {
    const s = readKafkaSecurity({ KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_USERNAME: 'alice', KAFKA_SASL_PASSWORD: 'alice-secret', KAFKA_SSL_CA_FILE: CERT }, true);
    expect(s).toEqual({ tls: { ca: readFileSync(CERT, 'utf8') }, sasl: { mechanism: 'SCRAM-SHA-512', username: 'alice', password: 'alice-secret' } });
  });

  it('takes every mechanism, in any case, and the password from a file without its trailing newline', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ps-sasl-'));
    writeFileSync(join(dir, 'pw'), 'from-a-file\n');
    for (const [given, mechanism] of [['scram-sha-256', 'SCRAM-SHA-256'], ['PLAIN', 'PLAIN'], ['SCRAM_SHA_512', 'SCRAM-SHA-512']] as const) {
      const s = readKafkaSecurity({ KAFKA_SECURITY_PROTOCOL: 'sasl_plaintext', KAFKA_SASL_MECHANISM: given, KAFKA_SASL_USERNAME: 'bob', KAFKA_SASL_PASSWORD_FILE: join(dir, 'pw') }, true);
      expect(s).toEqual({ sasl: { mechanism, username: 'bob', password: 'from-a-file' } });
    }
  });

  it('SSL with a client certificate and an encrypted key opened with its passphrase', () => {
    const s = readKafkaSecurity({ KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_CERT_FILE: CERT, KAFKA_SSL_KEY_FILE: ENCRYPTED_KEY, KAFKA_SSL_KEY_PASSWORD: 'fixture-pass' }, true);
    expect(s.sasl).toBeUndefined();
    expect(s.tls).toEqual({ cert: readFileSync(CERT, 'utf8'), key: readFileSync(ENCRYPTED_KEY, 'utf8'), keyPassword: 'fixture-pass' });
  });

  it.each([
    [{ KAFKA_SECURITY_PROTOCOL: 'TLS' }, /KAFKA_SECURITY_PROTOCOL=TLS: expected PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL/],
    [{ KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_PASSWORD: 'x' }, /needs KAFKA_SASL_USERNAME/],
    [{ KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_USERNAME: 'alice' }, /needs KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE/],
    [{ KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_USERNAME: 'a', KAFKA_SASL_PASSWORD: 'x', KAFKA_SASL_PASSWORD_FILE: '/x' }, /KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE are both set/],
    [{ KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_MECHANISM: 'GSSAPI', KAFKA_SASL_USERNAME: 'a', KAFKA_SASL_PASSWORD: 'x' }, /KAFKA_SASL_MECHANISM=GSSAPI: expected SCRAM-SHA-512, SCRAM-SHA-256, PLAIN/],
    [{ KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT', KAFKA_SASL_USERNAME: 'a', KAFKA_SASL_PASSWORD_FILE: '/nonexistent/pw' }, /KAFKA_SASL_PASSWORD_FILE=\/nonexistent\/pw: cannot read the file \(ENOENT\)/],
    // Set but ignored would mean a user believing they authenticate while connecting in the clear.
    [{ KAFKA_SASL_USERNAME: 'alice', KAFKA_SASL_PASSWORD: 'x' }, /KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD set but KAFKA_SECURITY_PROTOCOL=PLAINTEXT: set KAFKA_SECURITY_PROTOCOL=SASL_SSL or SASL_PLAINTEXT/],
    [{ KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT', KAFKA_SASL_USERNAME: 'a', KAFKA_SASL_PASSWORD: 'x', KAFKA_SSL_CA_FILE: CERT }, /KAFKA_SSL_CA_FILE set but KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT: set KAFKA_SECURITY_PROTOCOL=SSL or SASL_SSL/],
    [{ KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_CA_FILE: KEY }, /KAFKA_SSL_CA_FILE=.*client-key\.pem: not a PEM certificate file/],
    [{ KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_CERT_FILE: CERT }, /KAFKA_SSL_CERT_FILE is set without KAFKA_SSL_KEY_FILE/],
    [{ KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_CERT_FILE: CERT, KAFKA_SSL_KEY_FILE: CERT }, /KAFKA_SSL_KEY_FILE=.*: not a PEM private key file/],
    [{ KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_CERT_FILE: CERT, KAFKA_SSL_KEY_FILE: ENCRYPTED_KEY }, /KAFKA_SSL_KEY_FILE=.*: the key cannot be opened \(encrypted\? set its passphrase\)/],
    [{ KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_CERT_FILE: CERT, KAFKA_SSL_KEY_FILE: ENCRYPTED_KEY, KAFKA_SSL_KEY_PASSWORD: 'wrong' }, /KAFKA_SSL_KEY_FILE=.*: the key cannot be opened with the passphrase given/],
  ])('refuses %j, naming the variable', (env, expected) => {
    expect(configError(() => readKafkaSecurity(env, true))).toMatch(expected);
  });

  it('refuses a secured protocol for the local stack, which listens in PLAINTEXT only', () => {
    expect(configError(() => readRuntimeEnv({ KAFKA_SECURITY_PROTOCOL: 'SSL' }))).toMatch(/KAFKA_SECURITY_PROTOCOL=SSL needs KAFKA_BROKERS/);
  });
});
