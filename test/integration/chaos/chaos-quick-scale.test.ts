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
 * The scale-out scenarios of issue 18 in their quick size (`npm run chaos -- elastic brokers3 --quick`), each
 * under load and checked against the chaos suite's independent reference: **elastic** goes 1 -> 3 -> 1
 * instances (STANDBY_REPLICAS=1, the leave a SIGTERM) with the API asked through the instances in rotation;
 * **brokers3** stops one broker of a private three-broker cluster (replication factor 3, min.insync.replicas 2)
 * with SIGTERM (the one coordinating the service's group) and starts it again (the kill -9 variant is in the full run only: it can make an instance exit,
 * an engine bug written down in bench/chaos/FINDINGS.md, which this test would then report as an exit). Asserted: the data and the answers (no exit, nothing the input topic holds lost or
 * duplicated, no dead letter, every profile and every API answer right, every step rebalanced and caught up,
 * every fault resumed). How long the steps took and the share of 200s are printed,
 * not asserted: a quick run sends a few hundred requests, too few to tell 99.9% from 99%; the full run's
 * RELIABILITY.md holds the issue's target against them.
 */
describe.concurrent('chaos suite, quick variant of the scale-out scenarios (exactly-once)', () => {
  const client = testKafkaClient() ?? DEFAULT_KAFKA_CLIENT;
  let env: ChaosEnvironment;
  beforeAll(async () => {
    env = { brokers: kafkaBrokers(), registryUrl: schemaRegistryUrl(), runId: uniqueName('chaosqs'), tmpRoot: await mkdtemp(join(tmpdir(), 'ps-chaos-scale-')), machine: machineInfo() };
  });
  afterAll(async () => {
    if (env) await rm(env.tmpRoot, { recursive: true, force: true });
  });

  const check = (r: ChaosResult): void => {
    const a = r.api_availability;
    console.log(`${r.benchmark}: ${r.batches} batches; ${r.steps?.map((s) => `${s.instances_before} -> ${s.instances_after} rebalanced ${s.rebalance_ms ?? '-'} ms, caught up ${s.catch_up_ms ?? '-'} ms`).join('; ') ?? ''}; ` +
      `${r.faults.map((f) => `${f.kind} resumed after ${f.resume_ms ?? '-'} ms`).join('; ')}; API right ${a ? `${a.right} of ${a.requests}` : '-'}, 503 by reason ${JSON.stringify(r.api.not_ready_reasons)}; load ${JSON.stringify(r.load_average_during)}; service pauses ${JSON.stringify(r.service_pauses)}`);
    expect(r.error).toBeUndefined();
    expect(r.exits).toEqual([]);
    expect(r.faults_injected).toBeGreaterThan(0);
    expect(r.batches).toBeGreaterThan(0);
    expect(Object.fromEntries(Object.entries(r.topics).map(([t, x]) => [t, { lost: x.lost, duplicated: x.duplicated, unexpected: x.unexpected, examples: [...x.lostExamples, ...x.duplicatedExamples] }])))
      .toEqual(Object.fromEntries(Object.keys(r.topics).map((t) => [t, { lost: 0, duplicated: 0, unexpected: 0, examples: [] }])));
    // Checked against what the input holds (read back), not the load producer's acknowledgements.
    expect(r.input?.batches).toBeGreaterThan(0);
    expect(r.stale_examples).toEqual([]);
    expect(r.dead_letters).toEqual({});
    expect(r.profile_examples).toEqual([]);
    expect(r.profiles_checked).toBe(r.parameters.users);
    expect(r.api.wrong_examples).toEqual([]);
    expect(r.api.other_status).toEqual({});
    expect(r.api.ok_200).toBeGreaterThan(0);
    expect(r.faults.filter((f) => f.resume_ms === undefined)).toEqual([]);
  };

  const scenarios: ScenarioName[] = ['elastic', 'brokers3'];
  for (const scenario of scenarios) {
    it(`${scenario}: nothing lost, duplicated or answered wrong`, async () => {
      const spec = { scenario, client, guarantee: 'exactly_once' as const, seed: Math.floor(Math.random() * 1_000_000), ...SIZES.quick[scenario] };
      const r = await runScenario(env, spec, FAULT_SCRIPTS[scenario]);
      check(r);
      if (scenario === 'elastic') {
        expect(r.steps?.map((s) => [s.instances_before, s.instances_after])).toEqual([[1, 3], [3, 1]]);
        expect(r.steps?.filter((s) => s.rebalance_ms === undefined || s.catch_up_ms === undefined)).toEqual([]);
      }
    }, 400_000);
  }
});
