import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../../bench/lib/options.ts';

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseCommand(argv, env, '/tmp/results', '/tmp/BENCHMARKS.md').options;

describe('benchmark options', () => {
  it('runs the pipeline on one instance unless --instances (or BENCH_INSTANCES) says more', () => {
    expect(parse(['pipeline']).instances).toBe(1);
    expect(parse(['pipeline', '--instances', '2']).instances).toBe(2);
    expect(parse(['pipeline'], { BENCH_INSTANCES: '3' }).instances).toBe(3);
    // Instances do not change the workload's size: the standard size stays standard.
    expect(parse(['pipeline', '--instances', '2']).size).toBe('standard');
  });

  it('refuses a count that is not a number, naming it', () => {
    expect(() => parse(['--instances', 'two'])).toThrow(/expected a non-negative number, got "two"/);
  });
});
