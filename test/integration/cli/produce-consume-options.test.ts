import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaBrokers, schemaRegistryUrl } from '../../support/stack-env.ts';
import { testDeployment } from '../../support/test-deployment.ts';

const BIN = resolve('bin/profile-stream.js');

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 120_000 }, (error, stdout, stderr) => {
      done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** `topic:partition@offset  mpid M  source_request_id ID` lines of produce's output. */
function sentLines(stdout: string): { topic: string; partition: number; offset: number; id: string }[] {
  return [...stdout.matchAll(/^(\S+):(\d+)@(\d+) +mpid \d+ +source_request_id (\S+)$/gm)].map((m) => ({ topic: m[1]!, partition: Number(m[2]), offset: Number(m[3]), id: m[4]! }));
}

function jsonLines(stdout: string): { partition: number; offset: string; value: { source: string; source_request_id: string } }[] {
  return stdout.trim() === '' ? [] : stdout.trim().split('\n').map((l) => JSON.parse(l));
}

describe('produce and consume options (no service needed: raw topics only)', () => {
  const { deployment, appYaml, integrationsYaml } = testDeployment({ sources: ['web', 'ios', 'tv'] });
  const [webTopic, iosTopic, tvTopic] = deployment.app.rawTopics as [string, string, string];
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ps-cli-opts-'));
    await writeFile(join(dir, 'app.yaml'), appYaml);
    await writeFile(join(dir, 'integrations.yaml'), integrationsYaml);
    env = { ...process.env, KAFKA_BROKERS: kafkaBrokers().join(','), SCHEMA_REGISTRY_URL: schemaRegistryUrl(), TOPOLOGY_DIR: dir };
    const topics = await cli(['topics'], env);
    expect(topics.code, topics.stderr).toBe(0);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('produce --file sends each batch to its own source, the rest to --source', async () => {
    const file = join(dir, 'batches.jsonl');
    await writeFile(file, [JSON.stringify({ mpid: '11', source_request_id: 'f-ios', source: 'ios' }), JSON.stringify({ mpid: '12', source_request_id: 'f-web' })].join('\n'));
    const produced = await cli(['produce', '--file', file], env);
    expect(produced.code, produced.stderr).toBe(0);
    const sent = sentLines(produced.stdout);
    expect(sent.map((s) => [s.id, s.topic]).sort()).toEqual([['f-ios', iosTopic], ['f-web', webTopic]]);
    const ios = await cli(['consume', iosTopic, '--from', 'beginning', '--timeout', '5'], env);
    expect(jsonLines(ios.stdout).map((l) => [l.value.source_request_id, l.value.source, l.partition, Number(l.offset)])).toEqual([['f-ios', 'ios', sent.find((s) => s.id === 'f-ios')!.partition, sent.find((s) => s.id === 'f-ios')!.offset]]);
  });

  it('produce --file with an undeclared source produces nothing: PS_ERR_CLI_INVALID_BATCHES', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify([{ mpid: '13', source: 'android' }, { mpid: '14' }]));
    const produced = await cli(['produce', '--file', file], env);
    expect(produced.code).toBe(1);
    expect(produced.stderr).toContain('[PS_ERR_CLI_INVALID_BATCHES]');
    expect(produced.stderr).toContain('batch 0: $.source');
    expect(sentLines(produced.stdout)).toEqual([]);
  });

  it('produce --sample draws new batches each run; the same --seed repeats them and says they will be dropped', async () => {
    const first = sentLines((await cli(['produce', '--sample', '3', '--source', 'ios'], env)).stdout);
    const second = sentLines((await cli(['produce', '--sample', '3', '--source', 'ios'], env)).stdout);
    expect(first.map((s) => s.topic)).toEqual([iosTopic, iosTopic, iosTopic]);
    expect(second.map((s) => s.id).filter((id) => first.some((f) => f.id === id))).toEqual([]);
    const seeded = await cli(['produce', '--sample', '2', '--seed', '77'], env);
    const again = await cli(['produce', '--sample', '2', '--seed', '77'], env);
    expect(sentLines(again.stdout).map((s) => s.id)).toEqual(sentLines(seeded.stdout).map((s) => s.id));
    expect(sentLines(seeded.stdout).map((s) => s.topic)).toEqual([webTopic, webTopic]);
    expect(again.stdout).toContain('dropped as replays');
  });

  it('consume --count N shows the N latest records, oldest first', async () => {
    // A topic no other test here writes: "latest" is by record timestamp (the batch's event time), and a
    // seeded sample produced earlier by another test can carry a later one than a fresh sample.
    const produced = sentLines((await cli(['produce', '--sample', '4', '--source', 'tv'], env)).stdout);
    const consumed = await cli(['consume', tvTopic, '--count', '4', '--timeout', '10'], env);
    expect(consumed.code, consumed.stderr).toBe(0);
    expect(jsonLines(consumed.stdout).map((l) => l.value.source_request_id).sort()).toEqual(produced.map((p) => p.id).sort());
  });

  it('consume --from end prints only what arrives after it is ready', async () => {
    const child = spawn(process.execPath, [BIN, 'consume', iosTopic, '--from', 'end', '--count', '1', '--timeout', '60'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((done) => child.once('exit', done));
    const deadline = Date.now() + 60_000;
    while (!stderr.includes('waiting for new records') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    expect(stderr).toContain('waiting for new records');
    const produced = sentLines((await cli(['produce', '--sample', '1', '--source', 'ios'], env)).stdout);
    expect(await exited).toBe(0);
    expect(jsonLines(stdout).map((l) => l.value.source_request_id)).toEqual(produced.map((p) => p.id));
  });
});

describe('stack status', () => {
  it('with STACK_KAFKA_PORT on a port where nothing listens, says so and exits 1', async () => {
    const port = await new Promise<number>((done) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = server.address() as { port: number };
        server.close(() => done(p));
      });
    });
    const status = await cli(['stack', 'status'], { ...process.env, STACK_KAFKA_PORT: String(port), STACK_REGISTRY_PORT: String(port) });
    expect(status.code).toBe(1);
    const kafkaLine = status.stdout.split('\n').find((l) => l.startsWith(`Kafka 127.0.0.1:${port}:`))!;
    expect(kafkaLine).toBeDefined();
    expect(kafkaLine).not.toMatch(/: running/);
    const registryLine = status.stdout.split('\n').find((l) => l.startsWith(`Schema registry http://127.0.0.1:${port}/`))!;
    expect(registryLine).toBeDefined();
    expect(registryLine).not.toMatch(/: running/);
  });
});
