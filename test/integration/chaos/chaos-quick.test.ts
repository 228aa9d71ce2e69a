import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAULT_SCRIPTS } from '../../../bench/chaos/faults.ts';
import { SIZES } from '../../../bench/chaos/options.ts';
import { runScenario, type ChaosEnvironment, type ChaosResult, type ScenarioName } from '../../../bench/chaos/scenario.ts';
import { machineInfo } from '../../../bench/lib/machine.ts';
import { DEFAULT_KAFKA_CLIENT } from '../../../src/streams/index.ts';
import { kafkaBrokers, schemaRegistryUrl, testKafkaClient, uniqueName } from '../../support/stack-env.ts';

/**
 * `npm run chaos --quick` inside the test suite: one short fault of each kind (a kill -9 with immediate
 * restart, a 10 s broker outage on a private broker, a registry outage with an instance restarted during
 * it, two joins/leaves), each under load and checked against the chaos suite's independent reference.
 * The four run at once (their topics, groups, broker and registry are their own). Asserted: the data and
 * the answers (no exit, nothing lost or duplicated, no dead letter, every profile and every API answer
 * right, every fault resumed within the suite's deadline). How fast each resumed is printed, not asserted:
 * on a shared two-core machine that is the full suite's report (RELIABILITY.md), not a pass/fail test.
 */
describe.concurrent('chaos suite, quick variant (exactly-once)', () => {
  const client = testKafkaClient() ?? DEFAULT_KAFKA_CLIENT;
  let env: ChaosEnvironment;
  beforeAll(async () => {
    env = { brokers: kafkaBrokers(), registryUrl: schemaRegistryUrl(), runId: uniqueName('chaosq'), tmpRoot: await mkdtemp(join(tmpdir(), 'ps-chaos-')), machine: machineInfo() };
  });
  afterAll(async () => {
    if (env) await rm(env.tmpRoot, { recursive: true, force: true });
  });

  const check = (r: ChaosResult): void => {
    console.log(`${r.benchmark}: ${r.batches} batches, faults ${r.faults.map((f) => `${f.kind} resumed after ${f.resume_ms ?? '-'} ms (API ${f.api_resume_ms ?? '-'} ms)`).join('; ')}; API ${JSON.stringify(r.api)}${r.notes.length > 0 ? `; notes: ${r.notes.join('; ')}` : ''}${r.loss_places ? `; outputs missing at: ${r.loss_places.join('; ')}` : ''}`);
    expect(r.error).toBeUndefined();
    expect(r.exits).toEqual([]);
    expect(r.faults_injected).toBeGreaterThan(0);
    expect(r.batches).toBeGreaterThan(0);
    expect(Object.fromEntries(Object.entries(r.topics).map(([t, a]) => [t, { lost: a.lost, duplicated: a.duplicated, unexpected: a.unexpected, examples: [...a.lostExamples, ...a.duplicatedExamples] }])))
      .toEqual(Object.fromEntries(Object.keys(r.topics).map((t) => [t, { lost: 0, duplicated: 0, unexpected: 0, examples: [] }])));
    expect(r.stale_examples).toEqual([]);
    expect(r.dead_letters).toEqual({});
    expect(r.profile_examples).toEqual([]);
    expect(r.profiles_checked).toBe(r.parameters.users);
    expect(r.api.wrong_examples).toEqual([]);
    expect(r.api.other_status).toEqual({});
    expect(r.api.ok_200).toBeGreaterThan(0);
    expect(r.faults.filter((f) => f.resume_ms === undefined)).toEqual([]);
  };

  const scenarios: ScenarioName[] = ['kill', 'broker', 'registry', 'storm'];
  for (const scenario of scenarios) {
    it(`${scenario}: nothing lost, duplicated or answered wrong`, async () => {
      const spec = { scenario, client, guarantee: 'exactly_once' as const, seed: Math.floor(Math.random() * 1_000_000), ...SIZES.quick[scenario] };
      check(await runScenario(env, spec, FAULT_SCRIPTS[scenario]));
    }, 600_000);
  }
});
