/**
 * `npm run chaos [-- <kill|broker|registry|storm>...] [--client ...] [--guarantee ...] [--quick] [--seed N]`:
 * the resilience scenarios of issue 14, each under load and checked against an independent reference;
 * writes bench/results/chaos/<scenario>-<client>-<guarantee>.json and regenerates RELIABILITY.md.
 * Exits 1 when a scenario missed a check.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from './lib/harness.ts';
import { machineInfo } from './lib/machine.ts';
import { log } from './lib/progress.ts';
import { writeResult } from './lib/results.ts';
import { FAULT_SCRIPTS } from './chaos/faults.ts';
import { parseChaosCommand } from './chaos/options.ts';
import { renderReliability } from './chaos/report.ts';
import { runScenario } from './chaos/scenario.ts';

const root = join(import.meta.dirname, '..');
let command;
try {
  command = parseChaosCommand(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(2);
}
const resultsDir = join(root, 'bench', 'results', 'chaos');
const markdownFile = join(root, 'RELIABILITY.md');
const findingsFile = join(root, 'bench', 'chaos', 'FINDINGS.md');
const findings = existsSync(findingsFile) ? readFileSync(findingsFile, 'utf8') : '';

const endpoints = await connect();
const runId = `chaos-${randomUUID().slice(0, 6)}`;
const tmpRoot = join(root, 'bench', 'tmp', 'chaos', runId);
mkdirSync(tmpRoot, { recursive: true });
const env = { brokers: endpoints.brokers, registryUrl: endpoints.registryUrl, runId, tmpRoot, machine: machineInfo() };
log(`chaos: ${command.specs.length} scenario run(s) at size ${command.size}, seed ${command.specs[0]?.seed}; load average ${env.machine.load_average_at_start} on ${env.machine.cores} cores`);
const started = Date.now();
const failed: string[] = [];
for (const spec of command.specs) {
  log(`=== ${spec.scenario} (${spec.client}, ${spec.guarantee}) ===`);
  const result = await runScenario(env, spec, FAULT_SCRIPTS[spec.scenario]);
  process.stdout.write(`${writeResult(resultsDir, result)}\n`);
  renderReliability(resultsDir, markdownFile, findings);
  const missed = result.targets.filter((t) => !t.met).map((t) => `${t.label}: ${t.measured}`);
  if (missed.length) failed.push(`${result.benchmark}: ${missed.join('; ')} (repeat: ${result.repro})`);
  log(`${result.benchmark}: ${result.passed ? 'passed' : `FAILED: ${missed.join('; ')}`}`);
  if (result.loss_places) log(`${result.benchmark}: outputs missing at: ${result.loss_places.join('; ')}`);
}
log(`chaos: done in ${Math.round((Date.now() - started) / 1000)} s; RELIABILITY.md regenerated`);
if (failed.length) {
  process.stderr.write(`chaos: ${failed.length} scenario run(s) missed a check:\n${failed.map((f) => `  ${f}`).join('\n')}\n`);
  process.exit(1);
}
process.exit(0);
