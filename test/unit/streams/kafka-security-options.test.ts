import { describe, expect, it } from 'vitest';
import { describeKafkaSecurity, type KafkaSecurity } from '../../../src/streams/index.ts';
import { kafkajsSecurityOptions } from '../../support/kafkajs-security.ts';
import { baseClientOptions } from '../../../src/streams/internals/platformatic/client-options.ts';

const SCRAM: KafkaSecurity = { sasl: { mechanism: 'SCRAM-SHA-512', username: 'alice', password: 'pw' } };
const FULL: KafkaSecurity = { tls: { ca: 'CA-PEM', cert: 'CERT-PEM', key: 'KEY-PEM', keyPassword: 'kp' }, sasl: { mechanism: 'PLAIN', username: 'bob', password: 'pw2' } };

describe('one KafkaSecurity, both clients', () => {
  it('PLAINTEXT adds nothing to either client', () => {
    expect(kafkajsSecurityOptions(undefined)).toEqual({});
    expect(kafkajsSecurityOptions({})).toEqual({});
    const base = baseClientOptions('app', ['127.0.0.1:9092'], {});
    expect(base).not.toHaveProperty('tls');
    expect(base).not.toHaveProperty('sasl');
  });

  it('kafkajs: lower-case mechanism names, TLS options with the certificate always verified', () => {
    expect(kafkajsSecurityOptions(SCRAM)).toEqual({ sasl: { mechanism: 'scram-sha-512', username: 'alice', password: 'pw' } });
    expect(kafkajsSecurityOptions({ sasl: { mechanism: 'SCRAM-SHA-256', username: 'a', password: 'b' } }).sasl).toMatchObject({ mechanism: 'scram-sha-256' });
    expect(kafkajsSecurityOptions(FULL)).toEqual({
      ssl: { rejectUnauthorized: true, ca: 'CA-PEM', cert: 'CERT-PEM', key: 'KEY-PEM', passphrase: 'kp' },
      sasl: { mechanism: 'plain', username: 'bob', password: 'pw2' },
    });
  });

  it('platformatic: Kafka mechanism names; TLS with a server name for host names, none for IP addresses', () => {
    expect(baseClientOptions('app', ['broker-1.example:9093'], SCRAM)).toMatchObject({ sasl: { mechanism: 'SCRAM-SHA-512', username: 'alice', password: 'pw' } });
    const named = baseClientOptions('app', ['broker-1.example:9093', 'broker-2.example:9093'], FULL);
    expect(named).toMatchObject({
      tls: { rejectUnauthorized: true, ca: 'CA-PEM', cert: 'CERT-PEM', key: 'KEY-PEM', passphrase: 'kp' },
      tlsServerName: true,
      sasl: { mechanism: 'PLAIN', username: 'bob', password: 'pw2' },
    });
    expect(baseClientOptions('app', ['127.0.0.1:9093'], FULL)).not.toHaveProperty('tlsServerName');
    expect(baseClientOptions('app', ['[::1]:9093'], FULL)).not.toHaveProperty('tlsServerName');
  });

  it('describes the protocol for start-up lines without the password', () => {
    expect(describeKafkaSecurity(undefined)).toBe('PLAINTEXT');
    expect(describeKafkaSecurity({ tls: {} })).toBe('SSL');
    expect(describeKafkaSecurity(SCRAM)).toBe('SASL_PLAINTEXT (SCRAM-SHA-512 as alice)');
    expect(describeKafkaSecurity(FULL)).toBe('SASL_SSL (PLAIN as bob)');
    expect(describeKafkaSecurity(FULL)).not.toContain('pw2');
  });
});
