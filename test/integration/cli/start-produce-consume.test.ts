import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaBrokers, schemaRegistryUrl } from '../../support/stack-env.ts';
import { testDeployment } from '../../support/test-deployment.ts';

const BIN = resolve('bin/profile-stream.js');

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 90_000 }, (error, stdout, stderr) => {
      done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('profile-stream start, produce --sample 10, consume', () => {
  const { deployment, appYaml, integrationsYaml } = testDeployment({ sources: ['web', 'ios'] });
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let service: ChildProcess;
  let stdout = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ps-cli-'));
    await writeFile(join(dir, 'app.yaml'), appYaml);
    await writeFile(join(dir, 'integrations.yaml'), integrationsYaml);
    env = {
      ...process.env,
      KAFKA_BROKERS: kafkaBrokers().join(','),
      SCHEMA_REGISTRY_URL: schemaRegistryUrl(),
      TOPOLOGY_DIR: dir,
      STATE_DIR: join(dir, 'state'),
      HTTP_PORT: '0',
      LOG_LEVEL: 'warn',
    };
    service = spawn(process.execPath, [BIN, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    service.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    service.stderr!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    await new Promise<void>((ready, fail) => {
      const timer = setTimeout(() => fail(new Error(`service did not start:\n${stdout}`)), 90_000);
      const check = setInterval(() => {
        if (stdout.includes('profile-stream is running')) {
          clearInterval(check);
          clearTimeout(timer);
          ready();
        }
      }, 100);
      service.once('exit', (code) => fail(new Error(`service exited with ${code}:\n${stdout}`)));
    });
  });

  afterAll(async () => {
    if (service.exitCode === null) service.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('prints where things are', () => {
    expect(stdout).toContain(`Kafka:           ${kafkaBrokers().join(',')}`);
    expect(stdout).toContain(deployment.app.rawTopics[0]);
    expect(stdout).toMatch(/HTTP: +http:\/\/127\.0\.0\.1:\d+/);
  });

  it('shows 10 enriched batches on the output topic', async () => {
    const produced = await cli(['produce', '--sample', '10'], env);
    expect(produced.stderr).toBe('');
    expect(produced.stdout).toContain('10 batch(es)');
    const all = deployment.integrations.find((i) => i.name === 'all')!;
    const consumed = await cli(['consume', all.outputTopic, '--count', '10', '--timeout', '60'], env);
    expect(consumed.code).toBe(0);
    const lines = consumed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { value: { integration: string; profile: { mpid: string } } });
    expect(lines).toHaveLength(10);
    for (const line of lines) {
      expect(line.value.integration).toBe('all');
      expect(line.value.profile.mpid).toMatch(/^-?\d+$/);
    }
  });

  it('stops cleanly on SIGINT', async () => {
    const exited = new Promise<number | null>((done) => service.once('exit', (code) => done(code)));
    service.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stdout).toContain('stopped');
  });
});
