import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docExamples, type DocExample } from '../../support/doc-examples.ts';
import { kafkaBrokers, schemaRegistryUrl, uniqueName } from '../../support/stack-env.ts';

/**
 * Runs every shell command of the README's and src/api/README.md's ```sh blocks, as written, against a
 * real service on the real stack: the blocks are read from the markdown, so the docs and this test
 * cannot drift. The only changes are the ones a reader's machine would make: the service's port and this
 * run's topic prefix (its own application id, so it shares no topic, group or port with anyone), and
 * `<uuid>` from the answer that created it. README.md runs first: its Profile API example ingests user 42,
 * whom src/api/README.md then reads.
 */
const FILES = ['README.md', 'src/api/README.md'];

/** Not run, each for a reason; any other command of a block is run, so new examples are covered. */
const NOT_RUN: Record<string, string> = {
  'npm install && npm start': 'installing is what this checkout did; the service is the `npm start` started in beforeAll',
  'npm test': 'this test is part of it',
  'npm run stack:down && npx profile-stream stack up --brokers 3': 'would stop the stack this test runs on; test/integration/stack/three-brokers.test.ts starts a three-broker cluster of its own',
  'KAFKA_BROKERS=127.0.0.1:9092,127.0.0.1:9102,127.0.0.1:9112 SCHEMA_REGISTRY_URL=http://127.0.0.1:8081/apis/ccompat/v7 npm start': 'needs the three-broker cluster above; the service on it is what three-brokers.test.ts checks through the runtime',
  'npm start': 'started in beforeAll, as package.json\'s start script runs it (dist/ is built by the global setup)',
  "curl -N -u demo-key-0001:demo-secret 'http://127.0.0.1:8080/v1/live/stream?environment=all&source=web'":
    'a Server-Sent Events stream never ends by itself; test/integration/ui/workspace-views.test.ts reads it in Chromium and the live stream route tests read it through inject',
};

/** Reads answer 404 until the service processed the user's first batch (documented): retried that long. */
const PROCESSING_DEADLINE_MS = 60_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('documented examples run as written', () => {
  const applicationId = uniqueName('docs-ex');
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let service: ChildProcess;
  let log = '';
  let baseUrl = '';
  const results: { example: DocExample; run: Run; status?: number; body?: unknown }[] = [];

  /** The documented command on this machine: this run's port and topics, `<uuid>` from the last answer with a request_id. */
  function localized(command: string): string {
    const lastRequestId = [...results].reverse().map((r) => (r.body as { request_id?: string } | undefined)?.request_id).find(Boolean);
    return command
      .replaceAll('http://127.0.0.1:8080', baseUrl)
      .replace(/\bprofile-stream\.(raw|enriched|dlq|history|audience-memberships|dsr|calculated-attribute-seeds)\b/g, `${applicationId}.$1`)
      .replaceAll('<uuid>', lastRequestId ?? '<uuid>');
  }

  function sh(command: string): Promise<Run> {
    return new Promise((done) => {
      execFile('bash', ['-c', command], { env, cwd: resolve('.'), timeout: 180_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
        done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ps-docs-'));
    // The shipped topology, under this run's application id (topic names in it follow the id).
    await cp('topology', join(dir, 'topology'), { recursive: true });
    for (const name of await readdir(join(dir, 'topology'))) {
      const path = join(dir, 'topology', name);
      const text = await readFile(path, 'utf8');
      await writeFile(path, text.replace(/^application_id: .*$/m, `application_id: ${applicationId}`).replace(/\bprofile-stream\.(?=[a-z])/g, `${applicationId}.`));
    }
    env = {
      ...process.env,
      KAFKA_BROKERS: kafkaBrokers().join(','),
      SCHEMA_REGISTRY_URL: schemaRegistryUrl(),
      TOPOLOGY_DIR: join(dir, 'topology'),
      STATE_DIR: join(dir, 'state'),
      HTTP_PORT: '0',
      LOG_LEVEL: 'warn',
      // npx and npm scripts find node_modules/.bin (Node 24 from the `node` package) first, as in a shell after npm install.
      PATH: `${resolve('node_modules/.bin')}${delimiter}${process.env.PATH ?? ''}`,
    };
    const start = JSON.parse(await readFile('package.json', 'utf8')).scripts.start as string;
    const run = start.split('&&').pop()!.trim().split(/\s+/);
    service = spawn(run[0]!, run.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    service.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    service.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    await new Promise<void>((ready, fail) => {
      const timer = setTimeout(() => fail(new Error(`service did not start within 150 s:\n${log}`)), 150_000);
      service.once('exit', (code) => fail(new Error(`service exited with ${code}:\n${log}`)));
      const check = setInterval(() => {
        const url = /HTTP: +(http:\/\/127\.0\.0\.1:\d+)/.exec(log)?.[1];
        if (log.includes('profile-stream is running') && url) {
          baseUrl = url;
          clearInterval(check);
          clearTimeout(timer);
          ready();
        }
      }, 100);
    });
  });

  afterAll(async () => {
    if (service && service.exitCode === null) {
      const exited = new Promise((done) => service.once('exit', done));
      service.kill('SIGINT');
      await Promise.race([exited, new Promise((done) => setTimeout(done, 20_000))]);
      if (service.exitCode === null) service.kill('SIGKILL');
    }
    await rm(dir, { recursive: true, force: true });
  });

  const examples = FILES.flatMap(docExamples);

  it('finds the examples in the markdown', () => {
    expect(examples.filter((e) => e.command.startsWith('curl')).length).toBeGreaterThanOrEqual(15);
    expect(examples.filter((e) => e.command.startsWith('npx profile-stream')).length).toBeGreaterThanOrEqual(3);
  });

  it.each(examples.map((e) => [`${e.file}:${e.line} ${e.command.split('\n')[0]}`, e] as const))('%s', async (_name, example) => {
    if (NOT_RUN[example.command] !== undefined) {
      expect(NOT_RUN[example.command]!.length).toBeGreaterThan(0);
      return;
    }
    const command = localized(example.command);
    if (command.startsWith('curl ')) {
      // Status on a line of its own after the body; the documented command itself is unchanged.
      const withStatus = `${command} -sS -w '\\n%{http_code}'`;
      const deadline = Date.now() + PROCESSING_DEADLINE_MS;
      let run = await sh(withStatus);
      let status = Number(run.stdout.trim().split('\n').pop());
      const expected = example.expected?.status;
      // A read of a user (or of an erasure request) is 404 until the service processed what created it:
      // documented, so a read is retried that long. Writes are sent once.
      const isRead = !/ -d /.test(command) || /\/resolve\//.test(command);
      while (status === 404 && expected !== 404 && isRead && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        run = await sh(withStatus);
        status = Number(run.stdout.trim().split('\n').pop());
      }
      const bodyText = run.stdout.trim().split('\n').slice(0, -1).join('\n');
      let body: unknown = bodyText;
      try {
        body = JSON.parse(bodyText);
      } catch {
        // /metrics is text
      }
      results.push({ example, run, status, body });
      expect(run.stderr, command).toBe('');
      if (expected !== undefined) {
        expect(status, `${command}\n${bodyText}`).toBe(expected);
        const keys = new Set<string>();
        const collect = (v: unknown): void => {
          if (Array.isArray(v)) v.forEach(collect);
          else if (v && typeof v === 'object') for (const [k, inner] of Object.entries(v)) (keys.add(k), collect(inner));
        };
        collect(body);
        for (const field of example.expected!.fields) expect([...keys], `${command}: documented field ${field}`).toContain(field);
      } else {
        expect(status, `${command}\n${bodyText}`).toBeGreaterThanOrEqual(200);
        expect(status, `${command}\n${bodyText}`).toBeLessThan(300);
      }
      return;
    }
    const run = await sh(command);
    results.push({ example, run });
    expect(run.code, `${command}\n${run.stdout}\n${run.stderr}`).toBe(0);
  });

  it('produce --sample 10 sent 10 new batches to the web topic, and consume --count 10 printed exactly those', () => {
    const produced = results.find((r) => r.example.command === 'npx profile-stream produce --sample 10')!;
    const consumed = results.find((r) => r.example.command.startsWith('npx profile-stream consume'))!;
    const sent = [...produced.run.stdout.matchAll(/^(\S+):(\d+)@(\d+) +mpid (\d+) +source_request_id (\S+)$/gm)];
    expect(sent).toHaveLength(10);
    for (const m of sent) expect(m[1]).toBe(`${applicationId}.raw.web`);
    const lines = consumed.run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { value: { batch: { source_request_id: string; source: string } } });
    expect(lines).toHaveLength(10);
    expect(lines.map((l) => l.value.batch.source_request_id).sort()).toEqual(sent.map((m) => m[5]).sort());
  });

  it('hash-secret prints an scrypt hash, both ways', () => {
    const hashes = results.filter((r) => /hash-secret|hashSecret/.test(r.example.command));
    expect(hashes).toHaveLength(2);
    for (const h of hashes) expect(h.run.stdout.trim()).toMatch(/^scrypt\$[0-9a-f]+\$[0-9a-f]+$/);
  });

  it('the timeline gives each batch its event time and marks a batch that arrived after newer events late', async () => {
    const auth = { authorization: `Basic ${Buffer.from('demo-key-0001:demo-secret').toString('base64')}`, 'content-type': 'application/json' };
    const now = Date.now();
    const send = async (id: string, at: number) => {
      const res = await fetch(`${baseUrl}/v2/events`, { method: 'POST', headers: auth, body: JSON.stringify({ mpid: '777', source_request_id: id, timestamp_unixtime_ms: at, user_attributes: { step: id } }) });
      expect(res.status).toBe(202);
    };
    await send('today', now);
    await send('yesterday', now - 86_400_000);
    const deadline = Date.now() + PROCESSING_DEADLINE_MS;
    let entries: { batch_id: string; batch_ms: number; processed_ms: number; late: boolean }[] = [];
    while (entries.length < 2 && Date.now() < deadline) {
      const res = await fetch(`${baseUrl}/v1/activity/timeline?mpid=777`, { headers: auth });
      entries = res.status === 200 ? ((await res.json()) as { entries: typeof entries }).entries : [];
      if (entries.length < 2) await new Promise((r) => setTimeout(r, 500));
    }
    // Newest first by processing: yesterday's batch arrived last.
    expect(entries.map((e) => [e.batch_id, e.batch_ms, e.late])).toEqual([
      ['yesterday', now - 86_400_000, true],
      ['today', now, false],
    ]);
  });
});
