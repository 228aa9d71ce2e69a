import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAudiencesConfig } from '../../../src/config/audiences-config.ts';
import { parseCalculatedAttributesConfig } from '../../../src/config/calculated-attributes-config.ts';
import { AUDIENCE_ERROR_CODES, AudiencesConfigError } from '../../../src/audiences/errors.ts';

function problem(fn: () => unknown): AudiencesConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AudiencesConfigError);
    return e as AudiencesConfigError;
  }
  throw new Error('expected an error');
}

describe('topology/calculated-attributes.yaml', () => {
  it('the shipped file is valid', () => {
    const defs = parseCalculatedAttributesConfig(readFileSync('topology/calculated-attributes.yaml', 'utf8'), 'topology/calculated-attributes.yaml');
    expect(defs.length).toBeGreaterThan(0);
  });

  it('names the path and line of a bad calculation, a missing attribute, two ranges, an unknown key', () => {
    const base = 'calculated_attributes:\n  - name: a\n    workspace: "1"\n    event: { name: x }\n';
    const e1 = problem(() => parseCalculatedAttributesConfig(`${base}    calculation: median\n`, 'c.yaml'));
    expect(e1.code).toBe('PS_ERR_AUDIENCES_CONFIG_INVALID');
    expect(e1.path).toBe('calculated_attributes[0].calculation');
    expect(e1.line).toBe(5);
    expect(problem(() => parseCalculatedAttributesConfig(`${base}    calculation: sum\n`, 'c.yaml')).message).toMatch(/sum needs an attribute .* at c\.yaml:/);
    expect(problem(() => parseCalculatedAttributesConfig(`${base}    calculation: count\n    within_days: 3\n    since: 2024-01-01\n`, 'c.yaml')).line).toBe(7);
    expect(problem(() => parseCalculatedAttributesConfig(`${base}    calculation: count\n    colour: red\n`, 'c.yaml')).path).toBe('calculated_attributes[0].colour');
    expect(problem(() => parseCalculatedAttributesConfig(`${base}    calculation: count\n    since: yesterday\n`, 'c.yaml')).path).toBe('calculated_attributes[0].since');
    expect(problem(() => parseCalculatedAttributesConfig(`${base}    calculation: count\n    event: { name: x, where: [{ attribute: a, operator: in, value: b }] }\n`.replace('    event: { name: x }\n', ''), 'c.yaml')).path).toMatch(/event\.where\[0\]/);
  });

  it('versions are a stable content hash: reformatting keeps them, any change makes a new one', () => {
    const one = parseCalculatedAttributesConfig('calculated_attributes:\n  - { name: a, workspace: "1", calculation: count, event: { name: x }, within_days: 3 }\n', 'c.yaml')[0]!;
    const same = parseCalculatedAttributesConfig('calculated_attributes:\n  - within_days: 3\n    event:\n      name: x\n    calculation: count\n    workspace: "1"\n    name: a\n', 'c.yaml')[0]!;
    const other = parseCalculatedAttributesConfig('calculated_attributes:\n  - { name: a, workspace: "1", calculation: count, event: { name: x }, within_days: 4 }\n', 'c.yaml')[0]!;
    expect(same.version).toBe(one.version);
    expect(other.version).not.toBe(one.version);
    expect(Number.isInteger(one.version) && one.version > 0 && one.version < 2 ** 31).toBe(true);
  });
});

describe('topology/audiences.yaml', () => {
  it('the shipped file is valid and ordered by member_of', () => {
    const audiences = parseAudiencesConfig(readFileSync('topology/audiences.yaml', 'utf8'), 'topology/audiences.yaml');
    expect(audiences.length).toBeGreaterThan(0);
  });

  it('names the path and line of a bad condition, an unknown audience and a cycle', () => {
    const a = (criteria: string) => `audiences:\n  - id: a\n    name: A\n    workspace: "1"\n    criteria:\n${criteria}`;
    const bad = problem(() => parseAudiencesConfig(a('      all:\n        - user_attribute: tier\n          operator: bigger\n'), 'a.yaml'));
    expect(bad.path).toBe('audiences[0].criteria.all[0]');
    expect(bad.message).toMatch(/unknown operator bigger .* at a\.yaml:7/);
    expect(problem(() => parseAudiencesConfig(a('      colour: red\n'), 'a.yaml')).line).toBe(6);
    expect(problem(() => parseAudiencesConfig(a('      member_of: nobody\n'), 'a.yaml')).message).toMatch(/unknown audience nobody/);
    const cycle = 'audiences:\n  - { id: a, name: A, workspace: "1", criteria: { member_of: b } }\n  - { id: b, name: B, workspace: "1", criteria: { not: { member_of: a } } }\n';
    expect(problem(() => parseAudiencesConfig(cycle, 'a.yaml')).message).toMatch(/cycle/);
    expect(problem(() => parseAudiencesConfig(a('      event: { name: x }\n      at_least: 1\n      at_most: 2\n'), 'a.yaml')).message).toMatch(/one of at_least/);
  });

  it('names the audience that refers to an unknown one, and every audience on a cycle', () => {
    const chain = 'audiences:\n  - { id: a, name: A, workspace: "1", criteria: { member_of: b } }\n  - { id: b, name: B, workspace: "1", criteria: { member_of: nobody } }\n';
    const unknown = problem(() => parseAudiencesConfig(chain, 'a.yaml'));
    expect(unknown.path).toBe('audiences[1].criteria');
    expect(unknown.line).toBe(3);
    const cycle = 'audiences:\n  - { id: a, name: A, workspace: "1", criteria: { member_of: b } }\n  - { id: b, name: B, workspace: "1", criteria: { any: [{ member_of: c }] } }\n  - { id: c, name: C, workspace: "1", criteria: { not: { member_of: a } } }\n';
    expect(problem(() => parseAudiencesConfig(cycle, 'a.yaml')).problem).toBe('member_of forms a cycle: a -> b -> c -> a');
    expect(problem(() => parseAudiencesConfig('audiences:\n  - { id: a, name: A, workspace: "1", criteria: { member_of: a } }\n', 'a.yaml')).problem).toMatch(/cycle: a -> a/);
  });

  it('with the calculated attributes given (as at start), rejects a condition on one that is not defined in the workspace', () => {
    const defined = [{ name: 'spend', workspace: '1' }, { name: 'plays', workspace: '2' }];
    const text = (name: string) => `audiences:\n  - id: a\n    name: A\n    workspace: "1"\n    criteria:\n      any:\n        - identity_exists: email\n        - not:\n            calculated_attribute: ${name}\n            operator: exists\n`;
    expect(parseAudiencesConfig(text('spend'), 'a.yaml', { calculatedAttributes: defined }).map((a) => a.id)).toEqual(['a']);
    const typo = problem(() => parseAudiencesConfig(text('spnd'), 'a.yaml', { calculatedAttributes: defined }));
    expect(typo.path).toBe('audiences[0].criteria.any[1].not.calculated_attribute');
    expect(typo.line).toBe(9);
    expect(typo.problem).toBe('no calculated attribute spnd in workspace 1 (calculated-attributes.yaml)');
    expect(problem(() => parseAudiencesConfig(text('plays'), 'a.yaml', { calculatedAttributes: defined })).problem)
      .toBe('no calculated attribute plays in workspace 1 (calculated-attributes.yaml defines it in workspace 2)');
  });

  it('the shipped audiences only name calculated attributes the shipped file defines', () => {
    const calculatedAttributes = parseCalculatedAttributesConfig(readFileSync('topology/calculated-attributes.yaml', 'utf8'), 'topology/calculated-attributes.yaml');
    expect(() => parseAudiencesConfig(readFileSync('topology/audiences.yaml', 'utf8'), 'topology/audiences.yaml', { calculatedAttributes })).not.toThrow();
  });

  it('returns audiences after those they are members of', () => {
    const text = 'audiences:\n  - { id: b, name: B, workspace: "1", criteria: { member_of: a } }\n  - { id: a, name: A, workspace: "1", criteria: { identity_exists: email } }\n';
    expect(parseAudiencesConfig(text, 'a.yaml').map((x) => x.id)).toEqual(['a', 'b']);
  });
});

describe('src/audiences/README.md', () => {
  it('its YAML examples are valid configuration', () => {
    const blocks = [...readFileSync('src/audiences/README.md', 'utf8').matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks).toHaveLength(2);
    expect(parseCalculatedAttributesConfig(blocks[0]!, 'README calculated attributes').map((d) => d.name)).toEqual(['purchases_last_30_days', 'total_spend']);
    const calculatedAttributes = parseCalculatedAttributesConfig(blocks[0]!, 'README calculated attributes');
    expect(parseAudiencesConfig(blocks[1]!, 'README audiences', { calculatedAttributes }).map((a) => a.id)).toEqual(['churned', 'active-buyers']);
  });
});

describe('audience domain errors', () => {
  it('documents every error code in src/audiences/README.md', () => {
    const readme = readFileSync('src/audiences/README.md', 'utf8');
    for (const code of AUDIENCE_ERROR_CODES) expect(readme, code).toContain(`\`${code}\``);
  });
});
