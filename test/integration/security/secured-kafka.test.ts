import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics } from '../../../src/app/kafka/topic-admin.ts';
import { partitionForKey, StreamsApp, type KafkaSecurity, type StreamsError } from '../../../src/streams/index.ts';
import { schemaRegistryUrl, uniqueName } from '../../support/stack-env.ts';
import { testDeployment } from '../../support/test-deployment.ts';
import { kafkajsSecurityOptions } from '../../support/kafkajs-security.ts';
import { countingTopology } from '../../unit/streams/support.ts';
import { eventually, fastGroup, quietLogger } from '../streams/helpers.ts';
import { startRegistryProxy } from './registry-proxy.ts';
import { startSecuredBroker, USER, type SecuredBroker } from './secured-broker.ts';

const { Kafka, logLevel } = kafkajs;
const BIN = resolve('bin/profile-stream.js');
const CLIENTS = ['platformatic'] as const;
/** A certificate that did not sign the broker's: trusting only it must fail the TLS handshake. */
const OTHER_CA = resolve('test/unit/config/fixtures/client-cert.pem');

function cli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 90_000): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: timeoutMs }, (error, stdout, stderr) => {
      done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** `profile-stream start` in the background, resolved once it says it is running (or failing with its output). */
async function startService(env: NodeJS.ProcessEnv): Promise<{ output: () => string; stop(): Promise<number | null> }> {
  let output = '';
  const child: ChildProcess = spawn(process.execPath, [BIN, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`service did not start within 120 s:\n${output}`)), 120_000);
    const check = setInterval(() => {
      if (!output.includes('profile-stream is running')) return;
      clearInterval(check);
      clearTimeout(timer);
      ready();
    }, 100);
    child.once('exit', (code) => {
      clearInterval(check);
      clearTimeout(timer);
      fail(new Error(`service exited with ${code}:\n${output}`));
    });
  });
  return {
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** MPIDs of produce's `topic:partition@offset  mpid M  source_request_id ID` lines. */
function producedMpids(stdout: string): string[] {
  return [...stdout.matchAll(/^\S+:\d+@\d+ +mpid (\d+) +source_request_id \S+$/gm)].map((m) => m[1]!);
}

describe('Kafka with SASL and TLS listeners (a private broker), the schema registry behind basic auth and TLS', () => {
  let root: string;
  let broker: SecuredBroker;
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ps-secured-kafka-'));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    broker = await startSecuredBroker(root, 26392);
    cleanups.push(() => broker.stop());
  });

  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  /** A topology dir of its own (own application id, so own topics and group) and the service's environment. */
  async function serviceEnv(extra: NodeJS.ProcessEnv): Promise<{ env: NodeJS.ProcessEnv; outputTopic: string }> {
    const { deployment, appYaml, integrationsYaml } = testDeployment({ sources: ['web'], partitions: 2 });
    const dir = await mkdtemp(join(root, 'topology-'));
    await writeFile(join(dir, 'app.yaml'), appYaml);
    await writeFile(join(dir, 'integrations.yaml'), integrationsYaml);
    const env: NodeJS.ProcessEnv = { ...process.env, TOPOLOGY_DIR: dir, STATE_DIR: join(dir, 'state'), HTTP_PORT: '0', LOG_LEVEL: 'warn', SCHEMA_REGISTRY_URL: schemaRegistryUrl(), ...extra };
    return { env, outputTopic: deployment.integrations.find((i) => i.name === 'all')!.outputTopic };
  }

  /** produce --sample 5, then consume the `all` output: every produced MPID comes out enriched. */
  async function producedBatchesComeOutEnriched(env: NodeJS.ProcessEnv, outputTopic: string): Promise<void> {
    const produced = await cli(['produce', '--sample', '5'], env);
    expect(produced.code, produced.stderr).toBe(0);
    const mpids = producedMpids(produced.stdout);
    expect(mpids).toHaveLength(5);
    const consumed = await cli(['consume', outputTopic, '--count', '5', '--timeout', '60'], env);
    expect(consumed.code, consumed.stderr).toBe(0);
    const lines = consumed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { value: { integration: string; profile: { mpid: string } } });
    expect(lines.map((l) => l.value.integration)).toEqual(['all', 'all', 'all', 'all', 'all']);
    expect(lines.map((l) => l.value.profile.mpid).sort()).toEqual([...mpids].sort());
  }

  it.each(CLIENTS)('the service on %s with SCRAM-SHA-512 over SASL_PLAINTEXT: batches produced by the CLI come out enriched', async (client) => {
    const { env, outputTopic } = await serviceEnv({
      KAFKA_CLIENT: client,
      KAFKA_BROKERS: broker.saslPlaintext,
      KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT',
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: USER.name,
      KAFKA_SASL_PASSWORD: USER.password,
    });
    const service = await startService(env);
    cleanups.push(() => service.stop());
    expect(service.output()).toContain(`Kafka:           ${broker.saslPlaintext} SASL_PLAINTEXT (SCRAM-SHA-512 as alice)`);
    await producedBatchesComeOutEnriched(env, outputTopic);
    expect(await service.stop()).toBe(0);
    expect(service.output()).not.toContain(USER.password);
  });

  it('the service over SASL_SSL with PLAIN and the broker CA, the registry over https with basic auth: end to end', async () => {
    const proxy = await startRegistryProxy({ upstream: schemaRegistryUrl(), keystore: broker.keystore, username: 'registry-user', password: 'registry-pass' });
    cleanups.push(() => proxy.close());
    const pwFile = join(root, 'sasl-password');
    await writeFile(pwFile, `${USER.password}\n`);
    const { env, outputTopic } = await serviceEnv({
      KAFKA_BROKERS: broker.saslSsl,
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_MECHANISM: 'PLAIN',
      KAFKA_SASL_USERNAME: USER.name,
      KAFKA_SASL_PASSWORD_FILE: pwFile,
      KAFKA_SSL_CA_FILE: broker.caFile,
      SCHEMA_REGISTRY_URL: proxy.url(''),
      SCHEMA_REGISTRY_USERNAME: 'registry-user',
      SCHEMA_REGISTRY_PASSWORD: 'registry-pass',
      SCHEMA_REGISTRY_CA_FILE: broker.caFile,
    });
    const service = await startService(env);
    cleanups.push(() => service.stop());
    expect(service.output()).toContain(`Kafka:           ${broker.saslSsl} SASL_SSL (PLAIN as alice)`);
    expect(service.output()).toContain(`Schema registry: ${proxy.url('')} (basic auth as registry-user)`);
    await producedBatchesComeOutEnriched(env, outputTopic);
    expect(await service.stop()).toBe(0);
    // The schemas were registered and read through the authenticating proxy, never without credentials.
    expect(proxy.counts.allowed).toBeGreaterThan(0);
    expect(proxy.counts.refused).toBe(0);
  });

  it('the CLI with a wrong password: start and produce stop at once with PS_ERR_KAFKA_AUTHENTICATION instead of retrying', async () => {
    const { env } = await serviceEnv({ KAFKA_BROKERS: broker.saslPlaintext, KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT', KAFKA_SASL_USERNAME: USER.name, KAFKA_SASL_PASSWORD: 'not-the-password' });
    for (const args of [['start'], ['produce', '--sample', '1']]) {
      const run = await cli(args, env, 60_000);
      expect(run.code, `${args[0]}: ${run.stdout}${run.stderr}`).toBe(1);
      expect(run.stderr).toContain('[PS_ERR_KAFKA_AUTHENTICATION] Kafka refused the SASL credentials');
      expect(run.stderr).not.toContain('not-the-password');
      console.log(`wrong password: ${args[0]} exited after ${run.ms} ms`);
      expect(run.ms).toBeLessThan(30_000);
    }
  });

  /** The counting topology on `client` over `brokers` with `security`: topics created and records produced through the same security. */
  async function countingRun(client: (typeof CLIENTS)[number], brokers: string, security: KafkaSecurity): Promise<{ app: StreamsApp; input: string; send(n: number): Promise<Map<string, number>> }> {
    const input = uniqueName('sec-in');
    const output = uniqueName('sec-out');
    await ensureTopics([brokers], [input, output].map((topic) => ({ topic, partitions: 2, purpose: 'test', config: {} })), security);
    const app = new StreamsApp(countingTopology(input, output), {
      applicationId: uniqueName(`sec-${client}`),
      brokers: [brokers],
      security,
      kafkaClient: client,
      stateDir: join(root, uniqueName('state')),
      processingGuarantee: 'exactly_once',
      commitIntervalMs: 100,
      logger: quietLogger,
      ...fastGroup,
    });
    cleanups.push(() => app.close());
    const send = async (n: number) => {
      const producer = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING, ...kafkajsSecurityOptions(security) }).producer();
      await producer.connect();
      const expected = new Map<string, number>();
      const messages = Array.from({ length: n }, (_, i) => {
        const key = `user-${i % 10}`;
        expected.set(key, (expected.get(key) ?? 0) + 1);
        return { key, value: 'x', partition: partitionForKey(Buffer.from(key), 2) };
      });
      await producer.send({ topic: input, acks: -1, messages });
      await producer.disconnect();
      return expected;
    };
    return { app, input, send };
  }

  it.each(CLIENTS)('the runtime on %s over SASL_SSL with SCRAM-SHA-256 counts every record exactly once', async (client) => {
    const { app, send } = await countingRun(client, broker.saslSsl, { tls: { ca: broker.caPem }, sasl: { mechanism: 'SCRAM-SHA-256', username: USER.name, password: USER.password } });
    await app.start();
    await app.waitForState('RUNNING');
    const expected = await send(100);
    await eventually(async () => {
      const got = new Map<string, number>();
      for await (const { key, value } of app.store<string, number>('counts').range()) got.set(key, value);
      return got.size === expected.size && [...expected].every(([k, v]) => got.get(k) === v);
    }, 60_000, 'the counts of 100 records');
    await app.close();
  });

  it.each(CLIENTS)('the runtime on %s with a wrong password: start() rejects with PS_ERR_KAFKA_AUTHENTICATION, not an outage', async (client) => {
    const app = new StreamsApp(countingTopology('never-read-in', 'never-read-out'), {
      applicationId: uniqueName(`sec-wrong-${client}`),
      brokers: [broker.saslPlaintext],
      security: { sasl: { mechanism: 'SCRAM-SHA-512', username: USER.name, password: 'not-the-password' } },
      kafkaClient: client,
      stateDir: join(root, uniqueName('state')),
      logger: quietLogger,
    });
    cleanups.push(() => app.close());
    const started = Date.now();
    const error = (await app.start().then(() => undefined, (e: unknown) => e)) as StreamsError | undefined;
    console.log(`wrong password: the ${client} runtime refused to start after ${Date.now() - started} ms`);
    expect(error?.code, String(error)).toBe('PS_ERR_KAFKA_AUTHENTICATION');
    expect(error?.retriable).toBe(false);
    expect(error?.message).not.toContain('not-the-password');
    expect(app.outage).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it.each(CLIENTS)('the runtime on %s trusting another CA: start() rejects with PS_ERR_KAFKA_TLS', async (client) => {
    const app = new StreamsApp(countingTopology('never-read-in', 'never-read-out'), {
      applicationId: uniqueName(`sec-tls-${client}`),
      brokers: [broker.ssl],
      security: { tls: { ca: await readFile(OTHER_CA, 'utf8') } },
      kafkaClient: client,
      stateDir: join(root, uniqueName('state')),
      logger: quietLogger,
    });
    cleanups.push(() => app.close());
    const started = Date.now();
    const error = (await app.start().then(() => undefined, (e: unknown) => e)) as StreamsError | undefined;
    console.log(`untrusted certificate: the ${client} runtime refused to start after ${Date.now() - started} ms`);
    expect(error?.code, String(error)).toBe('PS_ERR_KAFKA_TLS');
    expect(error?.message).toMatch(/SELF_SIGNED|self-signed|unable to verify/i);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
