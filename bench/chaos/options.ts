import { parseArgs } from 'node:util';
import { KAFKA_CLIENTS, type KafkaClientName } from '../../src/streams/index.ts';
import type { Guarantee } from '../lib/service-under-test.ts';
import { SCENARIOS, type ScenarioName, type ScenarioSpec } from './scenario.ts';

const GUARANTEES = ['exactly_once', 'at_least_once'] as const;

/**
 * What `npm run chaos` runs by default: every scenario under exactly-once, at-least-once where it is cheap
 * (kill), the scale-out scenarios of issue 18 (elastic, brokers3) included.
 */
const DEFAULT_MATRIX: ReadonlyArray<[ScenarioName, KafkaClientName, Guarantee]> = [
  ['kill', 'platformatic', 'exactly_once'],
  ['kill', 'platformatic', 'at_least_once'],
  ['broker', 'platformatic', 'exactly_once'],
  ['registry', 'platformatic', 'exactly_once'],
  ['storm', 'platformatic', 'exactly_once'],
  ['elastic', 'platformatic', 'exactly_once'],
  ['brokers3', 'platformatic', 'exactly_once'],
];

type Size = Omit<ScenarioSpec, 'scenario' | 'client' | 'guarantee' | 'seed'>;

/** standard: `npm run chaos`; quick: the variant `npm test` runs (one short fault of each kind). */
export const SIZES: Record<'standard' | 'quick', Record<ScenarioName, Size>> = {
  standard: {
    kill: { instances: 2, partitions: 4, users: 200, rate: 40, faults: 3, outageSeconds: [], stormIntervalSeconds: 0, steadySeconds: 5 },
    broker: { instances: 2, partitions: 4, users: 200, rate: 40, faults: 0, outageSeconds: [10, 60], stormIntervalSeconds: 0, steadySeconds: 5 },
    registry: { instances: 2, partitions: 4, users: 200, rate: 40, faults: 0, outageSeconds: [20], stormIntervalSeconds: 0, steadySeconds: 5 },
    storm: { instances: 1, partitions: 4, users: 200, rate: 40, faults: 6, outageSeconds: [], stormIntervalSeconds: 5, steadySeconds: 5 },
    // 1 -> 2 -> 3 -> 2 -> 1 one instance at a time, then 1 -> 3 -> 1 two at a time.
    elastic: { instances: 1, partitions: 4, users: 200, rate: 40, faults: 0, outageSeconds: [], stormIntervalSeconds: 0, steadySeconds: 5, steps: [2, 3, 2, 1, 3, 1], standbyReplicas: 1 },
    brokers3: {
      instances: 2, partitions: 4, users: 200, rate: 40, faults: 0, outageSeconds: [], stormIntervalSeconds: 0, steadySeconds: 5,
      brokerStops: [{ seconds: 15, signal: 'SIGTERM' }, { seconds: 15, signal: 'SIGKILL' }, { seconds: 15, signal: 'SIGTERM' }, { seconds: 15, signal: 'SIGKILL' }],
    },
  },
  quick: {
    kill: { instances: 2, partitions: 2, users: 40, rate: 20, faults: 1, outageSeconds: [], stormIntervalSeconds: 0, steadySeconds: 2 },
    broker: { instances: 1, partitions: 2, users: 40, rate: 20, faults: 0, outageSeconds: [10], stormIntervalSeconds: 0, steadySeconds: 2 },
    registry: { instances: 1, partitions: 2, users: 40, rate: 20, faults: 0, outageSeconds: [8], stormIntervalSeconds: 0, steadySeconds: 2 },
    storm: { instances: 1, partitions: 2, users: 40, rate: 20, faults: 2, outageSeconds: [], stormIntervalSeconds: 4, steadySeconds: 2 },
    elastic: { instances: 1, partitions: 4, users: 40, rate: 20, faults: 0, outageSeconds: [], stormIntervalSeconds: 0, steadySeconds: 2, steps: [3, 1], standbyReplicas: 1 },
    // The case, a broker stopped (SIGTERM); kill -9 runs in the standard size (bench/chaos/FINDINGS.md says why not here).
    brokers3: { instances: 1, partitions: 2, users: 40, rate: 20, faults: 0, outageSeconds: [], stormIntervalSeconds: 0, steadySeconds: 2, brokerStops: [{ seconds: 8, signal: 'SIGTERM' }] },
  },
};

export interface ChaosCommand {
  readonly specs: ScenarioSpec[];
  readonly size: 'standard' | 'quick';
}

export function chaosUsage(): string {
  return `usage: npm run chaos [-- <${SCENARIOS.join('|')}>...] [--guarantee exactly_once,at_least_once] [--quick] [--seed N] [--standby N]
Without --guarantee: every scenario exactly-once, kill also at-least-once. With it: every chosen scenario under every chosen guarantee.
--standby N: STANDBY_REPLICAS of every instance (default: 1 for elastic, 0 elsewhere).
--quick: one short fault of each kind (what the chaos test in npm test runs). Results: bench/results/chaos/*.json and RELIABILITY.md.`;
}

export function parseChaosCommand(argv: readonly string[]): ChaosCommand {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { client: { type: 'string' }, guarantee: { type: 'string' }, quick: { type: 'boolean' }, seed: { type: 'string' }, standby: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help) throw new Error(chaosUsage());
  const bad = positionals.filter((p) => !(SCENARIOS as readonly string[]).includes(p));
  if (bad.length > 0) throw new Error(`unknown scenario ${bad.join(', ')}\n${chaosUsage()}`);
  const scenarios = (positionals.length > 0 ? positionals : [...SCENARIOS]) as ScenarioName[];
  const list = <T extends string>(raw: string | undefined, allowed: readonly T[], flag: string): T[] | undefined => {
    if (raw === undefined) return undefined;
    const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
    const wrong = items.filter((i) => !(allowed as readonly string[]).includes(i));
    if (wrong.length > 0 || items.length === 0) throw new Error(`--${flag} ${raw}: expected ${allowed.join(' and/or ')}\n${chaosUsage()}`);
    return items as T[];
  };
  const clients = list(values.client, KAFKA_CLIENTS, 'client');
  const guarantees = list(values.guarantee, GUARANTEES, 'guarantee');
  const seed = values.seed === undefined ? Math.floor(Math.random() * 1_000_000) : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed >= 1_000_000) throw new Error(`--seed ${values.seed}: expected an integer from 0 to 999999`);
  const size = values.quick ? 'quick' : 'standard';
  const standby = values.standby === undefined ? undefined : Number(values.standby);
  if (standby !== undefined && !(Number.isInteger(standby) && standby >= 0 && standby <= 3)) throw new Error(`--standby ${values.standby}: expected an integer from 0 to 3`);
  const pairs: Array<[ScenarioName, KafkaClientName, Guarantee]> = clients || guarantees
    ? scenarios.flatMap((s) => (clients ?? ['platformatic']).flatMap((c) => (guarantees ?? ['exactly_once']).map((g) => [s, c, g] as [ScenarioName, KafkaClientName, Guarantee])))
    : DEFAULT_MATRIX.filter(([s]) => scenarios.includes(s));
  return { size, specs: pairs.map(([scenario, client, guarantee]) => ({ scenario, client, guarantee, seed, ...SIZES[size][scenario], ...(standby !== undefined ? { standbyReplicas: standby } : {}) })) };
}
