import { cruise, type ICruiseOptions, type ICruiseResult, type IForbiddenRuleType } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { beforeAll, describe, expect, it } from 'vitest';

// The layering STYLE.md asks for, as dependency-cruiser rules (.dependency-cruiser.cjs): no cycles; src/streams
// imports nothing of the app; the domain imports no I/O library, not even through another module; only the
// Kafka port modules import a Kafka client; the independent test oracles (test/support/independent-*) import nothing of
// src but the batch and profile types.
const ROOTS = ['src', 'bench', 'test', 'stack'];

let options: ICruiseOptions;
const tsConfig = extractTSConfig('tsconfig.json');

async function violations(opts: ICruiseOptions, roots = ROOTS): Promise<string[]> {
  const result = await cruise(roots, opts, undefined, { tsConfig });
  const output = result.output as ICruiseResult;
  return output.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}${v.cycle ? ` (cycle ${v.cycle.map((c) => c.name).join(' -> ')})` : ''}`);
}

function rule(name: string): IForbiddenRuleType {
  const found = options.ruleSet?.forbidden?.find((r) => r.name === name);
  if (!found) throw new Error(`no rule ${name} in .dependency-cruiser.cjs`);
  return found;
}

beforeAll(async () => {
  options = await extractDepcruiseOptions('./.dependency-cruiser.cjs');
});

describe('dependencies point one way', () => {
  it('src, bench, test and stack break none of the rules', async () => {
    expect(await violations(options)).toEqual([]);
  });

  it('has every rule, with no allowed list of exceptions', () => {
    const names = options.ruleSet?.forbidden?.map((r) => r.name);
    expect(names).toEqual(['no-cycles', 'streams-stands-alone', 'domain-imports-no-io', 'domain-imports-no-wiring', 'kafka-client-only-in-ports', 'independent-oracle-shares-nothing']);
    expect(options.ruleSet?.allowed ?? []).toEqual([]);
    expect(options.ruleSet?.required ?? []).toEqual([]);
  });

  // A rule whose pattern never matches a resolved path passes forever (a node_modules exclude once hid every
  // library): the same rules, aimed at modules that do import those libraries, must report them.
  it('the I/O and Kafka client rules match the libraries as they resolve', async () => {
    const aimed = (name: string, from: string): IForbiddenRuleType => ({ ...rule(name), from: { path: from } });
    const found = await violations(
      { ...options, ruleSet: { forbidden: [aimed('domain-imports-no-io', '^src/config/yaml-document[.]ts$'), aimed('kafka-client-only-in-ports', '^src/app/kafka/keyed-producer[.]ts$')] } },
      ['src/config/yaml-document.ts', 'src/app/kafka/keyed-producer.ts'],
    );
    expect(found.some((v) => v.startsWith('domain-imports-no-io: src/config/yaml-document.ts -> node_modules/yaml/'))).toBe(true);
    expect(found.some((v) => v.startsWith('domain-imports-no-io: src/config/yaml-document.ts -> fs/promises'))).toBe(true);
    expect(found.some((v) => v.startsWith('kafka-client-only-in-ports: src/app/kafka/keyed-producer.ts -> node_modules/@platformatic/kafka/'))).toBe(true);
  });

  // The same check for the oracle rule: aimed at a test that does import the merge, it must report it.
  it('the independent-oracle rule reports an import of the code under test', async () => {
    const aimed: IForbiddenRuleType = { ...rule('independent-oracle-shares-nothing'), from: { path: '^test/unit/profiles/merge-batch[.]test[.]ts$' } };
    const found = await violations({ ...options, ruleSet: { forbidden: [aimed] } }, ['test/unit/profiles/merge-batch.test.ts']);
    expect(found).toContain('independent-oracle-shares-nothing: test/unit/profiles/merge-batch.test.ts -> src/profiles/merge-batch.ts');
    expect(found.some((v) => v.includes('-> src/schema/batch.ts'))).toBe(false);
  });
});
